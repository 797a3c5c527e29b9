"""Prior authorization pages: the practice's list with a form to record one, and one
authorization's page (status, number, dates, units, renewal, timeline).

Scoped by ``verify_eligibility`` (front desk, billers, managers, vendor staff with the
insurance verification area): another practice's authorization answers 404 like a missing
one. Every action calls a service with the acting user and the version the user saw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing_ops.access import acting_user, request_access
from billing_ops.pages import get_scoped_or_404, scoped_page
from eligibility import authorizations as services
from eligibility.auth_models import AuthStatus, PriorAuthorization
from practices import phi_log
from practices.models import Patient, Payer
from work.services import ItemConflict

PERM = services.PERM
DATE = forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"})
TEXT = forms.TextInput(attrs={"class": "form-control form-control-sm"})
NUMBER = forms.NumberInput(attrs={"class": "form-control form-control-sm"})
SELECT = forms.Select(attrs={"class": "form-select form-select-sm"})


def _codes(value: str) -> list[str]:
    return [c for c in value.replace(";", ",").replace(" ", ",").split(",") if c.strip()]


class AuthorizationCreateForm(forms.Form):
    patient_account = forms.CharField(max_length=40, label="Patient account", widget=TEXT)
    payer = forms.ModelChoiceField(queryset=Payer.objects.none(), widget=SELECT)
    procedure_codes = forms.CharField(
        max_length=200, widget=TEXT, help_text="Comma separated, e.g. D2740, D2950"
    )
    status = forms.ChoiceField(
        choices=[(s, AuthStatus(s).label) for s in ("needed", "requested", "approved")],
        widget=SELECT,
    )
    number = forms.CharField(max_length=50, required=False, widget=TEXT)
    valid_from = forms.DateField(required=False, widget=DATE)
    valid_to = forms.DateField(required=False, widget=DATE)
    units_approved = forms.IntegerField(min_value=0, max_value=9999, initial=0, widget=NUMBER)

    def __init__(self, *args: Any, practice: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        self.fields["payer"].queryset = Payer.objects.filter(practice=practice).order_by("name")  # type: ignore[attr-defined]

    def clean_patient_account(self) -> Patient:
        account = self.cleaned_data["patient_account"].strip()
        patient = Patient.objects.filter(practice=self.practice, account_number=account).first()
        if patient is None:
            raise forms.ValidationError(f"No patient with account {account} here.")
        return patient


class AuthorizationUpdateForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=AuthStatus.choices, widget=SELECT)
    number = forms.CharField(max_length=50, required=False, widget=TEXT)
    valid_from = forms.DateField(required=False, widget=DATE)
    valid_to = forms.DateField(required=False, widget=DATE)
    units_approved = forms.IntegerField(min_value=0, max_value=9999, widget=NUMBER)


class UnitsForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    units = forms.IntegerField(min_value=1, max_value=9999, initial=1, widget=NUMBER)


class RenewForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


def _errors_to_form(form: forms.Form, exc: ValidationError) -> None:
    pairs = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for field, errors in pairs:
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@scoped_page(PERM)
@require_http_methods(["GET", "POST"])
def authorization_list(request: HttpRequest) -> HttpResponse:
    """The practice's authorizations (open ones, or all) and the form to record one."""
    practice = request_access(request).practice
    posted = request.method == "POST"
    form = AuthorizationCreateForm(request.POST if posted else None, practice=practice)
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            item = services.authorization_create(
                actor=acting_user(request),
                patient=data["patient_account"],
                payer=data["payer"],
                procedure_codes=_codes(data["procedure_codes"]),
                status=data["status"],
                number=data["number"],
                valid_from=data["valid_from"],
                valid_to=data["valid_to"],
                units_approved=data["units_approved"],
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        except PermissionDenied:
            raise Http404("Not found.") from None
        else:
            messages.success(request, f"{item.label} recorded.")
            return redirect("authorization-detail", pk=item.pk)
    if posted:
        # A refused form shows its errors alone: no list (and no PHI read) on the way.
        context = {"form": form, "items": None, "show_all": False, "practice": practice}
        return render(request, "eligibility/authorization_list.html", context, status=400)
    show_all = request.GET.get("show") == "all"
    items = (
        PriorAuthorization.objects.visible_to(request.user, PERM)
        .filter(practice=practice)
        .select_related("patient", "payer", "owner")
        .order_by("closed_at", "-priority", "-pk")
    )
    if not show_all:
        items = items.filter(closed_at__isnull=True)
    rows = list(items[:200])
    phi_log.record_read(request, rows, what="prior authorizations")
    context = {"form": form, "items": rows, "show_all": show_all, "practice": practice}
    return render(request, "eligibility/authorization_list.html", context)


def _authorization(request: HttpRequest, pk: int) -> PriorAuthorization:
    queryset = PriorAuthorization.objects.visible_to(request.user, PERM).select_related(
        "practice", "patient", "payer", "owner", "renews", "appointment"
    )
    item: PriorAuthorization = get_scoped_or_404(queryset, pk=pk)
    return item


def _render(
    request: HttpRequest, item: PriorAuthorization, status: int = 200, **bound: Any
) -> HttpResponse:
    phi_log.record_read(request, [item], what="prior authorization page")
    initial = {"version": item.version}
    context = {
        "item": item,
        "activities": item.activities.select_related("actor")[:200],
        "renewals": item.renewals.all(),
        "update_form": bound.get("update")
        or AuthorizationUpdateForm(
            initial={
                **initial,
                "status": item.status,
                "number": item.number,
                "valid_from": item.valid_from,
                "valid_to": item.valid_to,
                "units_approved": item.units_approved,
            }
        ),
        "units_form": bound.get("units") or UnitsForm(initial=initial),
        "renew_form": bound.get("renew") or RenewForm(initial=initial),
    }
    return render(request, "eligibility/authorization_detail.html", context, status=status)


@scoped_page(PERM, current_practice=False)
@require_GET
def authorization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One authorization with its timeline and actions."""
    return _render(request, _authorization(request, pk))


Call = Callable[[Any, PriorAuthorization, dict[str, Any]], PriorAuthorization]
ACTIONS: dict[str, tuple[type[forms.Form], Call, str]] = {
    "update": (
        AuthorizationUpdateForm,
        lambda actor, item, data: services.authorization_update(
            actor=actor,
            authorization=item,
            expected_version=data["version"],
            status=data["status"],
            number=data["number"],
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            units_approved=data["units_approved"],
        ),
        "Authorization saved.",
    ),
    "units": (
        UnitsForm,
        lambda actor, item, data: services.authorization_use_units(
            actor=actor, authorization=item, units=data["units"], expected_version=data["version"]
        ),
        "Units recorded.",
    ),
    "renew": (
        RenewForm,
        lambda actor, item, data: services.authorization_renew(actor=actor, authorization=item),
        "Renewal started.",
    ),
}


@scoped_page(PERM, current_practice=False)
@require_POST
def authorization_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One of the authorization page's actions, through its service."""
    item = _authorization(request, pk)
    form_class, call, done = ACTIONS[action]
    form = form_class(request.POST)
    if not form.is_valid():
        return _render(request, item, 400, **{action: form})
    if action == "renew" and form.cleaned_data["version"] != item.version:
        messages.error(request, f"{item} was changed after you opened it: nothing was saved.")
        return _render(request, item, 409)
    try:
        result = call(acting_user(request), item, form.cleaned_data)
    except ItemConflict as exc:
        messages.error(request, str(exc))
        item.refresh_from_db()
        return _render(request, item, 409, **{action: form})
    except ValidationError as exc:
        _errors_to_form(form, exc)
        return _render(request, item, 400, **{action: form})
    except PermissionDenied:
        raise Http404("Not found.") from None
    messages.success(request, done)
    return redirect("authorization-detail", pk=result.pk)
