"""New rows written with PostgreSQL's COPY (psycopg 3 ``cursor.copy()``), for the bulk
paths of imports: ``create_with_history`` of ``billing_ops.bulk`` without Django's
``bulk_create`` (which compiles one INSERT with a parameter array per column and dumps
every value through its SQL compiler: most of a bulk import's CPU time).

``copy_with_history(objs, model, actor)`` takes the ids from the table's sequence (one
query), writes the rows with one COPY and their "+" history rows naming the actor with
``billing_ops.bulk.copy_history`` (one INSERT ... SELECT): three queries per table, whatever
the number of rows. Each value is what ``save()`` would store: the field's ``pre_save``
(``auto_now_add`` timestamps) and ``get_db_prep_save`` (JSON, decimals, dates). On another
database (SQLite for local runs) it is ``create_with_history`` itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, cast

from django.db import connections, models, router, transaction
from django.utils import timezone

from billing_ops.bulk import copy_history, create_with_history, reserve_ids


def copy_with_history[M: models.Model](
    objs: Sequence[M], model: type[M], actor: Any, when: dt.datetime | None = None
) -> list[M]:
    """INSERT new ``objs`` of ``model`` and their history; returns them with their ids."""
    if not objs:
        return []
    alias = router.db_for_write(model)
    if connections[alias].vendor != "postgresql":
        return create_with_history(objs, model, actor, when)
    with transaction.atomic(using=alias, savepoint=False):
        copy_rows(objs, model)
        copy_history(model, [obj.pk for obj in objs], actor, when or timezone.now(), using=alias)
    return list(objs)


# Fields whose value of one of these exact types is what ``get_db_prep_save`` would give
# (its ``pre_save`` returns the attribute, its conversion returns the value unchanged):
# written as they are, without the two calls. Any other type goes the field's own way.
_NONE = type(None)
_PLAIN_TYPES: dict[type[models.Field[Any, Any]], frozenset[type]] = {
    models.CharField: frozenset({str, _NONE}),
    models.TextField: frozenset({str, _NONE}),
    models.IntegerField: frozenset({int, _NONE}),
    models.PositiveIntegerField: frozenset({int, _NONE}),
    models.PositiveSmallIntegerField: frozenset({int, _NONE}),
    models.SmallIntegerField: frozenset({int, _NONE}),
    models.BigIntegerField: frozenset({int, _NONE}),
    models.BooleanField: frozenset({bool, _NONE}),
    models.DateField: frozenset({dt.date, _NONE}),
    models.ForeignKey: frozenset({int, _NONE}),
    models.OneToOneField: frozenset({int, _NONE}),
}


def _held_as_is(f: models.Field[Any, Any]) -> bool:
    """True when the field's ``pre_save`` returns the attribute as it is (no
    ``auto_now``/``auto_now_add`` time to set, no file to commit): the value is then
    stored as ``copy_values``' converter of the column gives it."""
    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
        return False
    return type(f).pre_save in (
        models.Field.pre_save,
        models.DateField.pre_save,  # the time only when auto_now/auto_now_add
        models.DateTimeField.pre_save,
    )


@functools.cache
def _relations(model: type[models.Model]) -> tuple[tuple[str, str, str, Any], ...] | None:
    """Per concrete relation: its name, attribute, the target's attribute and the
    field's empty values, for ``_relations_set``; None when the model has a private
    relation (a generic foreign key), which only Django's own check knows."""
    opts = model._meta
    if any(f.is_relation for f in opts.private_fields):
        return None
    return tuple(
        (f.cache_name, f.attname, f.target_field.attname, f.empty_values)  # type: ignore[attr-defined]
        for f in opts.concrete_fields
        if f.is_relation
    )


def _relations_set(obj: models.Model, relations: tuple[tuple[str, str, str, Any], ...]) -> bool:
    """True when ``_prepare_related_fields_for_save`` would change nothing and raise
    nothing: every related object in the instance's cache is saved and its id is the one
    the instance holds (what a new row built from saved objects always has)."""
    cache = obj._state.fields_cache
    held = obj.__dict__
    for name, attname, target, empty in relations:
        related = cache.get(name)
        if related is None:
            continue
        if not related._is_pk_set() or attname not in held:
            return False
        value = held[attname]
        if value in empty or getattr(related, target) != value:
            return False
    return True


@functools.cache
def _plan(model: type[models.Model]) -> tuple[tuple[models.Field[Any, Any], str, bool], ...]:
    """Per column after the id: the field, its attribute and whether its value is stored
    as held (through the column's converter, see ``_converters``); else it goes through
    the field's ``pre_save`` and ``get_db_prep_save``."""
    opts = model._meta
    return tuple(
        (f, f.attname, _held_as_is(f))
        for f in opts.concrete_fields
        if f is not opts.pk and not f.generated
    )


