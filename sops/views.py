"""Billing function pages: the managers' list and edit form, and "Who to contact for what".

The function pages need ``manage_sops`` at the switcher's practice; the contact page is
for everybody who works the practice (``view_practice``). Missing and forbidden answer 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from billing_ops.access import holders, request_access
from practices import permissions as perms
from practices.choices import ServiceArea
from practices.models import Engagement, Membership
from sops import forms
from sops.choices import FUNCTION_AREA, BillingFunctionKind
from sops.function_services import billing_function_set
from sops.models import BillingFunction

if TYPE_CHECKING:
    from django.contrib.auth.models import User

from billing_ops.pages import scoped_page


def _actor(request: HttpRequest) -> User:
    return cast("User", request.user)


def form_errors(form: Any, exc: ValidationError) -> None:
    """A service's refusal on the form: per field where the form has it, else on top."""
    pairs = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for field, errors in pairs:
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


def _functions(request: HttpRequest, codename: str, practice_id: int) -> dict[str, Any]:
    rows = (
        BillingFunction.objects.visible_to(request.user, codename)
        .of_practice(practice_id)
        .select_related("owner", "backup", "escalation_contact", "sop")
    )
    return {function.kind: function for function in rows}


@scoped_page(perms.MANAGE_SOPS)
@require_GET
def function_list(request: HttpRequest) -> HttpResponse:
    """Every kind of billing function of the practice: set ones and the ones still missing."""
    practice = request_access(request).practice
    by_kind = _functions(request, perms.MANAGE_SOPS, practice.pk)
    rows = [(kind, label, by_kind.get(kind)) for kind, label in BillingFunctionKind.choices]
    return render(request, "sops/function_list.html", {"rows": rows})


@scoped_page(perms.MANAGE_SOPS)
@require_http_methods(["GET", "POST"])
def function_edit(request: HttpRequest, kind: str) -> HttpResponse:
    """Set a function's owner, backup, sourcing, turnaround and escalation contact."""
    if kind not in BillingFunctionKind.values:
        raise Http404("Not found.")
    practice = request_access(request).practice
    function = _functions(request, perms.MANAGE_SOPS, practice.pk).get(kind)
    people = holders(perms.VIEW_PRACTICE, practice.pk).order_by("username")
    initial = (
        {
            "owner": function.owner_id,
            "backup": function.backup_id,
            "sourcing": function.sourcing,
            "turnaround_days": function.turnaround_days,
            "escalation_contact": function.escalation_contact_id,
            "how_to_reach": function.how_to_reach,
        }
        if function is not None
        else {"turnaround_days": 2}
    )
    form = forms.BillingFunctionForm(request.POST or None, initial=initial, people=people)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["owner"] = data["owner"] or (function.owner if function else None)
            try:
                billing_function_set(actor=_actor(request), practice=practice, kind=kind, **data)
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, f"{BillingFunctionKind(kind).label}: saved.")
                return redirect("billing-function-list")
        status = 400
    history = (
        function.history.select_related("history_user").order_by("-history_date")[:20]
        if function is not None
        else []
    )
    context = {
        "form": form,
        "kind_label": BillingFunctionKind(kind).label,
        "function": function,
        "history": history,
    }
    return render(request, "sops/function_edit.html", context, status=status)


@scoped_page(perms.VIEW_PRACTICE)
@require_GET
def contacts(request: HttpRequest) -> HttpResponse:
    """Who to contact for what: per service area, each function's owner, backup,
    turnaround and how to reach them; the vendor's contacts; who is away today."""
    practice = request_access(request).practice
    today = timezone.localdate()
    by_kind = _functions(request, perms.VIEW_PRACTICE, practice.pk)
    away = dict(
        Membership.objects.visible_to(request.user, perms.VIEW_PRACTICE)
        .of_practice(practice.pk)
        .filter(away_until__gte=today)
        .values_list("user_id", "away_until")
    )
    areas = []
    for area, area_label in ServiceArea.choices:
        rows = []
        for kind, label in BillingFunctionKind.choices:
            if FUNCTION_AREA[kind] != area:
                continue
            function = by_kind.get(kind)
            owner_away = away.get(function.owner_id) if function else None
            backup_away = away.get(function.backup_id) if function and function.backup_id else None
            rows.append((label, function, owner_away, backup_away))
        areas.append((area_label, rows))
    engagements = (
        Engagement.objects.visible_to(request.user, perms.VIEW_PRACTICE)
        .of_practice(practice.pk)
        .in_force(today)
        .select_related("vendor", "primary_contact", "backup_contact")
    )
    context = {"areas": areas, "engagements": engagements, "area_labels": dict(ServiceArea.choices)}
    return render(request, "sops/contacts.html", context)
