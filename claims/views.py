"""The claim page: header, lines, scrub findings, timeline, attachments and quick actions.

Every quick action posts the claim version the user saw; if somebody saved the claim in
between, the page comes back with status 409, the latest claim and the user's own input
still in the form, so nothing is lost silently.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from billing_ops.access import has_perm, request_access, visible_practice_ids
from billing_ops.pages import get_scoped_or_404, scoped_page
from claims import attachments, follow_ups, forms, page_reads, priority, scrubber, services
from claims.choices import TRANSITIONS, UNSUBMITTED_STATUSES, ClaimStatus
from claims.models import Claim
from claims.payments import POSTED_STATUSES
from practices import permissions as perms
from practices import phi_log
from practices.choices import AccessAction
from work import services as work_services
from work.views import next_in_queue, queue_slugs
from work.widgets import use_fast_widgets


def scoped_claims(request: HttpRequest) -> QuerySet[Claim]:
    return Claim.objects.visible_to(request.user, perms.WORK_CLAIMS)


def _claim(request: HttpRequest, pk: int, *, plain: bool = False) -> Claim:
    """The claim if the user works claims at its practice; else 404 (a forbidden one
    logged). By a statement compiled once (``page_reads.scoped_claim``); the ORM's
    queryset for an id it does not find (and with ``plain``, the tests' reference)."""
    if not plain:
        found = page_reads.scoped_claim(pk, visible_practice_ids(request.user, perms.WORK_CLAIMS))
        if found is not None:
            return found
    queryset = scoped_claims(request).select_related(*page_reads.CLAIM_RELATED)
    return get_scoped_or_404(queryset, pk=pk)


def _from_queue(request: HttpRequest) -> str:
    """The queue the person came from (a key such as "my-day", never PHI), or ""."""
    slug = request.POST.get("queue") or request.GET.get("from") or ""
    return slug if slug in queue_slugs() else ""


def _findings(claim: Claim) -> dict[str, Any]:
    """The scrub card: a claim the payer does not have yet is scrubbed as it is now (read
    only), so the card never says "no findings" about a claim that has some; a sent claim
    shows what its last scrub stored."""
    if claim.status in UNSUBMITTED_STATUSES:
        return {"findings": scrubber.scrub(claim), "findings_live": True}
    return {"findings": page_reads.findings(claim), "findings_live": False}


def _render(request: HttpRequest, claim: Claim, status: int = 200, **forms_: Any) -> HttpResponse:
    phi_log.record_read(request, [claim], what="claim page")
    clinical = attachments.can_see_clinical(request.user, claim)
    queue = _from_queue(request)
    initial = {"version": claim.version}
    from_queue = {"queue": queue, "rank": claim.priority}
    current = request_access(request).practice
    context = {
        "claim": claim,
        "from_queue": queue,
        "other_practice": current is not None and current.pk != claim.practice_id,
        "attachment_statuses": attachments.STATUS_ORDER,
        "lines": page_reads.lines(claim),
        **_findings(claim),
        "activities": page_reads.timeline(request.user, claim),
        "attachments": page_reads.visible_attachments(request.user, claim),
        "explanation": priority.explain(claim),
        # Paid and partially paid come from a posted payment (with amounts), never a click.
        "transitions": [
            ClaimStatus(s) for s in sorted(TRANSITIONS[claim.status] - POSTED_STATUSES)
        ],
        "can_post_payments": has_perm(request.user, perms.POST_PAYMENTS, claim.practice_id),
        "next_action_form": forms_.get("next_action_form")
        or forms.NextActionForm(
            initial={
                **initial,
                **from_queue,
                "next_action": claim.next_action,
                "next_action_due": claim.next_action_due,
                "wait_reason": claim.wait_reason,
            }
        ),
        "follow_up_form": forms_.get("follow_up_form")
        or forms.FollowUpForm(initial={**initial, **from_queue}),
        "note_form": forms_.get("note_form") or forms.NoteForm(),
        "attachment_form": forms_.get("attachment_form") or forms.AttachmentForm(clinical=clinical),
        "held_by_me": claim.locked_by_id == request.user.pk,
    }
    for name in ("next_action_form", "follow_up_form", "note_form", "attachment_form"):
        use_fast_widgets(context[name])  # the same HTML, without the widget templates
    return render(request, "claims/claim_detail.html", context, status=status)


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_GET
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The claim page."""
    return _render(request, _claim(request, pk))


def _run(
    request: HttpRequest, claim: Claim, form_name: str, form: Any, call: Any, done: str
) -> HttpResponse:
    """Run a service for a valid form; field errors and conflicts re-render the page."""
    if not form.is_valid():
        return _render(request, claim, 400, **{form_name: form})
    try:
        call(form.cleaned_data)
    except services.ClaimConflict as exc:
        messages.error(request, str(exc))
        claim.refresh_from_db()
        return _render(request, claim, 409, **{form_name: form})
    except ValidationError as exc:
        for field, errors in (
            exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
        ):
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return _render(request, claim, 400, **{form_name: form})
    except PermissionDenied:
        raise Http404("Not found.") from None
    messages.success(request, done)
    return _after_save(request, claim, form)


def _after_save(request: HttpRequest, claim: Claim, form: Any) -> HttpResponse:
    """Back to the claim, or with "Save and next" on to the next item of the queue the
    person came from (the end of the queue goes back to it)."""
    queue = _from_queue(request)
    if queue and request.POST.get("then") == "next":
        target = next_in_queue(request, queue, claim, form.cleaned_data.get("rank"))
        if target is None:
            messages.info(request, "That was the last one in this queue.")
            return redirect("queue", slug=queue)
        return redirect(target)
    url = reverse("claim-detail", kwargs={"pk": claim.pk})
    return redirect(f"{url}?from={queue}" if queue else url)


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_POST
def claim_next_action(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    form = forms.NextActionForm(request.POST)
    return _run(
        request,
        claim,
        "next_action_form",
        form,
        lambda d: services.claim_set_next_action(
            actor=request.user,
            claim=claim,
            next_action=d["next_action"],
            next_action_due=d["next_action_due"],
            wait_reason=d["wait_reason"],
            expected_version=d["version"],
        ),
        "Next action saved.",
    )


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_POST
def claim_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    form = forms.FollowUpForm(request.POST)
    return _run(
        request,
        claim,
        "follow_up_form",
        form,
        lambda d: follow_ups.claim_log_follow_up_and_next_action(
            actor=request.user,
            claim=claim,
            channel=d["channel"],
            contact=d["contact"],
            outcome=d["outcome"],
            next_step=d["next_step"],
            next_action=d["next_action"],
            next_action_due=d["next_action_due"],
            wait_reason=d["wait_reason"],
            expected_version=d["version"],
        ),
        "Follow-up logged.",
    )


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_POST
def claim_note(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    form = forms.NoteForm(request.POST)
    return _run(
        request,
        claim,
        "note_form",
        form,
        lambda d: services.claim_add_note(actor=request.user, claim=claim, text=d["text"]),
        "Note added.",
    )


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_POST
def claim_transition(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    form = forms.TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That move could not be read: reload the claim and try again.")
        return _render(request, claim, 400)
    try:
        services.claim_transition(
            actor=request.user,
            claim=claim,
            to_status=form.cleaned_data["to_status"],
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"],
        )
    except services.ClaimConflict as exc:
        messages.error(request, str(exc))
        claim.refresh_from_db()
        return _render(request, claim, 409)
    except ValidationError as exc:
        if form.cleaned_data["to_status"] == ClaimStatus.READY:
            # The refused move rolled its scrub back: keep the findings that refused it, so
            # the scrub card shows them.
            services.claim_scrub(claim=claim)
        for error in exc.messages:
            messages.error(request, error)
        return _render(request, claim, 400)
    except PermissionDenied:
        raise Http404("Not found.") from None
    messages.success(request, f"Claim is now {ClaimStatus(form.cleaned_data['to_status']).label}.")
    return redirect("claim-detail", pk=claim.pk)


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_POST
def claim_attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request, pk)
    clinical = attachments.can_see_clinical(request.user, claim)
    form = forms.AttachmentForm(request.POST, request.FILES, clinical=clinical)
    return _run(
        request,
        claim,
        "attachment_form",
        form,
        lambda d: attachments.attachment_add(
            actor=request.user,
            claim=claim,
            kind=d["kind"],
            label=d["label"],
            status=d["status"],
            file=d["file"],
        ),
        "Attachment saved.",
    )


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_POST
def claim_attachment_status(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    """Move an attachment on (requested → received → sent), with its file if it has none."""
    claim = _claim(request, pk)
    attachment = get_scoped_or_404(
        attachments.visible_attachments(request.user, claim), pk=attachment_pk
    )
    form = forms.AttachmentStatusForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose the attachment's new status.")
        return _render(request, claim, 400)
    try:
        attachment = attachments.attachment_set_status(
            actor=request.user,
            attachment=attachment,
            status=form.cleaned_data["status"],
            file=form.cleaned_data["file"],
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, f"{attachment}: {error}")
        return _render(request, claim, 400)
    except PermissionDenied:
        raise Http404("Not found.") from None
    messages.success(request, f"{attachment} is now {attachment.get_status_display().lower()}.")
    return redirect("claim-detail", pk=claim.pk)


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_GET
def claim_attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    """Download a file; clinical files only for roles that may see them."""
    claim = _claim(request, pk)
    attachment = get_scoped_or_404(
        attachments.visible_attachments(request.user, claim), pk=attachment_pk
    )
    if not attachment.file:
        raise Http404("No file yet.")
    phi_log.record_read(request, [claim], what="claim attachment", action=AccessAction.EXPORT)
    return FileResponse(attachment.file.open("rb"), as_attachment=True)


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_POST
def claim_release(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a claim handed out by "work next" back to the queue."""
    claim = _claim(request, pk)
    work_services.release(claim, request.user)
    messages.info(request, f"Released {claim}.")
    return redirect("queue", slug="my-day")
