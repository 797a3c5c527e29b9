"""271 import pages: upload a payer's eligibility response and see what it did.

Scoped by ``verify_eligibility`` (the insurance verification area): another practice's
imports answer 404 like missing ones.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.views.generic import DetailView

from billing_ops.access import acting_user, request_access
from billing_ops.pages import ScopedPageMixin, scoped_page
from claims.imports.results import CONFLICT, ERROR, SKIPPED, describe
from claims.imports.services import MAX_UPLOAD_BYTES
from eligibility.response_export import export_270
from eligibility.response_models import EligibilityResponseImport
from eligibility.responses import response_import
from practices import permissions as perms
from practices.phi_log import record_read

PERM = perms.VERIFY_ELIGIBILITY


class ResponseUploadForm(forms.Form):
    file = forms.FileField(
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".txt,.x12,.edi,.271"}
        ),
        help_text="An X12 271 (005010X279A1) eligibility response. At most 10 MB.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is over 10 MB. Split it into parts.")
        return upload


class Export270Form(forms.Form):
    date = forms.DateField(
        label="Appointments on",
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}),
        help_text="A 270 for every open eligibility check of that day, for the clearinghouse.",
    )


@scoped_page(PERM)
@require_POST
def export_270_download(request: HttpRequest) -> HttpResponse:
    """Write the day's 270 batch (stored, a new control number) and download it."""
    practice = request_access(request).practice
    form = Export270Form(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the day of the appointments to ask about.")
        return redirect("eligibility-response-list")
    day = form.cleaned_data["date"]
    try:
        batch = export_270(actor=acting_user(request), practice=practice, day=day)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("eligibility-response-list")
    except PermissionDenied:
        raise Http404("Not found.") from None
    response = HttpResponse(batch.content, content_type="text/plain; charset=utf-8")
    name = f"270-{day:%Y%m%d}-{batch.control_number:09d}.x12"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@scoped_page(PERM)
def response_list(request: HttpRequest) -> HttpResponse:
    """Upload a 271 (applied now) and see the practice's recent imports."""
    practice = request_access(request).practice
    posted = request.method == "POST"
    form = ResponseUploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = response_import(
                actor=acting_user(request),
                practice=practice,
                content=upload.read(),
                filename=upload.name,
            )
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error("file", error)
        except PermissionDenied:
            raise Http404("Not found.") from None
        else:
            messages.success(request, f"{batch.filename}: {batch.get_status_display().lower()}.")
            return redirect("eligibility-response-detail", batch.pk)
    batches = (
        EligibilityResponseImport.objects.visible_to(request.user, PERM)
        .filter(practice=practice)
        .select_related("created_by")[:25]
    )
    context = {
        "form": form,
        "export_form": Export270Form(),
        "batches": batches,
        "practice": practice,
    }
    return render(
        request, "eligibility/response_list.html", context, status=400 if form.errors else 200
    )


class ResponseDetailView(ScopedPageMixin, DetailView):  # type: ignore[type-arg]
    """One import: its counts, problems, unmatched members and every member's outcome."""

    model = EligibilityResponseImport
    scope_permission = PERM
    current_practice_only = False
    template_name = "eligibility/response_detail.html"
    context_object_name = "batch"

    def get_queryset(self) -> QuerySet[EligibilityResponseImport]:
        return super().get_queryset().select_related("practice", "created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        batch = self.object
        entries = [dict(entry, text=describe(entry)) for entry in batch.entries]
        rows = list(batch.members.select_related("check_item__appointment__patient")[:500])
        patients = [r.check_item.appointment.patient for r in rows if r.check_item]
        record_read(self.request, patients, what="271 import page")
        return super().get_context_data(
            problems=[e for e in entries if e.get("level") == ERROR],
            conflicts=[e for e in entries if e.get("level") == CONFLICT],
            skipped=[e for e in entries if e.get("level") == SKIPPED],
            rows=rows,
            **kwargs,
        )
