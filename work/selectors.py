"""Reads over every registered item type: My day, queue pages, keyset pages, workloads.

Every read starts from ``ItemType.visible(user)`` (the item type's permission through the
scoping primitive); a page costs the same handful of queries however many rows it shows.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from django.core.exceptions import EmptyResultSet
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, connections
from django.db.models import BooleanField, Count, F, Field, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from billing_ops.compiled import read_once
from work import queue_reads
from work.registry import ItemType, Queue, registry

if TYPE_CHECKING:
    from work.models import WorkItem


@dataclass(frozen=True)
class Row:
    """One row of a page: the item, its type, and why it is where it is."""

    item: WorkItem
    item_type: ItemType

    @property
    def ref(self) -> str:
        return f"{self.item_type.key}:{self.item.pk}"

    @cached_property
    def why(self) -> str:
        """Once per row (the view and the row template both read it; computing it may score
        the item afresh when no reasons are stored)."""
        return self.item.priority_explanation


@dataclass
class Page:
    rows: list[Row]
    next_cursor: str | None
    sort: str


def _encode(values: list[Any]) -> str:
    raw = json.dumps([str(v) for v in values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> list[str] | None:
    """A cursor's values, or None for one that does not parse (the page starts at the top):
    a list of strings only, so every later parse sees a string."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError):
        return None
    if not isinstance(values, list):
        return None
    if not all(isinstance(v, str) and "\x00" not in v for v in values):
        return None
    return values


# A cursor integer outside a 64-bit column's range is refused here: SQLite cannot bind it
# (OverflowError, a 500) and no row can be past it anyway.
BIGINT_RANGE = (-(2**63), 2**63 - 1)


def _bigint(raw: str) -> int:
    value = int(raw)
    if not BIGINT_RANGE[0] <= value <= BIGINT_RANGE[1]:
        raise ValueError(raw)
    return value


# --- My day -----------------------------------------------------------------------------


def my_day_of_type(item_type: ItemType, user: Any, today: dt.date) -> QuerySet[Any]:
    """Open items of one type the user owns that are due today or overdue."""
    return item_type.visible(user).filter(owner=user, next_action_due__lte=today)


def _my_day_after(cursor: str | None) -> tuple[int, str, int] | None:
    """My day's cursor (priority, type, id), or None for none or one that does not parse."""
    decoded = _decode(cursor) if cursor else None
    if decoded is not None and len(decoded) == 3:
        try:
            return (_bigint(decoded[0]), decoded[1], _bigint(decoded[2]))
        except ValueError:
            return None
    return None


def my_day_page(
    user: Any,
    practice_id: int | None,
    cursor: str | None,
    size: int,
    today: dt.date | None = None,
    types: list[str] | None = None,
) -> Page:
    """My day over every type, in one order: priority (highest first), then type, then
    newest. The cursor is (priority, type, id). One ``UNION ALL`` query ranks every type's
    candidates (``work.day_rank``: SQL compiled once per user, practice, grants and day),
    then the page's items are read per type present on it, through the type's visible
    queryset again (so a row is shown only if it is still open, due and the user's;
    ``day_rank.items``, a statement compiled once per key, the ids one array). The
    plain path, one ORM query per type, is ``my_day_page_plain``; the tests compare both."""
    from work import day_rank

    today = today or timezone.localdate()
    after = _my_day_after(cursor)
    wanted = [t for t in registry.types() if not types or t.key in types]
    ranked = day_rank.ranked(user, practice_id, today, wanted, after, size + 1)
    by_type: dict[str, list[int]] = defaultdict(list)
    for _priority, key, pk in ranked:
        by_type[key].append(pk)
    loaded: dict[tuple[str, int], Any] = {}
    for item_type in wanted:
        ids = by_type.get(item_type.key)
        if not ids:
            continue
        for item in day_rank.items(user, practice_id, today, item_type, ids):
            loaded[(item_type.key, item.pk)] = Row(item, item_type)
    rows = [loaded[(key, pk)] for _p, key, pk in ranked if (key, pk) in loaded]
    page = rows[:size]
    _load_rows(page)
    next_cursor = None
    if len(ranked) > size and page:
        last = page[-1]
        next_cursor = _encode([last.item.priority, last.item_type.key, last.item.pk])
    return Page(page, next_cursor, "priority")


