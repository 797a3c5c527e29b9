"""Bulk INSERTs that keep django-simple-history's audit trail, for the services' bulk paths.

``create_with_history(objs, model, actor)`` writes new rows with one INSERT and their
history rows ("+", created, naming the actor) with one more. On PostgreSQL the history
rows are copied from the rows just written by the database itself (``INSERT ... SELECT``),
so they hold exactly what was stored and cost no Python object per row; elsewhere (SQLite
for local runs) simple-history's ``bulk_create_with_history`` writes them.

``clean_new_fields(obj, exclude)`` is ``clean_fields`` for many rows: plainly valid values
are accepted inline, any other row gets Django's ``clean_fields`` (same errors).

The history row is the one ``save()`` would write: every tracked field, ``history_date``
(one timestamp for the batch), ``history_user`` (the actor; None: the system itself),
``history_type`` "+" and no change reason.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, cast

from django.core import validators
from django.core.exceptions import ValidationError
from django.db import connections, models, router, transaction
from django.db.models import F, Lookup
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.lookups import In
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, get_history_manager_for_model


def create_with_history[M: models.Model](
    objs: Sequence[M], model: type[M], actor: Any, when: dt.datetime | None = None
) -> list[M]:
    """INSERT new ``objs`` of ``model`` and their history; returns them with their ids."""
    if not objs:
        return []
    alias = router.db_for_write(model)
    if connections[alias].vendor != "postgresql":
        created = bulk_create_with_history(list(objs), model, default_user=actor)
        return cast("list[M]", created)
    with transaction.atomic(using=alias, savepoint=False):
        created = model._default_manager.db_manager(alias).bulk_create(list(objs))
        copy_history(model, [obj.pk for obj in created], actor, when, using=alias)
    return created


def copy_history(
    model: type[models.Model],
    pks: Sequence[Any],
    actor: Any,
    when: dt.datetime | None = None,
    *,
    using: str = "default",
    history_type: str = "+",
) -> int:
    """Write the history row of each row ``pks`` names ("+" created, "~" changed: as
    ``save()`` would), copied from the table as it now stands in one INSERT ... SELECT
    (PostgreSQL); returns the number of rows written."""
    history = get_history_manager_for_model(model).model
    opts, hopts = model._meta, history._meta
    tracked = list(history.tracked_fields)
    target = [hopts.get_field(f.name).column for f in tracked]
    source = [f.column for f in tracked]
    connection = connections[using]
    quote = connection.ops.quote_name
    pk = quote(cast(str, opts.pk.column))
    extra = [
        hopts.get_field(name).column
        for name in ("history_date", "history_user", "history_type", "history_change_reason")
    ]
    columns = ", ".join(quote(c) for c in [*target, *extra])
    selected = ", ".join(f"t.{quote(c)}" for c in source)
    sql = (
        f"INSERT INTO {quote(hopts.db_table)} ({columns}) "
        f"SELECT {selected}, %s, %s, %s, NULL FROM {quote(opts.db_table)} t "
        f"WHERE t.{pk} = ANY(%s) ORDER BY t.{pk}"
    )
    user_id = getattr(actor, "pk", None)
    with connection.cursor() as cursor:
        cursor.execute(sql, [when or timezone.now(), user_id, history_type, list(pks)])
        return int(cursor.rowcount)


def reserve_ids(model: type[models.Model], count: int, *, using: str = "default") -> list[int]:
    """``count`` ids from the table's primary key sequence in one query (PostgreSQL),
    ascending: the order ``bulk_create`` would give the rows."""
    if count <= 0:
        return []
    pk = model._meta.pk
    assert pk is not None
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(model._meta.db_table), pk.column, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


def column_sql(model: type[models.Model], name: str, *, using: str = "default") -> str:
    """A field's column, quoted for raw SQL on the ``using`` database."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return connections[using].ops.quote_name(str(field.column))


class _AnyOf(Lookup):
    """``field = ANY(%s)`` with the values as one array parameter (PostgreSQL): one
    placeholder where ``__in`` writes one per value, which Django's compiler (a prep call
    per value) and the driver's query splitting pay for per value (500-2,000 values a
    chunk of an import or of an 835's posting). Elsewhere: ``__in``."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return list(self.rhs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        if connection.vendor != "postgresql":
            return In(self.lhs, self.rhs).as_sql(compiler, connection)
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs_sql} = ANY(%s)", (*lhs_params, list(self.rhs))


def any_of(name: str | Any, values: Iterable[Any]) -> Lookup:
    """A filter condition: the field ``name`` (or an expression) equals one of ``values``
    (``.filter(any_of("pk", ids))``): what ``name__in=values`` selects, as ``= ANY(array)``.
    The values must be of the column's type as stored (no per-value conversion)."""
    return _AnyOf(F(name) if isinstance(name, str) else name, list(values))


# --- validating many new rows -----------------------------------------------------------

_Check = Callable[[Any], bool]


def _validator_check(validator: Any) -> _Check:
    """A validator as a predicate; the common ones inline (no exception, no message)."""
    kind = type(validator)
    limit = getattr(validator, "limit_value", None)
    if kind is validators.MaxLengthValidator and type(limit) is int:
        return lambda v: len(v) <= limit
    if kind is validators.MinValueValidator and type(limit) is int:
        return lambda v: v >= limit
    if kind is validators.MaxValueValidator and type(limit) is int:
        return lambda v: v <= limit

    def passes(value: Any) -> bool:
        try:
            validator(value)
        except ValidationError:
            return False
        return True

    return passes


