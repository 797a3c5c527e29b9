"""The dashboard's figures cached per (practices, period, today, rollup stamp).

A period's figures are a pure function of the stored days the dashboard reads, so they are
cached under a key that names those days: the practices, the period's dates and the
"stamp" of the rows in the read range (the latest ``computed_at`` and the number of rows,
one query on the (practice, day) index). Writing a rollup (nightly, every 15 minutes for
today, a backfill, the demo) changes ``computed_at``, so the next request reads a new key:
nothing has to be deleted. Figures that include today computed live (no stored row of
today for some practice) are never cached: they change with every claim.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, Q

from reports.models import PracticeDay

TIMEOUT = 24 * 3600  # a stale key is never read again; this only frees the memory
VERSION = "kpis-2"  # bump when the cached shape changes


def key(
    practice_ids: Iterable[int], start: dt.date, end: dt.date, today: dt.date, *parts: Any
) -> str | None:
    """The cache key of what is computed from the stored days ``start``..``end`` of these
    practices (``parts``: the period's dates and anything else the result depends on), or
    None when it must not be cached (today in the range but not stored for every practice,
    or nothing stored at all)."""
    ids = sorted(set(practice_ids))
    if not ids:
        return None
    stamp = PracticeDay.objects.filter(
        practice_id__in=ids, day__gte=start, day__lte=min(end, today)
    ).aggregate(latest=Max("computed_at"), rows=Count("id"), today=Count("id", filter=Q(day=today)))
    if stamp["latest"] is None:
        return None
    if start <= today <= end and stamp["today"] < len(ids):
        return None  # today is computed live for some practice
    text = "|".join(
        str(x)
        for x in [VERSION, ",".join(map(str, ids)), start, end, today, *parts]
        + [stamp["latest"].isoformat(), stamp["rows"]]
    )
    return f"{VERSION}:{hashlib.sha256(text.encode()).hexdigest()}"


def through[T](cache_key: str | None, compute: Callable[[], T]) -> T:
    """``compute()``'s result, from the cache under ``cache_key`` when there (None: always
    computed, never stored)."""
    if cache_key is None:
        return compute()
    found = cache.get(cache_key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    value = compute()
    cache.set(cache_key, value, TIMEOUT)
    return value
