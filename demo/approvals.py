"""Demo: a denial's insurance write-off above the practice's threshold, asked for by the
vendor's biller and waiting for the practice manager in Approvals (issue 13, 4). Run after
the remittances (the denials) and the vendor assignments; idempotent: a practice that
already has one gets no second."""

from __future__ import annotations

from typing import Any

from ar.account_choices import AdjustmentKind
from ar.ledger_models import AdjustmentRequest
from billing_ops.access import has_perm
from denials import services as denial_services
from denials.choices import DenialCategory, DenialStatus, WriteOffStatus
from denials.models import Denial
from practices import permissions as perms
from practices.models import Practice

REQUESTERS = ("vera.vendor", "val.vendorlead", "bill.biller")
# Denials a biller would rather write off than appeal: the demo's "provider type" denial
# (CO-170), else a timely-filing one nobody appealed.
CATEGORIES = (DenialCategory.OTHER, DenialCategory.TIMELY_FILING)


def seed_write_off_approvals(practice: Practice, users: dict[str, Any]) -> int:
    """The practice's largest open denial of those categories (no appeal, no write-off
    asked) written off by the vendor above the threshold: 1 when made now, else 0."""
    if AdjustmentRequest.objects.filter(practice=practice, kind=AdjustmentKind.INSURANCE).exists():
        return 0
    threshold = denial_services.write_off_threshold(practice.pk)
    candidates = (
        Denial.objects.filter(
            practice=practice,
            status=DenialStatus.OPEN,
            amount__gt=threshold,
            appeals__isnull=True,
        )
        .exclude(write_offs__status=WriteOffStatus.PENDING)
        .order_by("-amount", "pk")
    )
    denial = next(
        (d for c in CATEGORIES if (d := candidates.filter(category=c).first()) is not None), None
    )
    requester = next(
        (
            users[name]
            for name in REQUESTERS
            if name in users and has_perm(users[name], perms.WORK_CLAIMS, practice.pk)
        ),
        None,
    )
    if denial is None or requester is None:
        return 0
    denial_services.denial_write_off(
        actor=requester,
        denial=denial,
        reason="Filed after the payer's limit; no clearinghouse proof of timely submission.",
    )
    return 1
