"""Lines and timeline entries of a bulk import written from plain values (issue 7, speed):
``practices.copy_rows.copy_values`` stores what ``copy_rows`` stores for the same values
held in model instances (every column, the history rows naming the actor), and
``billing_ops.bulk.clean_new_values`` answers as ``clean_new_fields`` on an instance
(same errors, same converted values)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing_ops.bulk import clean_new_fields, clean_new_values
from claims.bulk import LINE_COLUMNS
from claims.choices import ActivityKind, NextAction
from claims.imports.reference import cob_label
from claims.models import Claim, ClaimActivity, ClaimLine
from practices.choices import CobOrder
from practices.copy_rows import (
    _json_text,
    copy_rows,
    copy_values,
    copy_values_with_history,
    copy_with_history,
)
from practices.models import Coverage
from tests import claim_factory, factories

LINES: list[dict[str, Any]] = [
    {
        "line_number": 1,
        "procedure_code": "99213",
        "modifiers": ["25", "59"],
        "diagnosis_pointers": [1, 2],
        "tooth": "",
        "surfaces": "",
        "teeth": [],
        "units": Decimal("1.00"),
        "unit_basis": "",
        "charge": Decimal("95.00"),
        "service_date": dt.date(2026, 1, 5),
        "service_date_to": None,
    },
    {
        "line_number": 2,
        "procedure_code": "D2391",
        "modifiers": [],
        "diagnosis_pointers": [],
        "tooth": "31",
        "surfaces": "MO",
        "teeth": [{"tooth": "31", "surfaces": "MO"}, {"tooth": "30", "surfaces": ""}],
        "units": Decimal("15.50"),
        "unit_basis": "MJ",
        "charge": Decimal("1234.56"),
        "service_date": "2026-01-05",  # not plain: through the field's own conversion
        "service_date_to": dt.date(2026, 1, 9),
    },
]


def _claims(world: Any, count: int) -> list[Claim]:
    payer = factories.PayerFactory(practice=world.maple)
    provider = factories.ProviderFactory(practice=world.maple)
    made = []
    for n in range(count):
        patient = factories.PatientFactory(practice=world.maple)
        made.append(
            claim_factory.make(
                actor=world.mia,
                patient=patient,
                coverage=factories.CoverageFactory(patient=patient, payer=payer),
                provider=provider,
                number=f"PLAIN{n}",
                owner=world.mia,
                next_action=NextAction.PREPARE_AND_SUBMIT,
            )
        )
    return made


def _stored(model: Any, claim: Claim, skip: set[str]) -> list[dict[str, Any]]:
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
    return list(model.objects.filter(claim=claim).order_by("pk").values(*fields))


def _history(model: Any, ids: list[int]) -> list[tuple[Any, ...]]:
    rows = model.history.filter(id__in=ids).order_by("history_id")
    return [
        (h.history_type, h.history_user_id, h.line_number, h.procedure_code, h.charge, h.teeth)
        for h in rows
    ]


@pytest.mark.django_db
def test_copy_values_stores_what_copy_rows_stores(world: Any) -> None:
    by_instance, by_values = _claims(world, 2)
    ClaimLine.objects.filter(claim__in=[by_instance, by_values]).delete()
    made = copy_with_history(
        [ClaimLine(claim=by_instance, **values) for values in LINES], ClaimLine, world.mia
    )
    ids = copy_values_with_history(
        ClaimLine,
        LINE_COLUMNS,
        [(by_values.pk, *[values[c] for c in LINE_COLUMNS[1:]]) for values in LINES],
        world.mia,
    )
    assert ids == sorted(ids) and len(ids) == 2
    skip = {"id", "claim_id"}
    assert _stored(ClaimLine, by_values, skip) == _stored(ClaimLine, by_instance, skip)
    stored = _stored(ClaimLine, by_values, skip)
    assert stored[1]["service_date"] == dt.date(2026, 1, 5)
    assert stored[1]["teeth"] == [
        {"tooth": "31", "surfaces": "MO"},
        {"tooth": "30", "surfaces": ""},
    ]
    assert [line.pk for line in by_values.lines.order_by("pk")] == ids
    # History: "+" naming the actor, the values stored, one row per line.
    assert _history(ClaimLine, ids) == _history(ClaimLine, [line.pk for line in made])
    assert [h[:2] for h in _history(ClaimLine, ids)] == [("+", world.mia.pk)] * 2


@pytest.mark.django_db
def test_copy_values_timeline_entries_are_what_copy_rows_writes(world: Any) -> None:
    by_instance, by_values = _claims(world, 2)
    now = timezone.now()
    fields = {
        "kind": ActivityKind.CREATED,
        "text": "Created with 2 line(s).",
        "data": {"a": [1, "x"]},
        "channel": "",
        "contact": "",
        "outcome": "",
        "next_step": "",
    }
    copy_rows([ClaimActivity(claim=by_instance, actor=world.mia, **fields)], ClaimActivity)
    columns = ("claim_id", "actor_id", "at", *fields)
    row = (by_values.pk, world.mia.pk, now, *fields.values())
    copy_values(ClaimActivity, columns, [row])
    skip = {"id", "claim_id", "at"}
    mine = _stored(ClaimActivity, by_values, skip)
    assert mine[-1] == _stored(ClaimActivity, by_instance, skip)[-1]
    assert mine[-1]["data"] == {"a": [1, "x"]} and mine[-1]["actor_id"] == world.mia.pk
    last = ClaimActivity.objects.filter(claim=by_values).order_by("pk").last()
    assert last is not None and last.at == now


@pytest.mark.django_db
def test_copy_values_needs_every_column() -> None:
    with pytest.raises(ValueError, match="every column"):
        copy_values(ClaimLine, LINE_COLUMNS[:-1], [(1,) * (len(LINE_COLUMNS) - 1)])


VALUES: list[dict[str, Any]] = [
    dict(LINES[0]),
    dict(LINES[1]),
    {**LINES[0], "procedure_code": "X" * 11},
    {**LINES[0], "unit_basis": "ZZ"},
    {**LINES[0], "units": Decimal("123456789")},
    {**LINES[0], "charge": None},
    {**LINES[0], "service_date": "not a date"},
    {**LINES[0], "line_number": -1},
    {key: value for key, value in LINES[0].items() if key != "modifiers"},  # its default
]


@pytest.mark.parametrize("values", VALUES)
def test_clean_new_values_answers_as_clean_new_fields(values: dict[str, Any]) -> None:
    def outcome(check: Any) -> Any:
        try:
            return check()
        except ValidationError as exc:
            return exc.message_dict

    def on_instance() -> dict[str, Any]:
        line = ClaimLine(**values)
        clean_new_fields(line, ["claim"])
        return {name: getattr(line, name) for name in values}

    def on_values() -> dict[str, Any]:
        return clean_new_values(ClaimLine, dict(values), ["claim"])

    assert outcome(on_values) == outcome(on_instance)


@pytest.mark.django_db
def test_any_of_selects_what_in_selects(world: Any) -> None:
    # The bulk import's reads by many values (claim numbers, dates of birth, upper-cased
    # names, ids) are written = ANY(array): the same rows as __in.
    from django.db.models.functions import Upper

    from billing_ops.bulk import any_of
    from practices.models import Patient

    claims = _claims(world, 3)
    numbers = {"PLAIN0", "PLAIN2", "NOPE"}
    assert set(Claim.objects.filter(any_of("pms_claim_number", numbers))) == set(
        Claim.objects.filter(pms_claim_number__in=numbers)
    )
    assert {c.pk for c in Claim.objects.filter(any_of("pms_claim_number", numbers))} == {
        claims[0].pk,
        claims[2].pk,
    }
    ids = {claims[1].pk, -1}
    assert list(Claim.objects.filter(any_of("pk", ids))) == [claims[1]]
    patient = claims[0].patient
    by_any = Patient.objects.filter(
        any_of("date_of_birth", {patient.date_of_birth, dt.date(1900, 1, 1)}),
        any_of(Upper("last_name"), {patient.last_name.upper(), "NOBODY"}),
        practice=world.maple,
    )
    by_in = Patient.objects.annotate(upper_last=Upper("last_name")).filter(
        date_of_birth__in={patient.date_of_birth, dt.date(1900, 1, 1)},
        upper_last__in={patient.last_name.upper(), "NOBODY"},
        practice=world.maple,
    )
    assert patient in set(by_any) and set(by_any) == set(by_in)
    assert list(Claim.objects.filter(any_of("pms_claim_number", []))) == []


@pytest.mark.django_db
def test_copy_rows_stores_what_the_orm_stores(world: Any) -> None:
    # copy_rows stores each value held as the column's converter gives it (the value
    # itself when get_db_prep_save would return it unchanged), and an auto_now(_add) time
    # through the field's own pre_save: the rows are those the ORM's bulk_create writes.
    (claim,) = _claims(world, 1)
    skip = {"id", "pms_claim_number", "created_at", "updated_at"}
    fields = {
        f.attname: getattr(claim, f.attname)
        for f in Claim._meta.concrete_fields
        if f.attname not in skip
    }
    variants: list[dict[str, Any]] = [
        {
            "total_billed": Decimal("12.30"),
            "other_payer_paid": None,
            "priority_reasons": ["late", {"days": 3, "why": ["a", None]}],
            "diagnosis_codes": ["J069", "R05"],
            "locked_until": timezone.now(),
        },
        {
            "total_billed": Decimal("0.00"),
            "other_payer_paid": Decimal("5"),
            "total_allowed": "7.50",  # not plain: through the field's own conversion
            "service_date_to": "2026-01-09",
            "priority_reasons": [],
            "diagnosis_codes": [],
            "first_submitted_at": dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC),
        },
    ]

    def build(prefix: str) -> list[Claim]:
        return [
            Claim(**{**fields, **variant, "pms_claim_number": f"{prefix}{n}"})
            for n, variant in enumerate(variants)
        ]

    before = timezone.now()
    copied = copy_rows(build("CR"), Claim)
    Claim.objects.bulk_create(build("BC"))

    def stored(prefix: str) -> list[dict[str, Any]]:
        rows = Claim.objects.filter(pms_claim_number__startswith=prefix).order_by("pk")
        names = [f.attname for f in Claim._meta.concrete_fields if f.attname not in skip]
        return list(rows.values(*names))

    assert stored("CR") == stored("BC")
    assert stored("CR")[1]["total_allowed"] == Decimal("7.50")
    assert stored("CR")[0]["priority_reasons"] == ["late", {"days": 3, "why": ["a", None]}]
    for made in copied:  # the times pre_save set, on the instance as in the row
        row = Claim.objects.values("created_at", "updated_at").get(pk=made.pk)
        assert row == {"created_at": made.created_at, "updated_at": made.updated_at}
        assert made.created_at >= before


@pytest.mark.django_db
def test_copy_rows_takes_a_related_object_saved_since_and_refuses_an_unsaved_one(
    world: Any,
) -> None:
    # As save(): a related object saved after it was set gives its id; an unsaved one
    # is refused with Django's error (copy_rows' quick check hands both to Django's).
    payer = factories.PayerFactory(practice=world.maple)
    unsaved = factories.PatientFactory.build(practice=world.maple)
    coverage = factories.CoverageFactory.build(patient=unsaved, payer=payer)
    with pytest.raises(ValueError, match="unsaved related object 'patient'"), transaction.atomic():
        copy_rows([coverage], Coverage)
    assert not Coverage.objects.filter(payer=payer).exists()

    later = factories.PatientFactory.build(practice=world.maple)
    coverage = factories.CoverageFactory.build(patient=later, payer=payer)
    later.save()
    (made,) = copy_rows([coverage], Coverage)
    assert made.patient_id == later.pk
    assert Coverage.objects.get(pk=made.pk).patient_id == later.pk


def test_the_quick_paths_give_what_the_slow_ones_give() -> None:
    # copy_rows/copy_values: an empty list or dict is its json.dumps text without the
    # call; cob_label from a dict built once: the enum's lower-cased label, else order-N.
    prep = repr  # anything not a list or dict goes through the field
    for value in ([], {}, [1, "x", None], {"a": [1.5, True]}):
        assert _json_text(value, prep) == json.dumps(value)
    assert _json_text(("a",), prep) == "('a',)" and _json_text(None, prep) == "None"
    for order in (1, 2, 3, 4, 0, CobOrder.SECONDARY):
        want = CobOrder(order).label.lower() if order in CobOrder.values else f"order-{order}"
        assert cob_label(order) == want
