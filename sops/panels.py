"""The claim page's Escalations panel (registered with ``claims.panels``): the claim's
escalations the user may read, with their answers, and the form to raise one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string

from billing_ops.access import has_perm
from practices import permissions as perms
from sops.choices import BillingFunctionKind
from sops.escalation_services import readable

if TYPE_CHECKING:
    from django.http import HttpRequest

    from claims.models import Claim


def claim_escalations(request: HttpRequest, claim: Claim) -> str:
    """Escalations about this claim and the raise form (for those who work claims)."""
    rows = list(
        readable(request.user)
        .filter(subject_type="claim", subject_id=claim.pk)
        .select_related("owner", "answered_by", "function")
        .order_by("-raised_at", "-pk")
    )
    can_raise = has_perm(request.user, perms.WORK_CLAIMS, claim.practice_id)
    if not rows and not can_raise:
        return ""
    context = {
        "rows": rows,
        "claim": claim,
        "can_raise": can_raise,
        "kinds": BillingFunctionKind.choices,
    }
    return render_to_string("sops/claim_panel.html", context, request=request)
