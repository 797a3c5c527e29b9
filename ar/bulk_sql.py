"""SQL for many changed rows (PostgreSQL), shared by the bulk paths of ``ar`` (claims
in ``ar.bulk_posting``, patient accounts in ``ar.ledger_bulk``): one UPDATE from arrays, the
"~" history rows copied from the table, and rows written with ``COPY``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, cast

from django.db import connection, models
from psycopg.types.json import Jsonb
from simple_history.utils import get_history_manager_for_model


def update_rows(model: type[models.Model], objs: list[Any], names: list[str]) -> int:
    """One ``UPDATE t SET f = v.f ... FROM unnest(arrays) v WHERE t.pk = v.pk`` for the
    ``names`` fields of ``objs`` (``bulk_update``'s CASE per row is quadratic in rows)."""
    if not objs:
        return 0
    quote = connection.ops.quote_name
    pk = model._meta.pk
    assert pk is not None
    fields = [pk, *(model._meta.get_field(n) for n in names)]
    arrays, params, sets = [], [], []
    for i, f in enumerate(fields):
        concrete = cast("models.Field[Any, Any]", f)
        db_type = concrete.db_type(connection) or "text"
        if isinstance(concrete, models.ForeignKey):
            db_type = concrete.target_field.rel_db_type(connection) or "bigint"
        if isinstance(concrete, models.JSONField):
            values = [json.dumps(getattr(o, concrete.attname)) for o in objs]
            arrays.append("%s::text[]")
            value = f"v.c{i}::jsonb"
        else:
            values = [
                concrete.get_db_prep_save(getattr(o, concrete.attname), connection) for o in objs
            ]
            arrays.append(f"%s::{db_type}[]")
            value = f"v.c{i}"
        params.append(values)
        if i:
            sets.append(f"{quote(cast(str, concrete.column))} = {value}")
    columns = ", ".join(f"c{i}" for i in range(len(fields)))
    sql = (
        f"UPDATE {quote(model._meta.db_table)} t SET {', '.join(sets)} "
        f"FROM unnest({', '.join(arrays)}) AS v({columns}) "
        f"WHERE t.{quote(cast(str, pk.column))} = v.c0"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def copy_changed_history(
    model: type[models.Model], pks: list[Any], actor: Any, when: dt.datetime
) -> int:
    """The "~" history row ``save()`` writes for each changed row ``pks`` names, copied
    from the table as it now stands (like ``billing_ops.bulk.copy_history`` for "+")."""
    history = get_history_manager_for_model(model).model
    hopts = history._meta
    tracked = list(history.tracked_fields)
    target = [hopts.get_field(f.name).column for f in tracked]
    extra = [
        hopts.get_field(name).column
        for name in ("history_date", "history_user", "history_type", "history_change_reason")
    ]
    quote = connection.ops.quote_name
    pk = quote(cast(str, model._meta.pk.column))  # type: ignore[union-attr]
    columns = ", ".join(quote(c) for c in [*target, *extra])
    selected = ", ".join(f"t.{quote(f.column)}" for f in tracked)
    sql = (
        f"INSERT INTO {quote(hopts.db_table)} ({columns}) "
        f"SELECT {selected}, %s, %s, '~', NULL FROM {quote(model._meta.db_table)} t "
        f"WHERE t.{pk} = ANY(%s) ORDER BY t.{pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [when, getattr(actor, "pk", None), list(pks)])
        return int(cursor.rowcount)


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` ids from the table's primary key sequence in one query, ascending (the
    order ``bulk_create`` would give the rows)."""
    if count <= 0:
        return []
    pk = model._meta.pk
    assert pk is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(model._meta.db_table), pk.column, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


class Copier:
    """New rows of ``model`` written with ``COPY ... FROM STDIN`` from plain tuples: the
    tuples hold the ``columns`` (attnames, the primary key among them, ids from
    ``reserve_ids``) in that order; every other column takes its field's default as
    ``save()`` would (``auto_now``/``auto_now_add``: ``now``). JSON values go as they are
    (wrapped here). Row-level triggers and constraints hold as for INSERT."""

    def __init__(self, model: type[models.Model], columns: list[str], now: dt.datetime) -> None:
        self.model = model
        given = [cast("models.Field[Any, Any]", model._meta.get_field(n)) for n in columns]
        rest = [
            f for f in model._meta.concrete_fields if f.attname not in columns and not f.primary_key
        ]
        self.tail = tuple(self._default(f, now) for f in rest)
        self.json = [i for i, f in enumerate(given) if isinstance(f, models.JSONField)]
        quote = connection.ops.quote_name
        names = ", ".join(quote(cast(str, f.column)) for f in [*given, *rest])
        self.sql = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"

    @staticmethod
    def _default(field: Any, now: dt.datetime) -> Any:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return now
        value = field.get_default()
        if isinstance(field, models.JSONField):
            return Jsonb(value)
        return value

    def write(self, rows: list[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        tail, json_at = self.tail, self.json
        with connection.cursor() as wrapper, wrapper.cursor.copy(self.sql) as copy:
            for row in rows:
                if json_at:
                    values = list(row)
                    for i in json_at:
                        values[i] = Jsonb(values[i])
                    copy.write_row((*values, *tail))
                else:
                    copy.write_row((*row, *tail))
        return len(rows)
