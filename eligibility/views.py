"""The front desk's day sheet (appointments of today and the next days with their
eligibility, copay and estimated patient share) and the eligibility check page.

Pages resolve objects through the scoping primitive (404 for missing and forbidden
alike); recording a result calls ``eligibility.services.check_record_result`` with the
acting user and the version the user saw (a stale one answers 409).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_http_methods

from billing_ops.access import acting_user, request_access
from billing_ops.pages import get_scoped_or_404, scoped_page
from eligibility import selectors, services
from eligibility.forms import CheckResultForm, initial_for
from eligibility.models import EligibilityCheck
from practices import patient_panels, phi_log
from practices import permissions as perms
from practices.account_views import safe_next
from work.services import ItemConflict

DEFAULT_DAYS = 7
MAX_DAYS = 14


def scoped_checks(request: HttpRequest) -> QuerySet[EligibilityCheck]:
    return EligibilityCheck.objects.visible_to(request.user, perms.VERIFY_ELIGIBILITY)


def _window(request: HttpRequest) -> tuple[dt.date, int]:
    start = parse_date(request.GET.get("start", "") or "") if request.GET.get("start") else None
    try:
        days = int(request.GET.get("days", DEFAULT_DAYS))
    except ValueError:
        days = DEFAULT_DAYS
    return start or timezone.localdate(), min(max(days, 1), MAX_DAYS)


@scoped_page(perms.VERIFY_ELIGIBILITY, current_practice=False)
@require_http_methods(["GET"])
def day_sheet(request: HttpRequest) -> HttpResponse:
    """Today's and the next days' appointments of the current practice (``?practices=all``,
    or when the user verifies eligibility elsewhere only: every practice where they do).
    The landing page of the front desk; 404 for people who verify nowhere."""
    access = request_access(request)
    mine = access.grants.practice_ids(perms.VERIFY_ELIGIBILITY)
    if not mine:
        raise Http404("Not found.")
    current = access.practice
    everywhere = request.GET.get("practices") == "all" or current is None or current.pk not in mine
    ids = mine if everywhere else {current.pk}
    start, days = _window(request)
    rows = selectors.day_sheet(ids, start, days)
    phi_log.record_read(request, [row.appointment for row in rows], what="day sheet")
    # The patient's open balance (what to collect at check-in), from the ledger when it is
    # installed and the user works patient balances: one query for the sheet.
    balances = patient_panels.open_balances(
        request.user, {row.appointment.patient_id for row in rows}
    )
    for row in rows:
        row.balance = (balances or {}).get(row.appointment.patient_id)
    by_day: dict[dt.date, list[selectors.DayRow]] = {}
    for row in rows:
        by_day.setdefault(timezone.localtime(row.appointment.starts_at).date(), []).append(row)
    context: dict[str, Any] = {
        "days": sorted(by_day.items()),
        "start": start,
        "span": days,
        "everywhere": everywhere,
        "many_practices": len(mine) > 1,
        "show_auth": selectors.AUTH_COLUMN,
        "show_balance": balances is not None
        and bool(access.grants.practice_ids(perms.WORK_PATIENT_BILLING) & set(ids)),
        "today": timezone.localdate(),
        "previous": start - dt.timedelta(days=days),
        "next": start + dt.timedelta(days=days),
        "here": request.get_full_path(),
    }
    return render(request, "eligibility/day_sheet.html", context)


def _check(request: HttpRequest, pk: int) -> EligibilityCheck:
    queryset = scoped_checks(request).select_related(
        "practice",
        "payer",
        "coverage",
        "owner",
        "verified_by",
        "appointment__patient",
        "appointment__provider",
    )
    check: EligibilityCheck = get_scoped_or_404(queryset, pk=pk)
    return check


def _render(
    request: HttpRequest, check: EligibilityCheck, form: CheckResultForm, status: int = 200
) -> HttpResponse:
    phi_log.record_read(request, [check.appointment], what="eligibility check page")
    context = {
        "check": check,
        "appointment": check.appointment,
        "form": form,
        "activities": check.activities.select_related("actor")[:100],
        "next": safe_next(request, ""),
    }
    return render(request, "eligibility/check_detail.html", context, status=status)


@scoped_page(perms.VERIFY_ELIGIBILITY, current_practice=False)
@require_http_methods(["GET", "POST"])
def check_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The check page: the appointment and coverage, the last result, the form to record
    a new one, the timeline."""
    check = _check(request, pk)
    if request.method != "POST":
        return _render(request, check, CheckResultForm(initial=initial_for(check)))
    form = CheckResultForm(request.POST)
    if not form.is_valid():
        return _render(request, check, form, 400)
    try:
        check = services.check_record_result(
            actor=acting_user(request),
            check=check,
            result=form.to_result(),
            expected_version=form.cleaned_data["version"],
        )
    except ItemConflict as exc:
        messages.error(request, str(exc))
        check.refresh_from_db()
        return _render(request, check, form, 409)
    except ValidationError as exc:
        pairs = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
        for name, errors in pairs:
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
        return _render(request, check, form, 400)
    messages.success(request, f"{check.number}: {check.get_status_display()} recorded.")
    return redirect(safe_next(request, reverse("eligibility-check", args=[check.pk])))
