"""The denial page's "Remittance lines" panel (registered with ``denials.panels``, which
cannot import ar): the posted claim payments of the denied claim, with their adjustments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string

from ar.choices import ClaimPaymentState
from ar.models import ClaimPayment
from practices import permissions as perms

if TYPE_CHECKING:
    from django.http import HttpRequest

    from denials.models import Denial


def remittance_lines(request: HttpRequest, denial: Denial) -> str:
    """Payments posted to the denial's claim that the user may see, or "" when none."""
    payments = list(
        ClaimPayment.objects.visible_to(request.user, perms.POST_PAYMENTS)
        .filter(claim_id=denial.claim_id, state=ClaimPaymentState.POSTED)
        .select_related("remittance")
        .prefetch_related("lines", "adjustments", "remarks")
        .order_by("posted_at", "pk")
    )
    if not payments:
        return ""
    return render_to_string("ar/denial_panel.html", {"payments": payments}, request=request)