def my_day_page_plain(
    user: Any,
    practice_id: int | None,
    cursor: str | None,
    size: int,
    today: dt.date | None = None,
    types: list[str] | None = None,
) -> Page:
    """``my_day_page`` through the ORM, one query per type: the reference the ranked path
    is proven against (``tests/work/test_my_day_fast.py``)."""
    today = today or timezone.localdate()
    after = _my_day_after(cursor)
    rows: list[tuple[int, str, int, Row]] = []
    for item_type in registry.types():
        if types and item_type.key not in types:
            continue
        items = my_day_of_type(item_type, user, today)
        if practice_id is not None:
            items = items.filter(practice_id=practice_id)
        if after is not None:
            priority, key, pk = after
            if item_type.key < key:
                items = items.filter(priority__lt=priority)
            elif item_type.key == key:
                items = items.filter(Q(priority__lt=priority) | Q(priority=priority, pk__lt=pk))
            else:
                items = items.filter(priority__lte=priority)
        items = item_type.shown_on_page(items)
        for item in items.order_by("-priority", "-pk")[: size + 1]:
            rows.append((-item.priority, item_type.key, -item.pk, Row(item, item_type)))
    rows.sort(key=lambda r: r[:3])
    page = [r[3] for r in rows[:size]]
    _load_rows(page)
    next_cursor = None
    if len(rows) > size:
        last = page[-1]
        next_cursor = _encode([last.item.priority, last.item_type.key, last.item.pk])
    return Page(page, next_cursor, "priority")


def _load_rows(rows: list[Row]) -> None:
    """Each type's ``load_rows`` on the page's items of that type."""
    by_type: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_type[row.item_type.key].append(row.item)
    for key, items in by_type.items():
        registry.type(key).load_page(items)


def my_day_counts(
    user: Any, practice_id: int | None = None, today: dt.date | None = None
) -> dict[str, int]:
    """How much of my day is overdue and how much is due today (one query for every type),
    each capped like a queue total: a value above ``COUNT_CAP`` means "more than that"."""
    from work import day_rank

    today = today or timezone.localdate()
    totals = {"total": 0, "overdue": 0, "due_today": 0}
    found = day_rank.counts(user, practice_id, today, list(registry.types()), COUNT_CAP)
    for name, count in found.items():
        totals[name.rpartition(":")[2]] += count
    totals["total"] = totals["overdue"] + totals["due_today"]
    return {key: min(value, COUNT_CAP + 1) for key, value in totals.items()}


def my_day_counts_plain(
    user: Any, practice_id: int | None = None, today: dt.date | None = None
) -> dict[str, int]:
    """``my_day_counts`` with its querysets built afresh (the reference of the tests)."""
    today = today or timezone.localdate()
    totals = {"total": 0, "overdue": 0, "due_today": 0}
    parts: dict[str, QuerySet[Any]] = {}
    for item_type in registry.types():
        items = my_day_of_type(item_type, user, today)
        if practice_id is not None:
            items = items.filter(practice_id=practice_id)
        parts[f"{item_type.key}:overdue"] = items.filter(next_action_due__lt=today)
        parts[f"{item_type.key}:due_today"] = items.filter(next_action_due=today)
    for name, count in capped_counts(parts).items():
        totals[name.rpartition(":")[2]] += count
    totals["total"] = totals["overdue"] + totals["due_today"]
    return {key: min(value, COUNT_CAP + 1) for key, value in totals.items()}


# --- capped counts ----------------------------------------------------------------------

# A queue's total is counted up to this many rows and shown as "1,000+" beyond: an exact
# COUNT(*) reads every row of the queue on every page (1.4 -> 4.4 ms from 10k to 100k
# claims), a capped one at most COUNT_CAP + 1 index entries.
COUNT_CAP = 1000


def capped_counts(querysets: dict[str, QuerySet[Any]], cap: int | None = None) -> dict[str, int]:
    """Each queryset's row count up to ``cap + 1`` (``cap + 1``: more than ``cap``; default
    ``COUNT_CAP``), all in one query: ``SELECT (SELECT COUNT(*) FROM (... LIMIT cap + 1))``."""
    cap = COUNT_CAP if cap is None else cap
    return run_capped(capped_statement(querysets, cap), dict.fromkeys(querysets, 0))


def run_capped(statement: tuple[Any, ...], counts: dict[str, int]) -> dict[str, int]:
    """Run a ``capped_statement`` (alias, sql, params, names) and put its counts into
    ``counts`` (left as they are when there was nothing to count)."""
    alias, sql, params, names = statement
    if alias is None:
        return counts
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    counts.update(zip(names, row, strict=True))
    return counts


