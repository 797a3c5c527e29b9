"""277CA acknowledgement pages: upload a file (or preview it) and see what it did.

Scoped by ``post_payments`` (the insurance billing area, as remittances): another
practice's imports answer 404 like missing ones.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.generic import DetailView

from ar.ack_models import Acknowledgement
from ar.acknowledgements import acknowledgement_import
from billing_ops.access import acting_user, request_access
from billing_ops.pages import ScopedPageMixin, scoped_page
from claims.imports.results import CONFLICT, ERROR, describe
from claims.imports.services import MAX_UPLOAD_BYTES
from practices import permissions as perms
from practices.phi_log import record_read

PERM = perms.POST_PAYMENTS


class AckUploadForm(forms.Form):
    file = forms.FileField(
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".txt,.x12,.edi,.277"}
        ),
        help_text="An X12 277CA (005010X214) claim acknowledgement file. At most 10 MB.",
    )
    dry_run = forms.BooleanField(
        label="Preview only",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        help_text="Check the file and show what it would do; no claim changes.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is over 10 MB. Split it into parts.")
        return upload


@scoped_page(PERM)
def acknowledgement_list(request: HttpRequest) -> HttpResponse:
    """Upload a 277CA (applied now) and see the practice's recent imports."""
    practice = request_access(request).practice
    posted = request.method == "POST"
    form = AckUploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = acknowledgement_import(
                actor=acting_user(request),
                practice=practice,
                content=upload.read(),
                filename=upload.name,
                dry_run=form.cleaned_data["dry_run"],
            )
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error("file", error)
        except PermissionDenied:
            raise Http404("Not found.") from None
        else:
            messages.success(request, f"{batch.filename}: {batch.get_status_display().lower()}.")
            return redirect("acknowledgement-detail", batch.pk)
    batches = (
        Acknowledgement.objects.visible_to(request.user, PERM)
        .filter(practice=practice)
        .select_related("created_by")[:25]
    )
    context = {"form": form, "batches": batches, "practice": practice}
    return render(request, "ar/acknowledgements.html", context, status=400 if form.errors else 200)


class AcknowledgementDetailView(ScopedPageMixin, DetailView):  # type: ignore[type-arg]
    """One import: its counts, problems and every claim's status in the file."""

    model = Acknowledgement
    scope_permission = PERM
    current_practice_only = False
    template_name = "ar/acknowledgement_detail.html"
    context_object_name = "batch"

    def get_queryset(self) -> QuerySet[Acknowledgement]:
        return super().get_queryset().select_related("practice", "created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        batch = self.object
        entries = [dict(entry, text=describe(entry)) for entry in batch.entries]
        rows = list(batch.claims.select_related("claim")[:500])
        record_read(self.request, [r.claim for r in rows if r.claim], what="277CA page")
        return super().get_context_data(
            problems=[e for e in entries if e.get("level") == ERROR],
            conflicts=[e for e in entries if e.get("level") == CONFLICT],
            rows=rows,
            **kwargs,
        )
