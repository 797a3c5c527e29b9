"""``billing_ops.compiled.fast_from_db``: instances built without ``Model.__init__`` are the
ones Django's ``from_db`` builds (issue 10), field for field and state for state, through a
kept statement's ``select_related`` too; and it stands aside wherever ``__init__`` would do
more than store the values."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Model
from django.db.models.signals import post_init

from billing_ops.compiled import INT_MARK, CompiledRead, fast_from_db, read_once
from claims.models import Attachment, Claim
from practices.models import Patient, Payer


def _fields(obj: Model) -> dict[str, Any]:
    return {k: v for k, v in obj.__dict__.items() if k != "_state"}


def _state(obj: Model) -> tuple[Any, ...]:
    return (obj._state.adding, obj._state.db, obj._state.fetch_mode)


def test_instances_equal_djangos(world: Any, make_claim: Any) -> None:
    claim = make_claim(owner=world.bill)
    for model, pk in (
        (Claim, claim.pk),
        (Patient, claim.patient_id),
        (Payer, claim.payer_id),
        (get_user_model(), world.bill.pk),
    ):
        names = [f.attname for f in model._meta.concrete_fields]
        row = model._default_manager.filter(pk=pk).values_list(*names).get()
        fast = fast_from_db(model, names, None)
        assert fast is not None, model
        built, django = fast("default", names, row), model.from_db("default", names, row)
        assert type(built) is model and _fields(built) == _fields(django), model
        assert _state(built) == _state(django) and built.pk == pk
        built.save(update_fields=[names[-1]])  # an instance the ORM can save


def test_a_kept_read_with_related_rows_builds_the_orms_objects(world: Any, make_claim: Any) -> None:
    claim = make_claim(owner=world.bill)

    def build(pk: int) -> Any:
        return Claim.objects.filter(pk=pk).select_related("patient", "payer", "owner")

    [kept] = CompiledRead(lambda: Claim, build, (INT_MARK,))(claim.pk)
    [orm] = list(build(claim.pk))
    assert _fields(kept) == _fields(orm) and _state(kept) == _state(orm)
    for name in ("patient", "payer", "owner"):
        assert _fields(getattr(kept, name)) == _fields(getattr(orm, name)), name
        assert _state(getattr(kept, name)) == _state(getattr(orm, name)), name
    assert kept.patient.last_name == orm.patient.last_name


def test_some_fields_build_djangos_deferred_instance(world: Any, make_claim: Any) -> None:
    """Columns left out (``only``/``defer``) are deferred as Django's ``from_db`` defers
    them: absent from ``__dict__``, read from the database when asked for."""
    claim = make_claim(owner=world.bill)
    names = ["id", "practice_id", "first_name", "last_name"]
    row = Patient.objects.filter(pk=claim.patient_id).values_list(*names).get()
    fast = fast_from_db(Patient, names, None)
    assert fast is not None
    built, django = fast("default", names, row), Patient.from_db("default", names, row)
    assert _fields(built) == _fields(django) and _state(built) == _state(django)
    assert built.get_deferred_fields() == django.get_deferred_fields() != set()
    assert built.date_of_birth == claim.patient.date_of_birth  # one read, as Django's

    # Out of the model's order, or a name that is not a column: Django's from_db.
    assert fast_from_db(Patient, ["id", "last_name", "first_name"], None) is None
    assert fast_from_db(Patient, ["id", "full_name"], None) is None


def test_read_once_builds_the_orms_objects(world: Any, make_claim: Any) -> None:
    """``read_once``: a queryset's instances as ``list(queryset)`` builds them, deferred
    related fields included; an annotated queryset goes through the ORM."""
    make_claim(owner=world.bill)
    make_claim()
    queryset = (
        Claim.objects.select_related("patient", "payer", "owner")
        .only(*(f.name for f in Claim._meta.concrete_fields), "patient__last_name", "payer__name")
        .order_by("pk")
    )
    built, orm = read_once(queryset), list(queryset)
    assert len(built) == len(orm) == 2
    for kept, plain in zip(built, orm, strict=True):
        assert _fields(kept) == _fields(plain) and _state(kept) == _state(plain)
        for name in ("patient", "payer", "owner"):
            kept_related, plain_related = getattr(kept, name), getattr(plain, name)
            assert (kept_related is None) == (plain_related is None)
            if plain_related is not None:
                assert _fields(kept_related) == _fields(plain_related), name
        assert kept.patient.get_deferred_fields() == plain.patient.get_deferred_fields()
    annotated = Claim.objects.annotate(n=Count("lines")).order_by("pk")
    assert [(c.pk, c.n) for c in read_once(annotated)] == [(c.pk, c.n) for c in annotated]
    # Nothing to read: no rows and no error, as the ORM (reviewer); values: the ORM's.
    assert read_once(Claim.objects.none()) == read_once(Claim.objects.filter(pk__in=[])) == []
    values = Claim.objects.order_by("pk").values_list("pk", flat=True)
    assert read_once(values) == list(values)


def test_it_stands_aside_where_init_does_more(monkeypatch: Any) -> None:
    # A file field's descriptor wraps its value on set.
    attachment_names = [f.attname for f in Attachment._meta.concrete_fields]
    assert fast_from_db(Attachment, attachment_names, None) is None

    def receiver(**kwargs: Any) -> None:
        pass

    post_init.connect(receiver, sender=Payer)
    try:
        payer_names = [f.attname for f in Payer._meta.concrete_fields]
        assert fast_from_db(Payer, payer_names, None) is None
    finally:
        post_init.disconnect(receiver, sender=Payer)
    assert fast_from_db(Payer, payer_names, None) is not None

    # A model with its own __init__.
    monkeypatch.setattr(Payer, "__init__", lambda self, *a, **k: Model.__init__(self, *a, **k))
    assert fast_from_db(Payer, payer_names, None) is None
