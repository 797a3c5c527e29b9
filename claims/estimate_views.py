"""The pre-treatment estimate pages: the practice's estimates (predeterminations, CLM19 =
PB) and one estimate with what it asked the payer about, its planned lines. Read-only: an
estimate is tracked, never billed. For people who work insurance billing (``work_claims``)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing_ops.access import request_access
from billing_ops.pages import get_scoped_or_404, scoped_page
from claims.choices import EstimateStatus
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


PAGE_SIZE = 50


@scoped_page(perms.WORK_CLAIMS)
@require_GET
def estimate_list(request: HttpRequest) -> HttpResponse:
    """The current practice's pre-treatment estimates, newest first, by status; the patients
    shown are logged (PHI)."""
    practice = request_access(request).practice
    status = request.GET.get("status", "")
    estimates = (
        Estimate.objects.visible_to(request.user, perms.WORK_CLAIMS)
        .of_practice(practice.pk)
        .select_related("patient", "payer", "provider")
        .order_by("-created_at", "-pk")
    )
    if status in EstimateStatus.values:
        estimates = estimates.filter(status=status)
    else:
        status = ""
    page = Paginator(estimates, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    phi_log.record_read(request, rows, what="estimate list")
    context = {
        "page": page,
        "estimates": rows,
        "practice": practice,
        "status": status,
        "statuses": EstimateStatus.choices,
    }
    return render(request, "claims/estimate_list.html", context)