def capped_statement(
    querysets: dict[str, QuerySet[Any]], cap: int
) -> tuple[str | None, str, list[Any], list[str]]:
    """``capped_counts``'s one statement: (database alias or None when there is nothing to
    count, SQL, parameters, the names of its columns in order)."""
    parts: list[str] = []
    params: list[Any] = []
    names: list[str] = []
    alias = None
    for name, queryset in querysets.items():
        sliced = queryset.order_by().values("pk")[: cap + 1]
        try:
            sql, args = sliced.query.get_compiler(queryset.db).as_sql()
        except EmptyResultSet:  # .none(): nothing to count
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped_{len(parts)})")
        params.extend(args)
        names.append(name)
        alias = queryset.db
    if not parts:
        return None, "", [], []
    return alias, "SELECT " + ", ".join(parts), params, names


type Rows = QuerySet[Any] | Callable[[], QuerySet[Any]]


def _built(rows: Rows) -> QuerySet[Any]:
    """A queryset, or what a function given in its place builds (a kept page's rows are
    built only when its statement is compiled)."""
    return rows if isinstance(rows, QuerySet) else rows()


def capped_count(
    queryset: Rows, cap: int | None = None, *, shape: tuple[Any, ...] | None = None
) -> int:
    """The queryset's row count up to ``cap + 1`` (one query). ``shape``: the queryset's key
    in ``work.queue_reads`` (an unfiltered queue page's rows), whose statement is kept; the
    queryset may then be a function that builds it, called only to compile the statement."""
    cap = COUNT_CAP if cap is None else cap
    if shape is None:
        return capped_counts({"n": _built(queryset)}, cap)["n"]
    statement = queue_reads.count_statement(
        (*shape, cap), lambda: capped_statement({"n": _built(queryset)}, cap)
    )
    return run_capped(statement, {"n": 0})["n"]


def count_label(
    value: int, cap: int | None = None, at_least: int = 0, last_page: bool = False
) -> str:
    """``537``, or ``1,000+`` for a capped count. ``at_least``: the rows up to the end of the
    page shown, so a page past the cap says "of 1,050+", and the last page the exact total."""
    cap = COUNT_CAP if cap is None else cap
    if value <= cap:
        return f"{value:,}"
    if last_page and at_least:
        return f"{at_least:,}"
    return f"{max(cap, at_least):,}+"


# --- queues of one type -----------------------------------------------------------------


def queue_queryset(queue: Queue, user: Any, today: dt.date | None = None) -> QuerySet[Any]:
    """The rows of one registered queue, before filters."""
    item_type = registry.type(queue.item_type)
    return queue.select(item_type.visible(user), user, today or timezone.localdate())


def _cursor_value(model: Any, field: str | None, raw: str) -> Any:
    """A cursor value as its column holds it (``field`` None: the primary key). ValueError
    for what the column cannot hold, which the database would refuse with an error: an
    integer past the column's range, ``1e999999`` for a 12-digit money column, a bad date."""
    column = model._meta.pk if field is None else model._meta.get_field(field)
    if not isinstance(column, Field):
        raise ValueError(field)
    try:
        value = column.to_python(raw)
        column.run_validators(value)  # integer range, max digits and places
    except DjangoValidationError:
        raise ValueError(raw) from None
    if value is None:
        raise ValueError(raw)
    return value


# The cursor of a page that ends on a row without a sort value (no column parses it).
NULL_CURSOR = ""


def _after_cursor(
    model: Any, field: str, nullable: bool, cursor: str | None
) -> tuple[str, tuple[Any, ...]]:
    """Where a page starts: ("top", ()), ("after", (value, id)) past a row with a sort
    value, or ("empty", (id,)) among the rows without one; a cursor that does not parse
    starts at the top."""
    decoded = _decode(cursor) if cursor else None
    if decoded is not None and len(decoded) == 2:
        try:
            value = _cursor_value(model, field, decoded[0]) if decoded[0] != NULL_CURSOR else None
            pk = _cursor_value(model, None, decoded[1])
        except ValueError:
            value = pk = None
        if value is not None:
            return "after", (value, pk)
        if pk is not None and nullable and decoded[0] == NULL_CURSOR:
            return "empty", (pk,)
    return "top", ()