_JSON_SCALARS = frozenset({str, int, bool, float, type(None)})


def _plain_json(value: Any, depth: int = 0) -> bool:
    """True for a value ``json.dumps`` surely encodes (scalars of those exact types, lists,
    tuples and dicts with str keys of them, a few levels deep); False: not sure."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return True
    if depth > 4:
        return False
    if kind is list or kind is tuple:
        return all(_plain_json(item, depth + 1) for item in value)
    if kind is dict:
        return all(type(key) is str and _plain_json(item, depth + 1) for key, item in value.items())
    return False


def _encodable(encoder: Any) -> _Check:
    def check(value: Any) -> bool:
        if encoder is None and _plain_json(value):
            return True  # what json.dumps would encode
        try:
            json.dumps(value, cls=encoder)
        except (TypeError, ValueError):
            return False
        return True

    return check


def _is_str(value: Any) -> bool:
    return isinstance(value, str)  # str, or a TextChoices member (a str)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_TYPES: dict[type[models.Field[Any, Any]], _Check] = {
    models.CharField: _is_str,
    models.TextField: _is_str,
    models.DecimalField: lambda v: type(v) is Decimal and v.is_finite(),
    models.IntegerField: _is_int,
    models.PositiveIntegerField: _is_int,
    models.PositiveSmallIntegerField: _is_int,
    models.SmallIntegerField: _is_int,
    models.BigIntegerField: _is_int,
    models.BooleanField: lambda v: type(v) is bool,
    models.DateField: lambda v: type(v) is dt.date,
    models.DateTimeField: lambda v: type(v) is dt.datetime and timezone.is_aware(v),
}
_EMPTY_TYPES = (str, list, tuple, dict)


def _field_check(field: models.Field[Any, Any]) -> _Check:
    """True when ``field.clean`` would accept ``value`` as it is (False: not sure)."""
    if isinstance(field, models.JSONField):
        typed: _Check | None = _encodable(field.encoder)
    else:
        typed = _TYPES.get(type(field))
    checks = [_validator_check(v) for v in field.validators]
    check_all: _Check | None = None  # the validators' checks as one call
    if len(checks) == 1:
        check_all = checks[0]
    elif len(checks) == 2:  # a length and a pattern, digits and a minimum: no generator
        first, second = checks

        def check_all(value: Any) -> bool:
            return first(value) and second(value)

    elif checks:

        def check_all(value: Any) -> bool:
            return all(passes(value) for passes in checks)

    choices = {key for key, _label in field.flatchoices} if field.choices else None
    blank = field.blank
    default_empties = list(field.empty_values) == list(validators.EMPTY_VALUES)
    empties = field.empty_values

    def full(value: Any) -> bool:
        if default_empties:
            empty = value is None or (isinstance(value, _EMPTY_TYPES) and not value)
        else:
            empty = value in empties
        if empty:
            return blank  # clean_fields skips blank empties; others fail in Django
        if typed is None or not typed(value):
            return False
        if choices is not None and value not in choices:
            return False
        return check_all is None or check_all(value)

    if not field.has_default() or callable(field.default):
        return full
    # A value that IS the field's constant default (most fields of a new row) was
    # checked once, here.
    default, default_ok = field.default, full(field.default)
    return lambda value: default_ok if value is default else full(value)


# The descriptors that read a loaded value from the instance's __dict__ as it is.
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)


@functools.cache
def _row_checks(
    model: type[models.Model], exclude: frozenset[str]
) -> tuple[tuple[str, _Check, bool], ...]:
    """Per field: its attribute, its check, and whether its value is read from the
    instance's __dict__ (a plain descriptor) rather than through ``getattr``."""
    return tuple(
        (
            f.attname,
            _field_check(f),
            type(model.__dict__.get(f.attname)) in _PLAIN_DESCRIPTORS,
        )
        for f in model._meta.fields
        if f.name not in exclude and not f.generated
    )


def clean_new_fields(obj: models.Model, exclude: Sequence[str] = ()) -> None:
    """``obj.clean_fields(exclude)`` for rows of a bulk write, without its per-field
    overhead: values that are plainly valid (the type the field stores, within its
    length, digits, choices and validators) are accepted here; a row with any other value
    goes to Django's ``clean_fields``, which converts it or raises its usual errors. Leave
    the foreign keys out (``exclude``): the caller holds the related objects."""
    held = obj.__dict__
    for attname, check, direct in _row_checks(type(obj), frozenset(exclude)):
        value = held[attname] if direct and attname in held else getattr(obj, attname)
        if not check(value):
            obj.clean_fields(exclude=list(exclude))
            return


@functools.cache
def _defaults(model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
    return {f.attname: f for f in model._meta.fields}


def clean_new_values(
    model: type[models.Model], values: dict[str, Any], exclude: Sequence[str] = ()
) -> dict[str, Any]:
    """``clean_new_fields`` for a new row held as plain values (attname -> value; a field
    left out has its default, as in a new instance), for bulk writes that make no model
    instance: the same checks on the same values. A row with any value that is not plainly
    valid is built as an instance and goes through Django's ``clean_fields``, which raises
    its usual errors or converts the values (returned, as the instance then holds them)."""
    fields = _defaults(model)
    for attname, check, _direct in _row_checks(model, frozenset(exclude)):
        value = values[attname] if attname in values else fields[attname].get_default()
        if not check(value):
            obj = model(**values)
            obj.clean_fields(exclude=list(exclude))
            return {name: getattr(obj, name) for name in values}
    return values
