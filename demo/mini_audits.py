"""Demo: a mini-audit per practice with a few root causes recorded, and a rule proposed from
repeated denials waiting in each practice's payer house rule library (issue 14).

The demo's claims were denied while seeding (their timeline says today), so the audit
covers this month, as the 1st of next month's job would. A second seed run adds nothing:
one audit per practice and month, causes recorded only on an audit that has none, one
proposal per pattern.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from denials.models import Denial, RuleProposal
from practices.models import Practice
from sops import qa_audit
from sops.qa_audit_models import MiniAudit, MiniAuditClaim, RootCause

CAUSES = (RootCause.CODING, RootCause.DOCUMENTATION, RootCause.ELIGIBILITY)


def _next_first(today: dt.date) -> dt.date:
    return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def seed_mini_audits(practices: Iterable[Practice]) -> None:
    """This month's mini-audit at each practice, three root causes recorded by its reviewer."""
    practices = list(practices)
    today = timezone.localdate()
    qa_audit.sample_month(_next_first(today))
    for audit in MiniAudit.objects.filter(practice__in=practices, month=f"{today:%Y-%m}"):
        if audit.entries.exclude(root_cause="").exists():
            continue
        entries = list(audit.entries.order_by("claim_id")[: len(CAUSES)])
        causes = {
            entry.claim_id: {"root_cause": cause, "note": "Demo: found in the chart"}
            for entry, cause in zip(entries, CAUSES, strict=False)
        }
        if causes:
            qa_audit.mini_audit_record(actor=audit.owner, audit=audit, causes=causes)
    for practice in practices:
        _propose(practice, today)


def _propose(practice: Practice, today: dt.date) -> None:
    """The loop proposes a rule after three denials of one payer x CARC x procedure in 90
    days; the demo's denials are one a category, so it stands in with the pattern of its
    latest line denial (as ``denials.loop.note_pattern`` would record it)."""
    if RuleProposal.objects.filter(practice=practice).exists():
        return
    denial = (
        Denial.objects.filter(practice=practice, line__isnull=False)
        .select_related("claim", "line")
        .order_by("-received_on", "-pk")
        .first()
    )
    if denial is None or denial.line is None:
        return
    RuleProposal.objects.create(
        practice=practice,
        payer_id=denial.claim.payer_id,
        carc=denial.carc,
        procedure_code=denial.line.procedure_code,
        occurrences=3,
        first_seen=denial.received_on - dt.timedelta(days=40),
        last_seen=denial.received_on,
    )


def reset_mini_audits(practices: Iterable[Practice]) -> None:
    """Remove the demo practices' mini-audits (inside ``pgtrigger.ignore``, before claims)."""
    practices = list(practices)
    MiniAuditClaim.objects.filter(practice__in=practices).delete()
    MiniAudit.objects.filter(practice__in=practices).delete()
