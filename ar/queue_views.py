"""Work-queue pages: My day, payer AR, rejections, unassigned, per owner; work next; bulk."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ar import queues
from billing_ops.scoping import user_has_practice_perm
from claims import priority, work
from claims.forms import BulkForm
from practices import permissions as perms
from practices.account_views import safe_next
from practices.models import PracticeUserPermission
from practices.selectors import current_practice

PAGE_SIZE = 50
User = get_user_model()


def _owners(request: HttpRequest):  # noqa: ANN202
    practice = current_practice(request)
    return User.objects.filter(
        is_active=True,
        pk__in=PracticeUserPermission.objects.filter(
            content_object=practice, permission__codename=perms.WORK_CLAIMS
        ).values("user_id"),
    ).order_by("username")


@login_required
@require_GET
def queue(request: HttpRequest, slug: str) -> HttpResponse:
    """One ranked, filtered, keyset-paginated queue of the current practice."""
    if slug not in queues.QUEUES:
        raise Http404("No such queue.")
    practice = current_practice(request)
    if practice is None or not user_has_practice_perm(request.user, perms.WORK_CLAIMS, practice.pk):
        raise Http404("Not found.")
    claims = queues.queue_queryset(slug, request.user).filter(practice=practice)
    filters = queues.ClaimQueueFilter(request.GET or None, queryset=claims, user=request.user)
    filtered = filters.qs if filters.is_bound and filters.is_valid() else claims
    sort = request.GET.get("sort", "priority")
    page = queues.keyset_page(filtered, sort, request.GET.get("after"), PAGE_SIZE)
    rows = [(claim, priority.explain(claim)) for claim in page.rows]
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "queue": queues.QUEUES[slug],
        "queues": queues.QUEUES.values(),
        "rows": rows,
        "page": page,
        "filters": filters,
        "total": filtered.count(),
        "counts": queues.my_day_counts(request.user) if slug == "my-day" else None,
        "sorts": {key: label for key, (_f, _d, label) in queues.SORTS.items()},
        "base_query": query.urlencode(),
        "bulk_owners": _owners(request),
        "can_see_owners": user_has_practice_perm(request.user, perms.VIEW_KPIS, practice.pk),
        "today": timezone.localdate(),
    }
    return render(request, "ar/queue.html", context)


@login_required
@require_POST
def work_next(request: HttpRequest) -> HttpResponse:
    """Hand the requester the top unheld claim of their day."""
    practice = current_practice(request)
    if practice is None or not user_has_practice_perm(request.user, perms.WORK_CLAIMS, practice.pk):
        raise Http404("Not found.")
    claim = work.work_next(actor=request.user, practice_id=practice.pk)
    if claim is None:
        messages.info(request, "Nothing left in your day. Well done.")
        return redirect("queue", slug="my-day")
    return redirect("claim-detail", pk=claim.pk)


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Reassign or set the next action of the selected claims."""
    back = safe_next(request, reverse("queue", kwargs={"slug": "my-day"}))
    claims = queues.base_queryset(request.user)
    form = BulkForm(request.POST, claims=claims, owners=_owners(request))
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect(back)
    data = form.cleaned_data
    try:
        count = work.claims_bulk_update(
            actor=request.user,
            claim_ids=[c.pk for c in data["claims"]],
            owner=data["owner"],
            next_action=data["next_action"] or None,
            next_action_due=data["next_action_due"],
            wait_reason=data["wait_reason"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    except PermissionDenied:
        raise Http404("Not found.") from None
    messages.success(request, f"Updated {count} claim{'s' if count != 1 else ''}.")
    return redirect(back)


@login_required
@require_GET
def owners(request: HttpRequest) -> HttpResponse:
    """Per-owner workload for managers and vendor leads."""
    practice = current_practice(request)
    if practice is None or not user_has_practice_perm(request.user, perms.VIEW_KPIS, practice.pk):
        raise Http404("Not found.")
    rows = queues.owner_summary(request.user, practice)
    return render(request, "ar/owners.html", {"rows": rows, "practice": practice})
