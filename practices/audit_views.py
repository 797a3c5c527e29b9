"""The managers' audit page: who viewed or changed what at their practice, and its CSV.

Managers of the current practice only (``manage_access``, which vendor staff never hold):
everybody else gets the 404 a page outside one's scope gets. Filters (person by username,
patient by id, a date range) travel in the query string, so a view is bookmarkable; none of
them is PHI (a patient is named by the internal id, never a name or account number).
Pages are keyset pages over ``practices.audit_log``: one query each, however deep.

The CSV holds the same entries (at most ``EXPORT_LIMIT``) and is itself a PHI export: one
access-log row names every patient it mentions (``practices.phi_log``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing_ops.access import request_access
from billing_ops.exports import csv_cell
from billing_ops.pages import scoped_page
from practices import permissions as perms
from practices import phi_log
from practices.audit_log import AuditFilter, Cursor, Entry, audit_page
from practices.choices import AccessAction
from practices.stepup import step_up_required

PAGE_SIZE = 50
EXPORT_CHUNK = 1000
EXPORT_LIMIT = 20_000
MAX_ID = 2**31 - 1


class AuditFilterForm(forms.Form):
    """The page's query string; anything that does not parse answers 400."""

    person = forms.CharField(required=False, max_length=150, label="Person (username)")
    patient = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, label="Patient id")
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")
    after = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def clean_after(self) -> Cursor | None:
        raw = self.cleaned_data.get("after") or ""
        if not raw:
            return None
        try:
            return Cursor.decode(raw)
        except ValueError:
            raise ValidationError(
                "That page link is not valid: start from the first page."
            ) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError("The start date is after the end date.")
        return data

    def audit_filter(self, practice_id: int) -> AuditFilter:
        data = self.cleaned_data
        return AuditFilter(
            practice_id=practice_id,
            username=data.get("person") or "",
            patient_id=data.get("patient"),
            start=_day_start(data.get("date_from")),
            end=_day_start(data["date_to"] + dt.timedelta(days=1)) if data.get("date_to") else None,
        )


def _day_start(day: dt.date | None) -> dt.datetime | None:
    """Midnight of ``day`` in the site's time zone (aware)."""
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _record_url(entry: Entry) -> str:
    source = entry.source
    if source is None or not source.url_name or entry.record_id is None:
        return ""
    try:
        return reverse(source.url_name, kwargs={"pk": entry.record_id})
    except NoReverseMatch:
        return ""


@require_GET
@scoped_page(perms.MANAGE_ACCESS)
def audit(request: HttpRequest) -> HttpResponse:
    """The trail of the current practice, newest first, ``PAGE_SIZE`` entries a page."""
    practice = request_access(request).practice
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "practice": practice, "rows": [], "next_query": ""}
        return render(request, "practices/audit.html", context, status=400)
    entries = audit_page(form.audit_filter(practice.pk), form.cleaned_data["after"], PAGE_SIZE)
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("after", None)
    next_query = ""
    if more:
        query["after"] = entries[-1].cursor.encode()
        next_query = query.urlencode()
        query.pop("after")
    context = {
        "form": form,
        "practice": practice,
        "rows": [(entry, _record_url(entry)) for entry in entries],
        "next_query": next_query,
        "first_page": not form.cleaned_data["after"],
        "filter_query": query.urlencode(),
    }
    return render(request, "practices/audit.html", context)


@require_GET
@scoped_page(perms.MANAGE_ACCESS)
@step_up_required  # a bulk export: the password or a fresh code first (practices.stepup)
def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered trail as CSV (whole range, newest first); logged as a PHI export."""
    practice = request_access(request).practice
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(str(message) for message in error))
        return redirect("audit")
    wanted = form.audit_filter(practice.pk)
    entries: list[Entry] = []
    cursor = form.cleaned_data["after"]
    while True:
        chunk = audit_page(wanted, cursor, EXPORT_CHUNK)
        entries.extend(chunk[:EXPORT_CHUNK])
        if len(chunk) <= EXPORT_CHUNK or len(entries) > EXPORT_LIMIT:
            break
        cursor = chunk[EXPORT_CHUNK - 1].cursor
    if len(entries) > EXPORT_LIMIT:
        messages.error(
            request, f"More than {EXPORT_LIMIT:,} entries match: narrow the dates to export."
        )
        return redirect(f"{reverse('audit')}?{request.GET.urlencode()}")
    mentioned = [
        phi_log.PatientRef(practice.pk, patient_id)
        for entry in entries
        for patient_id in entry.patient_ids
    ]
    phi_log.record_read(request, mentioned, what="audit export", action=AccessAction.EXPORT)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "user", "action", "what", "patient ids", "path"])
    for entry in entries:
        writer.writerow(
            [
                timezone.localtime(entry.at).isoformat(),
                csv_cell(entry.username or "system"),
                entry.kind_label,
                csv_cell(entry.what),
                " ".join(str(pk) for pk in entry.patient_ids),
                csv_cell(entry.path),
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="audit-{practice.slug}-{stamp}.csv"'
    return response
