"""The denial page (claim, codes with labels, what to do, the actions), the appeal page
(letter, documents, send, decision, PDF) and the managers' category map.

Pages resolve objects through the scoping primitive (404 for missing and forbidden alike);
every action calls a service with the acting user, posting the version the user saw (a
stale one answers 409 with the latest denial).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing_ops.access import request_access
from billing_ops.pages import get_scoped_or_404, scoped_page
from claims.attachments import visible_attachments
from denials import appeals, codes, forms, letters, loop, panels, services
from denials.choices import ProposalStatus
from denials.models import Appeal, CategoryRule, Denial, ReasonCode, RuleProposal
from practices import permissions as perms
from practices import phi_log
from practices.models import Payer
from work.services import ItemConflict

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _actor(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind ``scoped_page``)."""
    return cast("User", request.user)


def scoped_denials(request: HttpRequest) -> QuerySet[Denial]:
    return Denial.objects.visible_to(request.user, perms.WORK_CLAIMS)


def _denial(request: HttpRequest, pk: int) -> Denial:
    queryset = scoped_denials(request).select_related(
        "claim__patient", "claim__payer", "claim__provider", "claim__coverage", "line", "owner"
    )
    denial: Denial = get_scoped_or_404(queryset, pk=pk)
    return denial


def _official(denial: Denial) -> dict[str, str]:
    """The official texts the practice loaded, by code."""
    wanted = [denial.carc, *denial.rarcs]
    rows = ReasonCode.objects.filter(code__in=wanted).values_list("kind", "code", "official_text")
    return {f"{kind}:{code}": text for kind, code, text in rows}


def _render(request: HttpRequest, denial: Denial, status: int = 200, **bound: Any) -> HttpResponse:
    phi_log.record_read(request, [denial.claim], what="denial page")
    official = _official(denial)
    initial = {"version": denial.version}
    context = {
        "denial": denial,
        "claim": denial.claim,
        "carc_label": codes.carc_label(denial.carc),
        "carc_official": official.get(f"carc:{denial.carc}", ""),
        "rarcs": [
            (code, codes.rarc_label(code), official.get(f"rarc:{code}", ""))
            for code in denial.rarcs
        ],
        "guidance": codes.GUIDANCE[denial.category],
        "panels": panels.render_denial_panels(request, denial),
        "appeals": denial.appeals.all(),
        "write_offs": denial.write_offs.all(),
        "activities": denial.activities.select_related("actor")[:200],
        "threshold": services.write_off_threshold(denial.practice_id),
        "resubmit_form": bound.get("resubmit") or forms.ResubmitForm(initial=initial),
        "records_form": bound.get("records") or forms.RecordsForm(initial=initial),
        "write_off_form": bound.get("write-off")
        or forms.WriteOffForm(initial={**initial, "amount": denial.amount}),
        "close_form": bound.get("close") or forms.CloseForm(initial=initial),
        "edit_form": bound.get("edit")
        or forms.EditForm(
            initial={
                **initial,
                "category": denial.category,
                "route": denial.route,
                "root_cause": denial.root_cause,
            }
        ),
        "appeal_form": bound.get("appeal") or forms.AppealCreateForm(initial=initial),
    }
    return render(request, "denials/denial_detail.html", context, status=status)


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_GET
def denial_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The denial page."""
    return _render(request, _denial(request, pk))


def _errors_to_form(form: django_forms.Form, exc: ValidationError) -> None:
    pairs = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for field, errors in pairs:
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


# action -> (form class, service call taking (actor, denial, cleaned data), message)
Call = Callable[[Any, Denial, dict[str, Any]], Any]
ACTIONS: dict[str, tuple[type[django_forms.Form], Call, str]] = {
    "resubmit": (
        forms.ResubmitForm,
        lambda actor, denial, data: services.denial_resubmitted(
            actor=actor, denial=denial, note=data["note"], expected_version=data["version"]
        ),
        "Resubmission recorded: the denial waits for the payer's answer.",
    ),
    "records": (
        forms.RecordsForm,
        lambda actor, denial, data: services.denial_request_records(
            actor=actor,
            denial=denial,
            what=data["what"],
            due=data["due"],
            expected_version=data["version"],
        ),
        "Records requested from the practice.",
    ),
    "write-off": (
        forms.WriteOffForm,
        lambda actor, denial, data: services.denial_write_off(
            actor=actor,
            denial=denial,
            amount=data["amount"],
            reason=data["reason"],
            expected_version=data["version"],
        ),
        "Write-off recorded.",
    ),
    "close": (
        forms.CloseForm,
        lambda actor, denial, data: services.denial_close(
            actor=actor,
            denial=denial,
            outcome=data["outcome"],
            note=data["note"],
            amount_recovered=data["amount_recovered"],
            root_cause=data["root_cause"] or None,
            expected_version=data["version"],
        ),
        "Denial closed.",
    ),
    "edit": (
        forms.EditForm,
        lambda actor, denial, data: services.denial_update(
            actor=actor,
            denial=denial,
            category=data["category"],
            route=data["route"],
            root_cause=data["root_cause"],
            expected_version=data["version"],
        ),
        "Denial updated.",
    ),
    "appeal": (
        forms.AppealCreateForm,
        lambda actor, denial, data: appeals.appeal_create(
            actor=actor,
            denial=denial,
            level=data["level"],
            method=data["method"],
            expected_version=data["version"],
        ),
        "Appeal drafted: review the letter and send it.",
    ),
}


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_POST
def denial_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One of the denial page's actions, through its service."""
    denial = _denial(request, pk)
    form_class, call, done = ACTIONS[action]
    form = form_class(request.POST)
    if not form.is_valid():
        return _render(request, denial, 400, **{action: form})
    try:
        result = call(_actor(request), denial, form.cleaned_data)
    except ItemConflict as exc:
        messages.error(request, str(exc))
        denial.refresh_from_db()
        return _render(request, denial, 409, **{action: form})
    except ValidationError as exc:
        _errors_to_form(form, exc)
        return _render(request, denial, 400, **{action: form})
    except PermissionDenied:
        raise Http404("Not found.") from None
    messages.success(request, done)
    if isinstance(result, Appeal):
        return redirect("appeal-detail", pk=result.pk)
    return redirect("denial-detail", pk=denial.pk)


