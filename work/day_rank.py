"""My day's ranking and counts in one query each, from SQL compiled once per user, practice,
grants and day (issue 10, speed).

The plain path builds, per request, one ORM queryset per registered item type for the rows
(12 types: 12 queries) and two per type for the counts (24 querysets in one query); building
and compiling them was most of My day's CPU. Here:

- ``ranked`` answers the page's order, ``(priority, type key, id)`` of at most ``limit``
  items, with one ``UNION ALL`` over the types' ``(priority, id)`` (each branch ordered and
  limited, so PostgreSQL walks the owner-leading index of each type);
- ``counts`` answers the overdue / due-today counts, capped as ``selectors.capped_counts``;
- ``items`` reads the page's items of one type by id through the same queryset (so a row
  is shown only if it is still open, due and the user's), the ids one array parameter.

Each type's branch is the same queryset the plain path reads (``selectors.my_day_of_type``
with its practice), compiled by Django once and kept under a key of everything its SQL
depends on: the user, the practice, the day, and the practices where the user holds each
type's permission (``billing_ops.access.grants_for``, the request's grants). A
grant given or revoked changes the key, so the next request compiles afresh; nothing is
cached across users. The cache holds SQL text and parameters only, never rows.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, QuerySet

from billing_ops.access import grants_for
from billing_ops.bulk import any_of
from billing_ops.compiled import INT_MARK, CompiledRead, kept
from work.registry import ItemType

CACHE_SIZE = 2048

# key -> (db alias, [(type key, branch sql, params)])
_branches: OrderedDict[tuple[Any, ...], tuple[str | None, list[tuple[str, str, tuple[Any, ...]]]]]
_branches = OrderedDict()
# key -> (db alias, sql, params, names)
_counts: OrderedDict[tuple[Any, ...], tuple[str | None, str, tuple[Any, ...], list[str]]]
_counts = OrderedDict()
# key -> the read of one type's page items by id
_items: OrderedDict[tuple[Any, ...], CompiledRead] = OrderedDict()


def clear_cache() -> None:
    _branches.clear()
    _counts.clear()
    _items.clear()


def _key(user: Any, practice_id: int | None, today: dt.date, types: Sequence[ItemType]) -> Any:
    held = grants_for(user)  # one read (the request's grants inside a request)
    grants = tuple((t.key, tuple(sorted(held.practice_ids(t.permission)))) for t in types)
    return (getattr(user, "pk", None), practice_id, today, grants)


def _of_type(item_type: ItemType, user: Any, today: dt.date, practice_id: int | None) -> Any:
    from work.selectors import my_day_of_type

    items = my_day_of_type(item_type, user, today)
    if practice_id is not None:
        items = items.filter(practice_id=practice_id)
    return items.order_by()


def _compile(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]] | None:
    try:
        sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    except EmptyResultSet:  # .none(): the user holds the permission nowhere
        return None
    return sql, tuple(params)


def _rank_branches(
    user: Any, practice_id: int | None, today: dt.date, types: Sequence[ItemType]
) -> tuple[str | None, list[tuple[str, str, tuple[Any, ...]]]]:
    def make() -> tuple[str | None, list[tuple[str, str, tuple[Any, ...]]]]:
        alias: str | None = None
        branches: list[tuple[str, str, tuple[Any, ...]]] = []
        for item_type in types:
            queryset = _of_type(item_type, user, today, practice_id)
            compiled = _compile(queryset.values(rank_p=F("priority"), rank_i=F("pk")))
            if compiled is None:
                continue
            alias = queryset.db
            branches.append((item_type.key, *compiled))
        return alias, branches

    return kept(_branches, _key(user, practice_id, today, types), make, CACHE_SIZE)


def ranked(
    user: Any,
    practice_id: int | None,
    today: dt.date,
    types: Sequence[ItemType],
    after: tuple[int, str, int] | None,
    limit: int,
) -> list[tuple[int, str, int]]:
    """The first ``limit`` items of My day after ``after``: (priority, type key, id), in
    the page's order (priority highest first, then type key, then newest)."""
    alias, branches = _rank_branches(user, practice_id, today, types)
    if not branches or alias is None:
        return []
    # Type keys as their rank in Python's string order, so the database sorts them the
    # same way whatever its collation.
    order = {key: n for n, key in enumerate(sorted(key for key, _sql, _p in branches))}
    parts: list[str] = []
    params: list[Any] = []
    for key, sql, args in branches:
        condition = ""
        cond_params: list[Any] = []
        if after is not None:
            priority, after_key, pk = after
            if key < after_key:
                condition, cond_params = "WHERE b.rank_p < %s", [priority]
            elif key == after_key:
                condition = "WHERE (b.rank_p < %s OR (b.rank_p = %s AND b.rank_i < %s))"
                cond_params = [priority, priority, pk]
            else:
                condition, cond_params = "WHERE b.rank_p <= %s", [priority]
        parts.append(
            f"SELECT * FROM (SELECT b.rank_p, %s AS rank_k, b.rank_i FROM ({sql}) AS b "
            f"{condition} ORDER BY b.rank_p DESC, b.rank_i DESC LIMIT %s) AS t{len(parts)}"
        )
        params.extend([order[key], *args, *cond_params, limit])
    statement = (
        "SELECT u.rank_p, u.rank_k, u.rank_i FROM ("
        + " UNION ALL ".join(parts)
        + ") AS u ORDER BY u.rank_p DESC, u.rank_k ASC, u.rank_i DESC LIMIT %s"
    )
    params.append(limit)
    keys = sorted(order, key=order.__getitem__)
    with connections[alias].cursor() as cursor:
        cursor.execute(statement, params)
        return [(p, keys[k], i) for p, k, i in cursor.fetchall()]


