"""SQL for many changed rows (PostgreSQL), shared by the bulk paths of ``ar`` (claims
in ``ar.bulk_posting``, patient accounts in ``ar.ledger_bulk``): one UPDATE from a copied
temporary table, the "~" history rows copied from the table, and new rows written with
``COPY`` (ids reserved from the sequences)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.db import connection, models
from psycopg.types.json import Jsonb
from simple_history.utils import get_history_manager_for_model


def update_rows(model: type[models.Model], objs: list[Any], names: list[str]) -> int:
    """The ``names`` fields of ``objs`` written back: the values are copied (``COPY`` from
    tuples) into a temporary table shaped like those columns, then one ``UPDATE t SET f =
    v.f ... FROM it v WHERE t.pk = v.pk`` (``bulk_update``'s CASE per row is quadratic in
    rows; arrays as parameters cost their dumping). Values go as the model holds them
    (the fields here are plain: numbers, text, dates, ids, JSON)."""
    if not objs:
        return 0
    quote = connection.ops.quote_name
    pk = model._meta.pk
    assert pk is not None
    fields = [pk, *(cast("models.Field[Any, Any]", model._meta.get_field(n)) for n in names)]
    attnames = [f.attname for f in fields]
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    columns = [quote(cast(str, f.column)) for f in fields]
    table = quote(model._meta.db_table)
    temp = quote(f"bulk_update_{model._meta.db_table}")
    sets = ", ".join(f"{c} = v.{c}" for c in columns[1:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} AS SELECT {', '.join(columns)} FROM {table} "
            "WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {temp} ({', '.join(columns)}) FROM STDIN") as copy:
            for obj in objs:
                row = [getattr(obj, name) for name in attnames]
                for i in json_at:
                    row[i] = Jsonb(row[i])
                copy.write_row(row)
        cursor.execute(
            f"UPDATE {table} t SET {sets} FROM {temp} v WHERE t.{columns[0]} = v.{columns[0]}"
        )
        count = int(cursor.rowcount)
        cursor.execute(f"DROP TABLE {temp}")
    return count


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
