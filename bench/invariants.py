"""The rules the services keep, checked against the database (dataset L, or any data).

    from bench.invariants import check
    problems = check(practice_ids)   # [] when every rule holds

PostgreSQL enforces the constraints (unique numbers, foreign keys, checks) by itself; this
checks the rules that live in the services: the next-action invariant, owners who may
work claims where they own them, totals that add up, dates that follow the status, a
history row (naming who) for every claim and line, a timeline that matches the claim, and
the stored priority against ``Claim.compute_priority`` on a sample (the app's own code).
Each SQL rule counts the rows breaking it and names one. Priorities are as of ``today``
(the nightly refresh moves them as days pass), so check on the day of generation.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

# name -> SQL selecting the ids of the claims that break the rule ({ids}: the practices).
RULES: dict[str, str] = {
    "open claim without next action, owner or due date": (
        "SELECT id FROM claims_claim c WHERE c.practice_id IN ({ids}) "
        "AND c.status NOT IN ('closed', 'void') AND (c.next_action = '' "
        "OR c.owner_id IS NULL OR c.next_action_due IS NULL)"
    ),
    "waiting claim without a reason": (
        "SELECT id FROM claims_claim c WHERE c.practice_id IN ({ids}) "
        "AND c.next_action = 'wait' AND btrim(c.wait_reason) = ''"
    ),
    "closed or void claim with a next action": (
        "SELECT id FROM claims_claim c WHERE c.practice_id IN ({ids}) "
        "AND c.status IN ('closed', 'void') AND (c.next_action <> '' "
        "OR c.next_action_due IS NOT NULL)"
    ),
    "claim without lines": (
        "SELECT id FROM claims_claim c WHERE c.practice_id IN ({ids}) "
        "AND NOT EXISTS (SELECT 1 FROM claims_claimline l WHERE l.claim_id = c.id)"
    ),
    "total billed is not the sum of the lines": (
        "SELECT c.id FROM claims_claim c JOIN claims_claimline l ON l.claim_id = c.id "
        "WHERE c.practice_id IN ({ids}) GROUP BY c.id, c.total_billed "
        "HAVING c.total_billed <> sum(l.charge) OR max(l.line_number) <> count(*)"
    ),
    "money does not add up (negative, paid + patient <> allowed, or over billed)": (
        "SELECT id FROM claims_claim c WHERE c.practice_id IN ({ids}) AND ("
        "least(c.total_billed, c.total_allowed, c.total_paid, c.patient_responsibility, "
        "c.total_adjusted) < 0 OR c.total_paid + c.patient_responsibility <> c.total_allowed "
        "OR c.total_paid + c.patient_responsibility + c.total_adjusted > c.total_billed)"
    ),
    "closed after payment without a zero balance": (
        "SELECT id FROM claims_claim c WHERE c.practice_id IN ({ids}) AND c.status = 'closed' "
        "AND c.total_paid + c.patient_responsibility + c.total_adjusted <> c.total_billed"
    ),
    "unpaid status with money paid": (
        "SELECT id FROM claims_claim c WHERE c.practice_id IN ({ids}) AND c.status IN "
        "('draft', 'ready', 'submitted', 'accepted', 'rejected', 'in_adjudication', 'void') "
        "AND (c.total_paid <> 0 OR c.total_allowed <> 0)"
    ),
    "claim and its coverage disagree (patient, payer, practice, format)": (
        "SELECT c.id FROM claims_claim c JOIN practices_coverage v ON v.id = c.coverage_id "
        "JOIN practices_payer p ON p.id = c.payer_id JOIN practices_patient t "
        "ON t.id = c.patient_id JOIN practices_provider r ON r.id = c.provider_id "
        "WHERE c.practice_id IN ({ids}) AND (v.patient_id <> c.patient_id "
        "OR v.payer_id <> c.payer_id OR v.practice_id <> c.practice_id "
        "OR p.practice_id <> c.practice_id OR t.practice_id <> c.practice_id "
        "OR r.practice_id <> c.practice_id OR c.claim_format <> p.claim_format)"
    ),
    "timely filing deadline is not the service date + the payer's days": (
        "SELECT c.id FROM claims_claim c JOIN practices_payer p ON p.id = c.payer_id "
        "WHERE c.practice_id IN ({ids}) AND c.service_date_from IS NOT NULL "
        "AND c.timely_filing_deadline <> c.service_date_from + p.timely_filing_days"
    ),
    "dates out of order (service, created, updated, submitted, due)": (
        "SELECT id FROM claims_claim c WHERE c.practice_id IN ({ids}) AND ("
        "c.service_date_from > (c.created_at AT TIME ZONE %(tz)s)::date "
        "OR c.updated_at < c.created_at OR c.updated_at > now() "
        "OR c.first_submitted_at < c.created_at OR c.first_submitted_at > c.updated_at "
        "OR c.service_date_to < c.service_date_from "
        "OR c.next_action_due < (c.created_at AT TIME ZONE %(tz)s)::date)"
    ),
    "submission record does not fit the status": (
        "SELECT id FROM claims_claim c WHERE c.practice_id IN ({ids}) AND ("
        "(c.first_submitted_at IS NULL) <> (c.submission_count = 0) "
        "OR (c.status IN ('draft', 'ready') AND c.submission_count > 0) "
        "OR (c.status NOT IN ('draft', 'ready', 'void') AND c.submission_count = 0))"
    ),
    "claim without a history row naming who": (
        "SELECT id FROM claims_claim c WHERE c.practice_id IN ({ids}) AND NOT EXISTS ("
        "SELECT 1 FROM claims_historicalclaim h WHERE h.id = c.id "
        "AND h.history_user_id IS NOT NULL)"
    ),
    "line without a history row naming who": (
        "SELECT l.claim_id FROM claims_claimline l JOIN claims_claim c ON c.id = l.claim_id "
        "WHERE c.practice_id IN ({ids}) AND NOT EXISTS (SELECT 1 FROM "
        "claims_historicalclaimline h WHERE h.id = l.id AND h.history_user_id IS NOT NULL)"
    ),
    "history row that differs from the claim (status, owner, next action, money)": (
        "SELECT c.id FROM claims_claim c JOIN claims_historicalclaim h ON h.id = c.id "
        "WHERE c.practice_id IN ({ids}) AND h.history_date = (SELECT max(x.history_date) "
        "FROM claims_historicalclaim x WHERE x.id = c.id) AND (h.status, h.owner_id, "
        "h.next_action, h.next_action_due, h.total_billed, h.total_paid) IS DISTINCT FROM "
        "(c.status, c.owner_id, c.next_action, c.next_action_due, c.total_billed, c.total_paid)"
    ),
    "claim without its 'created' timeline entry": (
        "SELECT id FROM claims_claim c WHERE c.practice_id IN ({ids}) AND NOT EXISTS ("
        "SELECT 1 FROM claims_claimactivity a WHERE a.claim_id = c.id AND a.kind = 'created')"
    ),
    "follow-up count is not the follow-ups on the timeline": (
        "SELECT c.id FROM claims_claim c LEFT JOIN claims_claimactivity a "
        "ON a.claim_id = c.id AND a.kind = 'follow_up' WHERE c.practice_id IN ({ids}) "
        "GROUP BY c.id, c.follow_up_count HAVING count(a.id) <> c.follow_up_count"
    ),
    "timeline entry outside the claim's life": (
        "SELECT c.id FROM claims_claim c JOIN claims_claimactivity a ON a.claim_id = c.id "
        "WHERE c.practice_id IN ({ids}) AND (a.at < c.created_at OR a.at > c.updated_at)"
    ),
    "tooth of a dental line not its first tooth, or teeth on a medical line": (
        "SELECT c.id FROM claims_claimline l JOIN claims_claim c ON c.id = l.claim_id "
        "JOIN practices_practice p ON p.id = c.practice_id WHERE c.practice_id IN ({ids}) "
        "AND ((l.teeth <> '[]'::jsonb AND l.teeth->0->>'tooth' <> l.tooth) "
        "OR (l.tooth <> '' AND l.teeth = '[]'::jsonb) "
        "OR (p.kind = 'medical' AND l.teeth <> '[]'::jsonb))"
    ),
    "held claim (a dataset starts with nobody's hold)": (
        "SELECT id FROM claims_claim c WHERE c.practice_id IN ({ids}) "
        "AND (c.locked_by_id IS NOT NULL OR c.locked_until IS NOT NULL)"
    ),
}


def check(
    practice_ids: list[int],
    *,
    sample: int = 1000,
    today: dt.date | None = None,
    say: Callable[[str], None] | None = None,
) -> list[str]:
    """Every rule against the claims of ``practice_ids``; returns what broke (empty: all
    hold). ``sample`` claims are checked with the app's own functions as well."""
    from django.conf import settings
    from django.db import connection

    ids = ", ".join(str(int(i)) for i in practice_ids) or "NULL"
    problems = []
    with connection.cursor() as cursor:
        for name, sql in RULES.items():
            t0 = time.perf_counter()
            query = f"SELECT count(*), min(id) FROM ({sql.format(ids=ids)}) broken(id)"
            cursor.execute(query, {"tz": settings.TIME_ZONE})
            count, example = cursor.fetchone()
            if say:
                say(f"  {name}: {count:,} ({time.perf_counter() - t0:.1f} s)")
            if count:
                problems.append(f"{name}: {count:,} claim(s), e.g. claim {example}")
    problems += _owners(practice_ids)
    problems += _sample(practice_ids, sample, today, say)
    return problems