# --- appeals ------------------------------------------------------------------------------


def _appeal(request: HttpRequest, pk: int) -> Appeal:
    queryset = Appeal.objects.visible_to(request.user, perms.WORK_CLAIMS).select_related(
        "denial__claim__patient", "denial__claim__payer", "denial__claim__practice"
    )
    appeal: Appeal = get_scoped_or_404(queryset, pk=pk)
    return appeal


def _appeal_page(
    request: HttpRequest, appeal: Appeal, status: int = 200, **bound: Any
) -> HttpResponse:
    phi_log.record_read(request, [appeal.denial.claim], what="appeal page")
    documents = visible_attachments(request.user, appeal.denial.claim)
    context = {
        "appeal": appeal,
        "denial": appeal.denial,
        "chosen": appeal.documents.filter(pk__in=documents.values("pk")),
        "edit_form": bound.get("edit")
        or forms.AppealEditForm(
            attachments=documents,
            initial={
                "letter": appeal.letter,
                "method": appeal.method,
                "deadline": appeal.deadline,
                "documents": list(appeal.documents.values_list("pk", flat=True)),
            },
        ),
        "send_form": bound.get("send") or forms.AppealSendForm(initial={"method": appeal.method}),
        "decide_form": bound.get("decide") or forms.AppealDecideForm(),
    }
    return render(request, "denials/appeal_detail.html", context, status=status)


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_http_methods(["GET", "POST"])
def appeal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The appeal page; a POST saves the edited letter, method, deadline and documents."""
    appeal = _appeal(request, pk)
    if request.method == "GET":
        return _appeal_page(request, appeal)
    documents = visible_attachments(request.user, appeal.denial.claim)
    form = forms.AppealEditForm(request.POST, attachments=documents)
    if not form.is_valid():
        return _appeal_page(request, appeal, 400, edit=form)
    data = form.cleaned_data
    return _appeal_call(
        request,
        appeal,
        "edit",
        form,
        lambda: appeals.appeal_update(
            actor=_actor(request),
            appeal=appeal,
            letter=data["letter"],
            method=data["method"],
            deadline=data["deadline"],
            documents=data["documents"],
        ),
        "Appeal saved.",
    )


def _appeal_call(
    request: HttpRequest,
    appeal: Appeal,
    name: str,
    form: django_forms.Form,
    call: Callable[[], Any],
    done: str,
) -> HttpResponse:
    try:
        call()
    except ValidationError as exc:
        _errors_to_form(form, exc)
        return _appeal_page(request, appeal, 400, **{name: form})
    except PermissionDenied:
        raise Http404("Not found.") from None
    messages.success(request, done)
    return redirect("appeal-detail", pk=appeal.pk)


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_POST
def appeal_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that the appeal went out."""
    appeal = _appeal(request, pk)
    form = forms.AppealSendForm(request.POST)
    if not form.is_valid():
        return _appeal_page(request, appeal, 400, send=form)
    data = form.cleaned_data
    return _appeal_call(
        request,
        appeal,
        "send",
        form,
        lambda: appeals.appeal_send(
            actor=_actor(request), appeal=appeal, sent_on=data["sent_on"], method=data["method"]
        ),
        "Appeal sent: the denial waits for the payer's decision.",
    )


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_POST
def appeal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the payer's decision on the appeal."""
    appeal = _appeal(request, pk)
    form = forms.AppealDecideForm(request.POST)
    if not form.is_valid():
        return _appeal_page(request, appeal, 400, decide=form)
    data = form.cleaned_data
    return _appeal_call(
        request,
        appeal,
        "decide",
        form,
        lambda: appeals.appeal_decide(
            actor=_actor(request),
            appeal=appeal,
            outcome=data["outcome"],
            amount_recovered=data["amount_recovered"] or "0",
            decided_on=data["decided_on"],
        ),
        "Decision recorded.",
    )