def counts(
    user: Any, practice_id: int | None, today: dt.date, types: Sequence[ItemType], cap: int
) -> dict[str, int]:
    """``{"<type>:overdue": n, "<type>:due_today": n}`` capped at ``cap + 1`` each, in one
    query (``selectors.capped_counts``'s statement, compiled once per key)."""

    def make() -> tuple[Any, ...]:
        from work.selectors import capped_statement

        parts: dict[str, QuerySet[Any]] = {}
        for item_type in types:
            items = _of_type(item_type, user, today, practice_id)
            parts[f"{item_type.key}:overdue"] = items.filter(next_action_due__lt=today)
            parts[f"{item_type.key}:due_today"] = items.filter(next_action_due=today)
        made = capped_statement(parts, cap)
        return (made[0], made[1], tuple(made[2]), made[3])

    key = (*_key(user, practice_id, today, types), cap)
    cached = kept(_counts, key, make, CACHE_SIZE)
    found = dict.fromkeys(
        (f"{t.key}:{part}" for t in types for part in ("overdue", "due_today")), 0
    )
    from work.selectors import run_capped

    return run_capped(cached, found)


def items(
    user: Any, practice_id: int | None, today: dt.date, item_type: ItemType, ids: Sequence[int]
) -> list[Any]:
    """The items of ``ids`` that are still among the type's My day rows (the plain path's
    ``my_day_of_type`` with its practice and ``pk__in=ids``), in no particular order: one
    statement compiled once per key (``billing_ops.compiled.CompiledRead``), run afresh."""
    key = (*_key(user, practice_id, today, [item_type]), "items")
    # The kept read keeps no build (the user's lazy object holds its request): this call's
    # compiles the statement on first use and is the ORM path (SQLite).
    build = partial(_items_of, item_type, user, today, practice_id)
    read = kept(
        _items, key, lambda: CompiledRead(lambda: item_type.model, None, ([INT_MARK],)), CACHE_SIZE
    )
    return read(list(ids), build=build)


def _items_of(
    item_type: ItemType, user: Any, today: dt.date, practice_id: int | None, wanted: list[int]
) -> QuerySet[Any]:
    queryset: QuerySet[Any] = _of_type(item_type, user, today, practice_id)
    return item_type.shown_on_page(queryset.filter(any_of("pk", wanted)))