def _owners(practice_ids: list[int]) -> list[str]:
    """Every owner may work claims where they own them (kernel ``billing_ops.access``)."""
    from django.contrib.auth import get_user_model

    from billing_ops.access import has_perm
    from claims.models import Claim
    from practices import permissions as perms

    pairs = set(
        Claim.objects.filter(practice_id__in=practice_ids, owner__isnull=False)
        .values_list("owner_id", "practice_id")
        .distinct()
    )
    users = get_user_model().objects.in_bulk({owner for owner, _p in pairs})
    return [
        f"owner {users[owner]} cannot work claims at practice {practice}"
        for owner, practice in sorted(pairs)
        if not has_perm(users[owner], perms.WORK_CLAIMS, practice)
    ]


def _sample(
    practice_ids: list[int], size: int, today: dt.date | None, say: Callable[[str], None] | None
) -> list[str]:
    """Stored priority and reasons = ``compute_priority``; the next-action invariant by
    ``work.services.check_next_action``; on ``size`` claims spread over the id range."""
    from django.core.exceptions import ValidationError
    from django.db.models import Max, Min
    from django.utils import timezone

    from claims.models import Claim
    from work.services import check_next_action

    today = today or timezone.localdate()
    claims = Claim.objects.filter(practice_id__in=practice_ids)
    bounds = claims.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return ["no claims"]
    step = max((bounds["high"] - bounds["low"] + 1) // size, 1)
    picked = list(range(bounds["low"], bounds["high"] + 1, step))[:size]
    problems = []
    checked = 0
    for claim in claims.filter(pk__in=picked):
        checked += 1
        rank = claim.compute_priority(today)
        if (claim.priority, list(claim.priority_reasons)) != (rank.score, list(rank.reasons)):
            problems.append(
                f"claim {claim.pk}: stored priority {claim.priority} "
                f"{claim.priority_reasons} but compute_priority gives {rank.score} "
                f"{list(rank.reasons)}"
            )
        try:
            check_next_action(claim)
        except ValidationError as exc:
            problems.append(f"claim {claim.pk}: {exc.messages}")
    if say:
        say(f"  sample: {checked:,} claims against compute_priority and check_next_action")
    return problems[:20]


def owners_share(practice_id: int) -> dict[Any, int]:
    """Claims per owner at one practice (for the report)."""
    from django.db.models import Count

    from claims.models import Claim

    rows = (
        Claim.objects.filter(practice_id=practice_id)
        .values_list("owner__username")
        .annotate(n=Count("id"))
    )
    return dict(rows)