@scoped_page(perms.WORK_CLAIMS, current_practice=False)
@require_GET
def appeal_letter_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The appeal letter as a PDF download."""
    appeal = _appeal(request, pk)
    phi_log.record_read(request, [appeal.denial.claim], what="appeal letter PDF")
    response = HttpResponse(letters.render_pdf(appeal), content_type="application/pdf")
    name = f"appeal-{appeal.denial.number}-{appeal.level}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- the category map (managers) ----------------------------------------------------------


@scoped_page(perms.MANAGE_SOPS)
@require_http_methods(["GET", "POST"])
def category_rules(request: HttpRequest) -> HttpResponse:
    """The practice's CARC -> category rules, with per-payer overrides."""
    practice = request_access(request).practice
    payers = Payer.objects.filter(practice=practice).order_by("name")
    form = forms.CategoryRuleForm(request.POST or None, payers=payers)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.category_rule_set(
                    actor=_actor(request),
                    practice=practice,
                    carc=data["carc"],
                    category=data["category"],
                    route=data["route"],
                    payer=data["payer"],
                )
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, "Rule saved: new denials follow it.")
                return redirect("denial-rules")
        status = 400
    rules = CategoryRule.objects.visible_to(request.user, perms.MANAGE_SOPS).of_practice(
        practice.pk
    )
    context = {
        "form": form,
        "rules": rules.select_related("payer").order_by("carc", "payer__name"),
        "defaults": sorted(codes.CARC.items(), key=lambda item: int(item[0])),
        "proposals": RuleProposal.objects.visible_to(request.user, perms.MANAGE_SOPS)
        .of_practice(practice.pk)
        .filter(status=ProposalStatus.PROPOSED)
        .select_related("payer"),
        "confirm_form": forms.ProposalConfirmForm(),
    }
    return render(request, "denials/category_rules.html", context, status=status)


@scoped_page(perms.MANAGE_SOPS)
@require_POST
def category_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Drop one rule of the practice's map."""
    practice = request_access(request).practice
    rules = CategoryRule.objects.visible_to(request.user, perms.MANAGE_SOPS)
    rule = get_scoped_or_404(rules.of_practice(practice.pk), pk=pk)
    services.category_rule_delete(actor=_actor(request), rule=rule)
    messages.success(request, "Rule removed.")
    return redirect("denial-rules")


def _proposal(request: HttpRequest, pk: int) -> RuleProposal:
    practice = request_access(request).practice
    proposals = RuleProposal.objects.visible_to(request.user, perms.MANAGE_SOPS)
    proposal: RuleProposal = get_scoped_or_404(proposals.of_practice(practice.pk), pk=pk)
    return proposal


@scoped_page(perms.MANAGE_SOPS)
@require_POST
def proposal_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager confirms a proposed payer rule: the scrubber applies it from now on."""
    proposal = _proposal(request, pk)
    form = forms.ProposalConfirmForm(request.POST)
    if form.is_valid():
        try:
            loop.proposal_confirm(actor=_actor(request), proposal=proposal, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Payer rule confirmed: the scrubber checks it now.")
    return redirect("denial-rules")


@scoped_page(perms.MANAGE_SOPS)
@require_POST
def proposal_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager dismisses a proposed payer rule."""
    proposal = _proposal(request, pk)
    try:
        loop.proposal_dismiss(actor=_actor(request), proposal=proposal)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Proposal dismissed.")
    return redirect("denial-rules")
