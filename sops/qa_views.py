"""QA pages: the managers' list (this and past weeks, results per function owner) and
one review's checklist, recorded by its reviewer or a manager."""

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
from sops import qa
from sops.choices import QaResult
from sops.qa_models import CHECKLIST, QaReview
from sops.views import _actor
from work.services import ItemConflict


def readable(user: Any) -> QuerySet[QaReview]:
    """QA reviews the user may read: all where they manage SOPs, and their own."""
    managed = visible_practice_ids(user, perms.MANAGE_SOPS)
    return QaReview.objects.visible_to(user, perms.VIEW_PRACTICE).filter(
        Q(practice_id__in=managed) | Q(owner=user)
    )


class ChecklistForm(BootstrapForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label in CHECKLIST:
            self.fields[f"{key}_passed"] = forms.ChoiceField(
                label=label, choices=[("", "—"), ("pass", "Pass"), ("fail", "Fail")]
            )
            self.fields[f"{key}_finding"] = forms.CharField(
                label="Finding", max_length=500, required=False
            )

    def checks(self) -> dict[str, dict[str, Any]]:
        data = self.cleaned_data
        return {
            key: {"passed": data[f"{key}_passed"] == "pass", "finding": data[f"{key}_finding"]}
            for key, _label in CHECKLIST
        }


@scoped_page(perms.MANAGE_SOPS)
@require_GET
def qa_list(request: HttpRequest) -> HttpResponse:
    practice = request_access(request).practice
    reviews = readable(request.user).of_practice(practice.pk)
    rows = reviews.select_related("claim", "owner", "function_owner").order_by("-week", "pk")[:200]
    by_owner = (
        reviews.exclude(result="")
        .values("function__kind", "function_owner__username")
        .annotate(
            passed=Count("pk", filter=Q(result=QaResult.PASS)),
            failed=Count("pk", filter=Q(result=QaResult.FAIL)),
        )
        .order_by("function_owner__username")
    )
    return render(request, "sops/qa_list.html", {"rows": rows, "by_owner": by_owner})


@scoped_page(perms.VIEW_PRACTICE, current_practice=False)
@require_http_methods(["GET", "POST"])
def qa_review(request: HttpRequest, pk: int) -> HttpResponse:
    rows = readable(request.user).select_related("claim", "owner", "completed_by")
    review: QaReview = get_scoped_or_404(rows, pk=pk)
    form = ChecklistForm(request.POST or None, initial={"version": review.version})
    status = 200
    if request.method == "POST":
        if not qa.may_review(request.user, review):
            raise Http404("Not found.")
        if form.is_valid():
            try:
                qa.qa_review_record(
                    actor=_actor(request),
                    review=review,
                    checks=form.checks(),
                    expected_version=form.cleaned_data["version"],
                )
            except PermissionDenied:
                raise Http404("Not found.") from None
            except (ValidationError, ItemConflict) as exc:
                messages_ = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
                form.add_error(None, " ".join(messages_))
            else:
                messages.success(request, "QA review recorded.")
                return redirect("qa-review", pk=review.pk)
        status = 400
    labels = dict(CHECKLIST)
    done = [(labels.get(key, key), entry) for key, entry in review.checks.items()]
    context = {"review": review, "form": form, "done": done}
    return render(request, "sops/qa_review.html", context, status=status)
