"""The pre-treatment estimate page: what a predetermination (CLM19 = PB) asked the payer
about, with its planned lines. Read-only: an estimate is tracked, never billed."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing_ops.pages import get_scoped_or_404, scoped_page
from claims.models import Estimate
from practices import permissions as perms
from practices import phi_log


# Scoped by the estimate's own practice (like the claim page), not the switcher's.
@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_GET
def estimate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One pre-treatment estimate with its planned lines; the read is logged (PHI)."""
    queryset = Estimate.objects.visible_to(request.user, perms.WORK_CLAIMS).select_related(
        "practice", "patient", "payer", "provider", "coverage"
    )
    estimate = get_scoped_or_404(queryset, pk=pk)
    phi_log.record_read(request, [estimate], what="estimate page")
    return render(request, "claims/estimate_detail.html", {"estimate": estimate})