def _page_query(
    rows: Rows,
    field: str,
    descending: bool,
    nullable: bool,
    branch: str,
    size: int,
    *values: Any,
    only: tuple[str, ...] = (),
) -> QuerySet[Any]:
    """``queryset`` past the cursor's ``values`` (``branch``), in the sort's order, one row
    more than ``size``; of its columns, ``only`` these when given."""
    queryset = _built(rows)
    model = queryset.model
    if only:
        queryset = queryset.only(*only)
    if branch == "after":
        value, pk = values
        # A row-value comparison, so PostgreSQL starts the index scan at the cursor (an
        # OR of two conditions walked the index from the top: 17 ms vs 0.4 ms at row
        # 17,000 of 100,000). Column names come from the queue's sorts only.
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(model._meta.get_field(field).column)
        op = "<" if descending else ">"
        after = RawSQL(
            f"({table}.{column}, {table}.id) {op} (%s, %s)",
            (value, pk),
            output_field=BooleanField(),
        )
        # The empty values follow every other (NULLS LAST), so they are still to come.
        queryset = queryset.filter(
            Q(after) | Q(**{f"{field}__isnull": True}) if nullable else after
        )
    elif branch == "empty":
        # Inside the empty values: by id alone.
        (pk,) = values
        queryset = queryset.filter(
            **{f"{field}__isnull": True, "pk__lt" if descending else "pk__gt": pk}
        )
    if nullable:
        column_order = (
            F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
        )
        order: list[Any] = [column_order, "-pk" if descending else "pk"]
    else:
        order = [f"-{field}", "-pk"] if descending else [field, "pk"]
    return queryset.order_by(*order)[: size + 1]


def keyset_page(
    queue: Queue,
    queryset: Rows,
    sort: str,
    cursor: str | None,
    size: int,
    *,
    shape: tuple[Any, ...] | None = None,
) -> Page:
    """One page after ``cursor`` in the order of ``sort`` (ties broken by id). Rows whose sort
    value is empty (an undated claim sorted by age) come last, each exactly once.

    ``shape``: ``queryset``'s key in ``work.queue_reads`` (an unfiltered page of a queue
    that allows it): the page is read by the statement kept for that shape, sort, size and
    cursor branch, run with this cursor's values; None: through the ORM (the reference
    path ``tests/work/test_queue_reads.py`` compares it with). ``queryset`` may be a
    function that builds it (rows of the queue's item type): a kept page calls it only to
    compile its statement."""
    sort = sort if sort in queue.sorts else "priority"
    field, descending, _label = queue.sorts[sort]
    item_type = registry.type(queue.item_type)
    model = item_type.model
    nullable = bool(getattr(model._meta.get_field(field), "null", False))
    branch, values = _after_cursor(model, field, nullable, cursor)
    build = partial(
        _page_query,
        queryset,
        field,
        descending,
        nullable,
        branch,
        size,
        only=item_type.page_fields(),
    )
    marks = queue_reads.marks_for(branch, values) if shape is not None else None
    if shape is None or marks is None:
        items = read_once(build(*values))
    else:
        key = (*shape, sort, size, branch, tuple(type(mark) for mark in marks))
        items = queue_reads.page_rows(key, model, build, marks, values)
    next_cursor = None
    if len(items) > size:
        items = items[:size]
        last = items[-1]
        last_value = getattr(last, field)
        next_cursor = _encode([NULL_CURSOR if last_value is None else last_value, last.pk])
    item_type.load_page(items)
    return Page([Row(item, item_type) for item in items], next_cursor, sort)


# --- workload ---------------------------------------------------------------------------


def owner_summary(
    user: Any, practice_id: int, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """Per-owner counts over every type for managers and vendor leads (a grouped query per
    type), most overdue first."""
    today = today or timezone.localdate()
    merged: dict[int | None, dict[str, Any]] = defaultdict(
        lambda: {"open": 0, "overdue": 0, "due_today": 0, "by_type": {}}
    )
    for item_type in registry.types():
        grouped = (
            item_type.visible(user)
            .filter(practice_id=practice_id)
            .values("owner_id", "owner__username", "owner__first_name", "owner__last_name")
            .annotate(
                open=Count("pk"),
                overdue=Count("pk", filter=Q(next_action_due__lt=today)),
                due_today=Count("pk", filter=Q(next_action_due=today)),
            )
            .order_by()
        )
        for row in grouped:
            entry = merged[row["owner_id"]]
            for key in ("owner_id", "owner__username", "owner__first_name", "owner__last_name"):
                entry[key] = row[key]
            for key in ("open", "overdue", "due_today"):
                entry[key] += row[key]
            entry["by_type"][item_type.label] = row["open"]
    return sorted(merged.values(), key=lambda e: (-e["overdue"], e["owner__username"] or ""))
