"""Mini-audit pages: the managers' list (audits by month, root causes per function and
owner) and one audit's claims with a root cause each, recorded by its reviewer or a
manager."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from billing_ops.access import request_access, visible_practice_ids
from billing_ops.pages import get_scoped_or_404, scoped_page
from claims.forms import BootstrapForm
from practices import permissions as perms
from sops import qa_audit
from sops.qa_audit_models import MiniAudit, MiniAuditClaim, RootCause
from sops.views import _actor
from work.services import ItemConflict


def readable(user: Any) -> QuerySet[MiniAudit]:
    """Mini-audits the user may read: all where they manage SOPs, and their own."""
    managed = visible_practice_ids(user, perms.MANAGE_SOPS)
    return MiniAudit.objects.visible_to(user, perms.VIEW_PRACTICE).filter(
        Q(practice_id__in=managed) | Q(owner=user)
    )


class RootCauseForm(BootstrapForm):
    """One root cause and note per sampled claim (``cause_<claim id>``, ``note_<claim id>``);
    claims left without a cause stay open."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args: Any, entries: list[MiniAuditClaim], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entries = entries
        for entry in entries:
            self.fields[f"cause_{entry.claim_id}"] = forms.ChoiceField(
                label=f"Root cause of {entry.claim.pms_claim_number}",
                choices=[("", "—"), *RootCause.choices],
                required=False,
                initial=entry.root_cause,
            )
            self.fields[f"note_{entry.claim_id}"] = forms.CharField(
                label="Note", max_length=500, required=False, initial=entry.note
            )

    def causes(self) -> dict[int, dict[str, str]]:
        data = self.cleaned_data
        return {
            e.claim_id: {
                "root_cause": data[f"cause_{e.claim_id}"],
                "note": data[f"note_{e.claim_id}"],
            }
            for e in self.entries
            if data.get(f"cause_{e.claim_id}")
        }


@scoped_page(perms.MANAGE_SOPS)
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    practice = request_access(request).practice
    audits = readable(request.user).of_practice(practice.pk)
    rows = audits.select_related("owner").annotate(
        size=Count("entries"), recorded=Count("entries", filter=~Q(entries__root_cause=""))
    )[:60]
    by_owner = (
        MiniAuditClaim.objects.filter(audit__in=audits)
        .exclude(root_cause="")
        .values("function__kind", "function_owner__username", "root_cause")
        .annotate(n=Count("pk"))
        .order_by("function__kind", "function_owner__username", "root_cause")
    )
    causes = dict(RootCause.choices)
    results = [{**row, "cause": causes.get(row["root_cause"], "")} for row in by_owner]
    return render(request, "sops/mini_audit_list.html", {"rows": rows, "results": results})


@scoped_page(perms.VIEW_PRACTICE, current_practice=False)
@require_http_methods(["GET", "POST"])
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    audit: MiniAudit = get_scoped_or_404(
        readable(request.user).select_related("owner", "completed_by"), pk=pk
    )
    entries = list(
        audit.entries.select_related("claim", "function", "function_owner", "recorded_by")
    )
    form = RootCauseForm(request.POST or None, initial={"version": audit.version}, entries=entries)
    status = 200
    if request.method == "POST":
        if not qa_audit.may_record(request.user, audit):
            raise Http404("Not found.")
        if form.is_valid():
            try:
                qa_audit.mini_audit_record(
                    actor=_actor(request),
                    audit=audit,
                    causes=form.causes(),
                    expected_version=form.cleaned_data["version"],
                )
            except PermissionDenied:
                raise Http404("Not found.") from None
            except (ValidationError, ItemConflict) as exc:
                messages_ = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
                form.add_error(None, " ".join(messages_))
            else:
                messages.success(request, "Root causes recorded.")
                return redirect("mini-audit", pk=audit.pk)
        status = 400
    rows = [(e, form[f"cause_{e.claim_id}"], form[f"note_{e.claim_id}"]) for e in entries]
    context = {
        "audit": audit,
        "form": form,
        "rows": rows,
        "can_record": audit.is_open and qa_audit.may_record(request.user, audit),
    }
    return render(request, "sops/mini_audit.html", context, status=status)
