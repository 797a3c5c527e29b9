"""SQL for many changed rows (PostgreSQL), shared by the bulk paths of ``ar`` (claims
in ``ar.bulk_posting``, patient accounts in ``ar.ledger_bulk``): one UPDATE from a copied
temporary table, and new rows written with ``COPY`` (ids reserved from the sequences and
the "~" history rows copied from the table by ``billing_ops.bulk``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.db import connection, models
from psycopg.types.json import Jsonb


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


class Copier:
    """New rows of ``model`` written with ``COPY ... FROM STDIN`` from plain tuples: the
    tuples hold the ``columns`` (attnames, the primary key among them, ids from
    ``billing_ops.bulk.reserve_ids``) in that order; every other column takes its field's default as
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
        # Django's error classes (IntegrityError...), as its own cursor raises them: the
        # psycopg cursor under the wrapper raises psycopg's.
        with (
            connection.wrap_database_errors,
            connection.cursor() as wrapper,
            wrapper.cursor.copy(self.sql) as copy,
        ):
            for row in rows:
                if json_at:
                    values = list(row)
                    for i in json_at:
                        values[i] = Jsonb(values[i])
                    copy.write_row((*values, *tail))
                else:
                    copy.write_row((*row, *tail))
        return len(rows)
