"""A queue page's reads by statements kept per page shape (issue 10, speed).

An unfiltered queue page compiled its page query (the item type's visible rows, the queue's
condition, the practice, the keyset cursor, the order and the limit, with its
``select_related`` joins) and its capped count through the ORM on every request: ~2 ms of
CPU at dataset L for SQL that only changes with the shape of the page. Here both are kept
under a key naming everything their SQL is made of:

- the queue, the user, the practice, the day, and the practices where the user holds the
  item type's permission (what ``visible_to`` filters on): the base rows, exact values;
- the sort, the size and the cursor's branch (top, after a value, among the empty values)
  with the type of the cursor's value: the page's narrowing, whose values (the cursor's
  sort value and id) are marks run with this request's.

Only queues that say their condition reads nothing but its queryset
(``Queue.compiled_pages``) and pages without a filter value are kept; any other page is the
ORM's, as before. The kept statements are SQL text, parameters and the row layout, never
rows: every call reads the database. ``tests/work/test_queue_reads.py`` walks every queue,
sort and cursor of the test world both ways and compares the rows field by field.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django_filters.constants import EMPTY_VALUES

from billing_ops.access import grants_for
from billing_ops.compiled import DATE_MARK, INT_MARK, CompiledRead, kept
from work.registry import Queue, registry

CACHE_SIZE = 2048

# The cursor's sort value by its type (as the column's ``to_python`` gives it), and its id:
# values no cursor carries (an id mark apart from the integer one, as both may be ints).
ID_MARK = -7_340_023
VALUE_MARKS: dict[type, Any] = {
    int: INT_MARK,
    dt.date: DATE_MARK,
    Decimal: Decimal("-7340021.17"),
}

# shape + narrowing -> the page's read
_pages: OrderedDict[tuple[Any, ...], CompiledRead] = OrderedDict()
# shape -> capped_statement's (alias, sql, params, names)
_counts: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()
# filter panel key + field name -> the read of the field's choices
_choices: OrderedDict[tuple[Any, ...], CompiledRead] = OrderedDict()


def clear_cache() -> None:
    _pages.clear()
    _counts.clear()
    _choices.clear()


def filtered(filters: Any) -> bool:
    """Whether a queue page's filterset narrows its rows: bound, valid and with a value
    that is not empty (``django_filters`` skips empty values, so the rows are then the
    queryset's own)."""
    if filters is None or not filters.is_bound or not filters.is_valid():
        return False
    return any(value not in EMPTY_VALUES for value in filters.form.cleaned_data.values())


def shape(
    queue: Queue, user: Any, practice_id: int, today: dt.date, *, is_filtered: bool
) -> tuple[Any, ...] | None:
    """The key of an unfiltered page's base rows (``queue_queryset(queue, user, today)``
    at ``practice_id``), or None when the page is read through the ORM."""
    if is_filtered or not queue.compiled_pages:
        return None
    permission = registry.type(queue.item_type).permission
    held = tuple(sorted(grants_for(user).practice_ids(permission)))
    if not held:
        return None
    return (queue.slug, getattr(user, "pk", None), practice_id, today, permission, held)


def marks_for(branch: str, values: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The marks standing for a cursor's ``values`` in ``branch``, or None for a value of a
    type without one."""
    if branch == "top":
        return ()
    if branch == "empty":
        return (ID_MARK,)
    mark = VALUE_MARKS.get(type(values[0]))
    return None if mark is None else (mark, ID_MARK)


def page_rows(
    key: tuple[Any, ...],
    model: Any,
    build: Callable[..., QuerySet[Any]],
    marks: tuple[Any, ...],
    values: tuple[Any, ...],
) -> list[Any]:
    """``build(*values)``'s rows by the statement kept under ``key`` (compiled from
    ``build(*marks)`` on first use)."""
    read = kept(_pages, key, lambda: CompiledRead(lambda: model, None, marks), CACHE_SIZE)
    return read(*values, build=build)


def count_statement(
    key: tuple[Any, ...], compile_: Callable[[], tuple[Any, ...]]
) -> tuple[Any, ...]:
    """The capped count's statement kept under ``key`` (``compile_()`` on first use)."""
    return kept(_counts, key, compile_, CACHE_SIZE)


def choices_key(filters: Any, user: Any, today: dt.date) -> tuple[Any, ...] | None:
    """The key of a filterset's model choices when its own class (not a parent: a subclass
    may narrow its choices otherwise) says they depend only on where the user holds one
    permission (``choices_permission``), else None; None too for a user who holds it
    nowhere (the choices are empty: the ORM answers them without a statement)."""
    if filters is None:
        return None
    permission = type(filters).__dict__.get("choices_permission")
    if not permission:
        return None
    held = tuple(sorted(grants_for(user).practice_ids(permission)))
    if not held:
        return None
    return (type(filters), getattr(user, "pk", None), today, permission, held)


def choice_rows(key: tuple[Any, ...], queryset: QuerySet[Any]) -> list[Any]:
    """``queryset``'s rows by the statement kept under ``key`` (read afresh every call)."""
    model = queryset.model
    read = kept(_choices, key, lambda: CompiledRead(lambda: model, None, ()), CACHE_SIZE)
    return read(build=lambda: queryset)
