"""Which open claims the Unassigned queue lists: no owner, or an owner who can no longer work
claims at the claim's practice (issue 10).

The queue read the holders of each practice and checked every open claim of the practice
against them (``owner_id <> ALL (holders)``): a walk of the practice's whole queue index on
every page, since the rows it wants are rare (63-92 ms at a practice of 125,000 claims at
dataset L, growing with the practice). Here the few people who own open claims of each
practice are found first, by a walk of ``claim_open_owner`` that reads one index entry per
owner (``owners_of_open_claims``), and those of them who do not hold the permission there
are named in the condition: the page reads the unassigned rows and no others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import connections, router
from django.db.models import Q

from billing_ops.access import holders_by_practice
from claims.choices import OPEN_STATUSES
from claims.models import Claim
from practices import permissions as perms

# ``claim_open_owner`` is on these statuses (claims.models): the walk names the same list,
# so PostgreSQL proves the partial index applies.
OPEN = sorted(OPEN_STATUSES)


def _walk_sql(practices: int) -> str:
    """A loose index scan per practice: the smallest owner of its open claims, then the
    next one above it, until there is none (one index probe per owner)."""
    table = connections[router.db_for_read(Claim)].ops.quote_name(Claim._meta.db_table)
    statuses = ", ".join(["%s"] * len(OPEN))
    first = (
        f"SELECT c.owner_id FROM {table} c WHERE c.practice_id = p.id "
        f"AND c.owner_id IS NOT NULL AND c.status IN ({statuses}) ORDER BY c.owner_id LIMIT 1"
    )
    after = (
        f"SELECT c.owner_id FROM {table} c WHERE c.practice_id = w.practice_id "
        f"AND c.owner_id > w.owner_id AND c.status IN ({statuses}) ORDER BY c.owner_id LIMIT 1"
    )
    ids = ", ".join(["(%s)"] * practices)
    return (
        "WITH RECURSIVE w(practice_id, owner_id) AS ("
        f"SELECT p.id, ({first}) FROM (VALUES {ids}) AS p(id) "
        f"UNION ALL SELECT w.practice_id, ({after}) FROM w WHERE w.owner_id IS NOT NULL"
        ") SELECT practice_id, owner_id FROM w WHERE owner_id IS NOT NULL"
    )


def owners_of_open_claims(
    practice_ids: Iterable[int], *, plain: bool = False
) -> dict[int, set[int]]:
    """practice id -> the people who own open claims there (one query). ``plain``: a
    ``DISTINCT`` over the open claims (SQLite's way, and the tests' reference), which reads
    every open claim of the practices."""
    wanted = sorted(set(practice_ids))
    owners: dict[int, set[int]] = defaultdict(set)
    if not wanted:
        return owners
    alias = router.db_for_read(Claim)
    if plain or connections[alias].vendor != "postgresql":
        rows = (
            Claim.objects.using(alias)
            .filter(practice_id__in=wanted, owner_id__isnull=False, status__in=OPEN)
            .values_list("practice_id", "owner_id")
            .distinct()
            .order_by()
        )
        for practice_id, owner_id in rows:
            owners[practice_id].add(owner_id)
        return owners
    params = [*OPEN, *wanted, *OPEN]  # in the order of the text
    with connections[alias].cursor() as cursor:
        cursor.execute(_walk_sql(len(wanted)), params)
        for practice_id, owner_id in cursor.fetchall():
            owners[practice_id].add(owner_id)
    return owners


def unassigned_condition(practice_ids: Iterable[int], *, plain: bool = False) -> Q:
    """Claims of ``practice_ids`` whose owner is missing or does not hold ``work_claims``
    at the claim's practice (the same rules as ``holder_condition``): the owners of each
    practice's open claims, then which of them hold there (``holders_by_practice`` among
    them), three queries in all."""
    wanted = sorted(set(practice_ids))
    owners = owners_of_open_claims(wanted, plain=plain)
    everyone = set().union(*owners.values()) if owners else set()
    holders = holders_by_practice(perms.WORK_CLAIMS, wanted, user_ids=everyone)
    condition = Q(owner__isnull=True)
    for practice_id in wanted:
        strays = owners.get(practice_id, set()) - holders.get(practice_id, set())
        if strays:
            condition |= Q(practice_id=practice_id, owner_id__in=sorted(strays))
    return condition
