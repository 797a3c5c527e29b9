"""Access review pages (managers only, ``manage_access``): the practice's reviews, this
quarter's first, and one review's lines to confirm or revoke. A revoke asks for a fresh
step-up (``practices.stepup``) like every other revocation; missing and forbidden
reviews answer 404."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from billing_ops.access import request_access
from billing_ops.pages import get_scoped_or_404, scoped_page
from practices import permissions as perms
from practices.stepup import step_up_response
from sops import access_reviews
from sops.access_review_models import AccessDecision, AccessReview, AccessReviewLine
from sops.views import _actor
from work.services import ItemConflict


def readable(user: Any) -> QuerySet[AccessReview]:
    return AccessReview.objects.visible_to(user, perms.MANAGE_ACCESS)


class DecideForm(forms.Form):
    line = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    decision = forms.ChoiceField(choices=AccessDecision.choices)
    note = forms.CharField(max_length=300, required=False)
    version = forms.IntegerField(min_value=1, max_value=2**31 - 1)


@scoped_page(perms.MANAGE_ACCESS)
@require_GET
def access_review_list(request: HttpRequest) -> HttpResponse:
    practice = request_access(request).practice
    reviews = (
        readable(request.user)
        .of_practice(practice.pk)
        .select_related("owner", "completed_by")
        .annotate(
            accounts=Count("lines"),
            confirmed=Count("lines", filter=Q(lines__decision=AccessDecision.CONFIRMED)),
            revoked=Count("lines", filter=Q(lines__decision=AccessDecision.REVOKED)),
        )
        .order_by("-quarter", "-pk")[:40]
    )
    context = {"reviews": reviews, "idle_days": access_reviews.idle_days()}
    return render(request, "sops/access_review_list.html", context)


@scoped_page(perms.MANAGE_ACCESS, current_practice=False)
@require_http_methods(["GET", "POST"])
def access_review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review: AccessReview = get_scoped_or_404(
        readable(request.user).select_related("practice", "owner", "completed_by"), pk=pk
    )
    status = 200
    error = ""
    if request.method == "POST":
        form = DecideForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            line = review.lines.filter(pk=data["line"]).select_related("review").first()
            if line is None:
                raise Http404("Not found.")
            if data["decision"] == AccessDecision.REVOKED:
                stale = step_up_response(request)
                if stale is not None:
                    return stale
            try:
                access_reviews.access_review_decide(
                    actor=_actor(request),
                    line=line,
                    decision=data["decision"],
                    note=data["note"],
                    expected_version=data["version"],
                )
            except PermissionDenied:
                raise Http404("Not found.") from None
            except (ValidationError, ItemConflict) as exc:
                error = " ".join(exc.messages if isinstance(exc, ValidationError) else [str(exc)])
            else:
                verb = "confirmed" if data["decision"] == AccessDecision.CONFIRMED else "revoked"
                messages.success(request, f"{line.user}'s access {verb}.")
                return redirect("access-review", pk=review.pk)
        else:
            error = "Choose confirm or revoke for one account."
        status = 400
    lines: QuerySet[AccessReviewLine] = review.lines.select_related("user", "decided_by")
    context = {"review": review, "lines": lines, "error": error}
    return render(request, "sops/access_review_detail.html", context, status=status)
