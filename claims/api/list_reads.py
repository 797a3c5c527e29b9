"""The claim list's page query kept per page shape (issue 10, speed).

A ``GET /api/v1/claims/?queue=<slug>`` built its queryset (the claims the user may work,
the list's columns and joins, the queue's condition) and compiled its page query (keyset
cursor, order, limit) through the ORM on every request: ~1 ms of CPU for SQL that changes
only with the shape of the page. Here the statement is kept under a key naming everything
its SQL is made of:

- the queue, the user, the day (``my-day`` reads the user's claims due by today) and the
  practices where the user works claims (what ``visible_to`` filters on): exact values;
- the page size, the direction and whether a cursor narrows the page: the cursor's
  priority and id are marks, run with this request's values (``CompiledValues``, whose
  marks-as-parameters check falls back to the ORM).

The page is read as values (``rows.ClaimValues``: the claim's columns and its patient's,
payer's and owner's names), not model instances: building 200 instances a page (claim,
patient, payer, owner) cost more CPU than the rest of the list.

Only queues whose condition reads nothing but its queryset are kept (``my-day`` and
``Queue.compiled_pages``: not unassigned, which reads the practices' holders first, so its
page is read as values by the ORM); a list request with any filter, and every other list,
is the ORM's, as model instances. The kept statements are SQL text, parameters and the row
layout, never rows: every call reads the database. ``tests/claims/test_api_list_reads.py``
walks every kept queue both ways and compares the answers.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet

from billing_ops.access import visible_practice_ids
from billing_ops.compiled import INT_MARK, CompiledValues, kept
from claims.api.rows import VALUE_COLUMNS, ClaimValues
from claims.models import Claim
from claims.queues import CLAIM_QUEUES
from practices import permissions as perms

CACHE_SIZE = 2048
# The cursor's priority and id (integers): values no cursor of a real row carries, apart
# from each other, as the statement finds each mark's place by its value.
CURSOR_MARKS = (INT_MARK, -7_340_027)
KEPT_QUEUES = frozenset({"my-day", *(queue.slug for queue in CLAIM_QUEUES if queue.compiled_pages)})

_reads: OrderedDict[tuple[Any, ...], CompiledValues] = OrderedDict()


def clear_cache() -> None:
    _reads.clear()


def shape(slug: str, user: Any, today: dt.date) -> tuple[Any, ...] | None:
    """The key of the claims of queue ``slug`` that ``user`` may work on ``today``, or None
    when that list is read through the ORM."""
    if slug not in KEPT_QUEUES:
        return None
    held = tuple(sorted(visible_practice_ids(user, perms.WORK_CLAIMS)))
    if not held:
        return None
    return ("claims-api", slug, getattr(user, "pk", None), today, held)


def marks_for(values: Sequence[Any] | None) -> tuple[Any, ...] | None:
    """The marks standing for a cursor's ``values`` (none without a cursor), or None for
    values that are not the two integers of the claim list's cursor."""
    if values is None:
        return ()
    # The priority comes as psycopg's Int4, the id as int: each is run as given.
    integers = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    if len(values) != len(CURSOR_MARKS) or not integers:
        return None
    return CURSOR_MARKS


def page_rows(
    key: tuple[Any, ...] | None,
    build: Callable[..., QuerySet[Claim]],
    marks: tuple[Any, ...] | None,
    values: Sequence[Any],
) -> list[ClaimValues]:
    """The page ``build(*values)`` selects, as ``ClaimValues`` (its columns read as values:
    no model instances), by the statement kept under ``key`` (compiled from
    ``build(*marks)`` on first use); by the ORM without a key or ``marks``."""

    def read_values(*given: Any) -> QuerySet[Any]:
        return build(*given).values_list(*VALUE_COLUMNS)

    if key is None or marks is None:
        return [ClaimValues._make(row) for row in read_values(*values)]
    # The kept read keeps no build: this request's compiles it on first use (a build that
    # reaches the request, its view and its response was ~450 KiB a key at 150 rows).
    read = kept(_reads, key, lambda: CompiledValues(lambda: Claim, None, marks), CACHE_SIZE)
    rows = read(*values, build=read_values)
    return [ClaimValues._make(row) for row in rows]
