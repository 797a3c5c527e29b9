"""Recare pages: the practice's list (with the CSV import of recall due dates) and one
item's page (log a call with its outcome, see every attempt).

Scoped by ``work_recare`` (managers and vendor staff with the recare area): another
practice's item answers 404 like a missing one. Non-clinical only: no notes field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing_ops.access import acting_user, request_access
from billing_ops.pages import get_scoped_or_404, scoped_page
from claims.imports.results import ERROR, describe
from claims.imports.services import MAX_UPLOAD_BYTES
from eligibility import recare as services
from eligibility.recare_models import CallOutcome, RecareItem, RecareKind
from practices import phi_log
from practices.choices import AppointmentStatus
from practices.models import Appointment
from work.services import ItemConflict

PERM = services.PERM
DATE = forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"})
SELECT = forms.Select(attrs={"class": "form-select form-select-sm"})


class RecallImportForm(forms.Form):
    file = forms.FileField(
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.txt"}),
        help_text="CSV with patient_account, due_date (YYYY-MM-DD or MM/DD/YYYY) and "
        "optionally recall_type. A bad row refuses the whole file. At most 10 MB.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is over 10 MB. Split it into parts.")
        return upload


class CallForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(choices=CallOutcome.choices, widget=SELECT)
    next_call_on = forms.DateField(
        required=False, widget=DATE, help_text="Blank: in a week (today for a wrong number)."
    )
    appointment = forms.ModelChoiceField(
        queryset=Appointment.objects.none(),
        required=False,
        widget=SELECT,
        help_text="Booked: the visit, if it is already in the schedule.",
    )

    def __init__(self, *args: Any, item: RecareItem, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["appointment"].queryset = Appointment.objects.filter(  # type: ignore[attr-defined]
            patient_id=item.patient_id,
            status=AppointmentStatus.SCHEDULED,
            starts_at__gte=timezone.now(),
        ).order_by("starts_at")


def _list_context(request: HttpRequest, practice: Any, show_all: bool) -> dict[str, Any]:
    items = (
        RecareItem.objects.visible_to(request.user, PERM)
        .filter(practice=practice)
        .select_related("patient", "owner")
        .order_by("closed_at", "next_action_due", "-priority", "pk")
    )
    if not show_all:
        items = items.filter(closed_at__isnull=True)
    rows = list(items[:300])
    phi_log.record_read(request, rows, what="recare list")
    return {"items": rows, "show_all": show_all, "practice": practice, "kinds": RecareKind}


@scoped_page(PERM)
@require_GET
def recare_list(request: HttpRequest) -> HttpResponse:
    """The practice's recare list: who to call, why, when, and how often we tried."""
    practice = request_access(request).practice
    context = _list_context(request, practice, request.GET.get("show") == "all")
    context["form"] = RecallImportForm()
    return render(request, "eligibility/recare_list.html", context)


@scoped_page(PERM)
@require_POST
def recare_import(request: HttpRequest) -> HttpResponse:
    """Upload recall due dates; the list shows what the file did (or why it was refused)."""
    practice = request_access(request).practice
    form = RecallImportForm(request.POST, request.FILES)
    outcome = None
    if form.is_valid():
        try:
            outcome = services.recare_import(
                actor=acting_user(request),
                practice=practice,
                content=form.cleaned_data["file"].read(),
            )
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error("file", error)
        except PermissionDenied:
            raise Http404("Not found.") from None
    if outcome is not None and not outcome.rejected:
        messages.success(
            request,
            f"Recalls imported: {outcome.created} added, {outcome.updated} updated, "
            f"{outcome.unchanged} unchanged.",
        )
        return redirect("recare-list")
    # A refused file shows its problems alone: no list (and no PHI read) on the way.
    context: dict[str, Any] = {"items": None, "show_all": False, "practice": practice}
    context["form"] = form
    if outcome is not None:
        context["problems"] = [describe(e) for e in outcome.entries if e["level"] == ERROR]
    return render(request, "eligibility/recare_list.html", context, status=400)


def _item(request: HttpRequest, pk: int) -> RecareItem:
    queryset = RecareItem.objects.visible_to(request.user, PERM).select_related(
        "practice", "patient", "owner", "source_appointment", "booked_appointment"
    )
    item: RecareItem = get_scoped_or_404(queryset, pk=pk)
    return item


def _render(
    request: HttpRequest, item: RecareItem, status: int = 200, form: CallForm | None = None
) -> HttpResponse:
    phi_log.record_read(request, [item], what="recare page")
    context = {
        "item": item,
        "activities": item.activities.select_related("actor")[:200],
        "call_form": form or CallForm(initial={"version": item.version}, item=item),
    }
    return render(request, "eligibility/recare_detail.html", context, status=status)


@scoped_page(PERM, current_practice=False)
@require_GET
def recare_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One patient to call back, with every attempt."""
    return _render(request, _item(request, pk))


@scoped_page(PERM, current_practice=False)
@require_POST
def recare_call(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a call and its outcome (booked and declined close the item)."""
    item = _item(request, pk)
    form = CallForm(request.POST, item=item)
    if not form.is_valid():
        return _render(request, item, 400, form)
    data = form.cleaned_data
    try:
        item = services.recare_log_call(
            actor=acting_user(request),
            item=item,
            outcome=data["outcome"],
            next_call_on=data["next_call_on"],
            appointment=data["appointment"],
            expected_version=data["version"],
        )
    except ItemConflict as exc:
        messages.error(request, str(exc))
        item.refresh_from_db()
        return _render(request, item, 409, form)
    except ValidationError as exc:
        pairs = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
        for field, errors in pairs:
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return _render(request, item, 400, form)
    except PermissionDenied:
        raise Http404("Not found.") from None
    messages.success(request, f"Call logged: {CallOutcome(data['outcome']).label.lower()}.")
    return redirect("recare-detail", pk=item.pk)