def copy_rows[M: models.Model](objs: Sequence[M], model: type[M]) -> list[M]:
    """INSERT new ``objs`` of ``model`` (no history: a model without one, or the caller
    writes it); returns them with their ids. ``bulk_create`` on other databases."""
    if not objs:
        return []
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return model._default_manager.db_manager(alias).bulk_create(list(objs))
    opts = model._meta
    pk = opts.pk
    assert pk is not None
    plan = _plan(model)
    relations = _relations(model)
    # Each value as save() would store it: for a field whose pre_save returns the
    # attribute, the column's converter (the value itself when get_db_prep_save would
    # return it unchanged, else get_db_prep_save), without the two calls per value.
    steps = tuple(zip(plan, _converters(model, tuple(a for _, a, _ in plan), alias), strict=True))
    quote = connection.ops.quote_name
    columns = ", ".join(quote(cast(str, f.column)) for f in [pk, *(f for f, _, _ in plan)])
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
        ids = reserve_ids(model, len(objs), using=alias)
        # COPY is not in Django's API: the psycopg cursor under Django's wrapper.
        sql = f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for obj, pk_value in zip(objs, ids, strict=True):
                # As save() does: a related object saved since it was set gives its id,
                # an unsaved one is refused (Django's check, when the quick one is unsure).
                if relations is None or not _relations_set(obj, relations):
                    obj._prepare_related_fields_for_save(operation_name="copy_rows")
                row = [pk_value]
                # A new instance holds each concrete attribute in its __dict__ (what
                # getattr would return, without the descriptors' calls).
                held = obj.__dict__
                for (f, attname, as_held), convert in steps:
                    if as_held:
                        row.append(
                            convert(held[attname] if attname in held else getattr(obj, attname))
                        )
                    else:
                        row.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
                copy.write_row(row)
                obj.pk = pk_value
                obj._state.adding = False
                obj._state.db = alias
    return list(objs)


# --- rows as plain values (no model instance) -------------------------------------------


def _finite(value: Any) -> bool:
    return type(value) is Decimal and value.is_finite()


_EMPTY_JSON = {list: "[]", dict: "{}"}  # json.dumps of an empty list and dict


def _json_text(value: Any, prep: Callable[[Any], Any]) -> Any:
    """A list or dict as its ``json.dumps`` text (most of a bulk import's are empty: no
    modifiers, no teeth), anything else through the field."""
    kind = type(value)
    if kind is list or kind is dict:
        return json.dumps(value) if value else _EMPTY_JSON[kind]
    return prep(value)


@functools.cache
def _converters(
    model: type[models.Model], columns: tuple[str, ...], alias: str
) -> tuple[Callable[[Any], Any], ...]:
    """Per column, what turns a plain value into what ``save()`` would store: the value
    itself when ``get_db_prep_save`` would return it unchanged (see ``_PLAIN_TYPES``; a
    finite Decimal into a decimal column, an aware datetime into a datetime column; a list
    or dict into a JSON column without encoder: its ``json.dumps`` text, what psycopg's
    Jsonb would send), else the field's ``get_db_prep_save`` (with the calling thread's
    connection: these closures are kept for the process)."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    converters: list[Callable[[Any], Any]] = []
    for column in columns:
        f = by_attname[column]

        def prep(value: Any, f: models.Field[Any, Any] = f) -> Any:
            return f.get_db_prep_save(value, connections[alias])

        plain = _PLAIN_TYPES.get(type(f))
        if f.is_relation and f.target_field.get_internal_type() not in (  # type: ignore[union-attr]
            "AutoField",
            "BigAutoField",
            "IntegerField",
            "BigIntegerField",
        ):
            plain = None
        if plain is not None:
            converters.append(lambda v, plain=plain, prep=prep: v if type(v) in plain else prep(v))
        elif type(f) is models.DecimalField:
            converters.append(lambda v, prep=prep: v if v is None or _finite(v) else prep(v))
        elif type(f) is models.DateTimeField:
            converters.append(
                lambda v, prep=prep: (
                    v if v is None or (type(v) is dt.datetime and v.tzinfo is not None) else prep(v)
                )
            )
        elif type(f) is models.JSONField and f.encoder is None:  # type: ignore[attr-defined]
            converters.append(functools.partial(_json_text, prep=prep))
        else:
            converters.append(prep)
    return tuple(converters)


def copy_values(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[int]:
    """INSERT new rows of ``model`` given as plain values, one per column of ``columns``
    (attnames: every concrete column but the id, so no default is left to fill in), with
    no model instance; returns their ids (from the sequence, ascending, in row order).
    The caller has checked the values (``billing_ops.bulk.clean_new_values``) and gives
    any ``auto_now_add`` time itself. ``bulk_create`` of instances on other databases."""
    if not rows:
        return []
    opts = model._meta
    pk = opts.pk
    assert pk is not None
    wanted = {f.attname for f in opts.concrete_fields if f is not pk and not f.generated}
    if set(columns) != wanted or len(columns) != len(wanted):
        raise ValueError(f"copy_values needs every column of {opts.label} but the id once")
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        created = model._default_manager.db_manager(alias).bulk_create(objs)
        return [cast(int, obj.pk) for obj in created]
    convert = _converters(model, tuple(columns), alias)
    by_attname = {f.attname: f for f in opts.concrete_fields}
    quote = connection.ops.quote_name
    names = ", ".join(quote(cast(str, f.column)) for f in [pk, *(by_attname[c] for c in columns)])
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
        ids = reserve_ids(model, len(rows), using=alias)
        sql = f"COPY {quote(opts.db_table)} ({names}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            write = copy.write_row
            for pk_value, row in zip(ids, rows, strict=True):
                write([pk_value, *[c(v) for c, v in zip(convert, row, strict=True)]])
    return ids


def copy_values_with_history(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    actor: Any,
    when: dt.datetime | None = None,
) -> list[int]:
    """``copy_values`` and the rows' "+" history naming the actor (one INSERT ... SELECT,
    ``billing_ops.bulk.copy_history``; simple-history's own rows on other databases)."""
    if not rows:
        return []
    alias = router.db_for_write(model)
    if connections[alias].vendor != "postgresql":
        objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        return [cast(int, obj.pk) for obj in create_with_history(objs, model, actor, when)]
    with transaction.atomic(using=alias, savepoint=False):
        ids = copy_values(model, columns, rows)
        copy_history(model, ids, actor, when or timezone.now(), using=alias)
    return ids
