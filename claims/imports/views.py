"""Import pages: upload (or preview) a PMS export, and follow a job to its report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.views.generic import DetailView

from billing_ops.access import request_access
from billing_ops.pages import ScopedPageMixin, get_scoped_or_404, scoped_page
from claims.choices import ImportStatus
from claims.imports import services
from claims.imports.forms import ImportForm
from claims.imports.selectors import job_report, linkable_kinds
from claims.models import ImportJob
from practices import permissions as perms

TEMPLATE_FILES = Path(__file__).resolve().parent / "templates_csv"
TEMPLATE_NAMES = ("patients", "appointments", "claims")


def _file_errors(form: ImportForm, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


@scoped_page(perms.WORK_CLAIMS)
def import_list(request: HttpRequest) -> HttpResponse:
    """Upload a file (or preview it) and see the practice's recent imports."""
    practice = request_access(request).practice
    posted = request.method == "POST"
    form = ImportForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_file(
                actor=request.user,
                practice=practice,
                content=upload.read(),
                filename=upload.name,
                kind=form.cleaned_data["kind"] or None,
                dry_run=form.cleaned_data["dry_run"],
                column_mapping=form.cleaned_data["column_mapping"],
            )
        except ValidationError as exc:
            _file_errors(form, exc)
        except PermissionDenied:
            form.add_error(
                "kind",
                f"You may not add or change patients and appointments at {practice}; "
                "ask someone who may edit patients to import this file.",
            )
        else:
            # No flash message: the job page shows the live status ("queued" only while
            # the job waits), so nothing says "queued" after it finished (issue 9).
            return redirect("import-detail", job.pk)
    jobs = (
        ImportJob.objects.visible_to(request.user, perms.WORK_CLAIMS)
        .filter(practice=practice)
        .select_related("created_by")[:25]
    )
    status = 400 if form.errors else 200
    context = {"form": form, "jobs": jobs, "practice": practice, "templates": TEMPLATE_NAMES}
    return render(request, "claims/imports/list.html", context, status=status)


class ImportDetailView(ScopedPageMixin, DetailView):
    """One job: progress while it runs (polled by HTMX), then its per-row report."""

    model = ImportJob
    scope_permission = perms.WORK_CLAIMS
    current_practice_only = False
    template_name = "claims/imports/detail.html"
    context_object_name = "job"

    def get_queryset(self) -> QuerySet[ImportJob]:
        return super().get_queryset().select_related("practice", "created_by")

    def get_template_names(self) -> list[str]:
        if getattr(self.request, "htmx", False):
            return ["claims/imports/detail.html#progress"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        job = self.object
        return super().get_context_data(
            running=job.status in (ImportStatus.PENDING, ImportStatus.RUNNING),
            percent=round(100 * job.processed / job.total) if job.total else 0,
            report=job_report(job, linkable_kinds(request_access(self.request), job)),
            can_run=job.dry_run and job.status == ImportStatus.DONE,
            **kwargs,
        )


# Scoped by the preview's own practice (like the job page), not the switcher's.
@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_POST
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Import for real a file whose preview passed."""
    queryset = ImportJob.objects.visible_to(request.user, perms.WORK_CLAIMS)
    preview = get_scoped_or_404(queryset.select_related("practice"), pk=pk)
    if not (preview.dry_run and preview.status == ImportStatus.DONE):
        messages.error(request, "Only a preview that passed can be imported from here.")
        return redirect("import-detail", preview.pk)
    with preview.file.open("rb") as handle:
        content = handle.read()
    try:
        job = services.import_file(
            actor=request.user,
            practice=preview.practice,
            content=content,
            filename=preview.filename,
            kind=preview.kind,
            column_mapping=preview.column_mapping,
        )
    except (PermissionDenied, ValidationError):
        raise Http404("Not found.") from None
    return redirect("import-detail", job.pk)


@scoped_page(perms.WORK_CLAIMS)
def import_template(request: HttpRequest, name: str) -> FileResponse:
    """A sample CSV file with the columns an import reads."""
    if name not in TEMPLATE_NAMES:
        raise Http404("Not found.")
    path = TEMPLATE_FILES / f"{name}.csv"
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)
