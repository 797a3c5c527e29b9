"""Template context: the current practice, the switcher's choices and the main navigation."""

from typing import Any

from django.http import HttpRequest

from billing_ops.access import request_access
from practices import permissions as perms
from practices.nav import nav_html


def current_practice_context(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    access = request_access(request)
    practice = access.practice
    flags = {
        "can_work_claims": practice is not None and access.has(perms.WORK_CLAIMS),
        "current_practice": practice,
        "visible_practices": access.practices,
        "can_manage_access": practice is not None and access.has(perms.MANAGE_ACCESS),
        # Payers and providers (practices.reference_views): managers only.
        "can_manage_payers": practice is not None and access.has(perms.MANAGE_SOPS),
        # Remittances (835) and acknowledgements (277CA): the insurance billing area.
        "can_post_payments": practice is not None and access.has(perms.POST_PAYMENTS),
        # Patient balances (ar accounts): front desk, billers, the patient billing area.
        "can_work_patient_billing": practice is not None and access.has(perms.WORK_PATIENT_BILLING),
        # The day sheet and eligibility checks: front desk, billers, verification area.
        "can_verify_eligibility": practice is not None and access.has(perms.VERIFY_ELIGIBILITY),
        # The recare list: managers and the recare area.
        "can_work_recare": practice is not None and access.has(perms.WORK_RECARE),
        # The KPI dashboard (reports): managers and vendor leads.
        "can_view_kpis": practice is not None and access.has(perms.VIEW_KPIS),
    }
    # "People": managers, and vendor leads for their own staff.
    flags["can_see_people"] = flags["can_manage_access"] or bool(
        getattr(getattr(request.user, "vendor_staff", None), "is_lead", False)
    )
    match = getattr(request, "resolver_match", None)
    url_name = match.url_name if match is not None else None
    slug = match.kwargs.get("slug") if match is not None else None
    return {**flags, "nav": nav_html(flags, url_name, slug)}
