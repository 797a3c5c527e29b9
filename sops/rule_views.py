"""The payer house rule library: read by everybody who works claims, kept by managers.

The list shows the practice's rules by payer (confirmed or not, last reviewed, review
due), the structured scrubber rules (``claims.PayerRule``) that no entry carries yet,
so a manager can write their decision down, and the rules proposed from repeated denials
(unconfirmed, for a manager to confirm or dismiss: ``sops.rule_proposals``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing_ops.access import has_perm, request_access
from billing_ops.pages import get_scoped_or_404, scoped_page
from claims.choices import AttachmentKind
from claims.forms import BootstrapForm
from claims.models import PayerRule
from practices import permissions as perms
from practices.choices import ServiceArea
from practices.models import Payer
from sops import rule_proposals, rule_services
from sops.rule_models import HouseRule, HouseRuleReview
from sops.views import _actor, form_errors


class HouseRuleForm(BootstrapForm):
    service_required = ("decision",)

    payer: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None)  # type: ignore[arg-type]
    procedure_pattern = forms.CharField(max_length=20, required=False, label="Procedure pattern")
    service_area = forms.ChoiceField(choices=[("", "Any"), *ServiceArea.choices], required=False)
    decision = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    source = forms.CharField(max_length=300, required=False)
    payer_rule: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,  # type: ignore[arg-type]
        required=False,
        label="Structured scrubber rule",
        empty_label="None",
    )
    review_every_days = forms.IntegerField(min_value=7, max_value=366, initial=91)

    def __init__(self, *args: Any, practice: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.filter(practice=practice)  # type: ignore[attr-defined]
        self.fields["payer_rule"].queryset = PayerRule.objects.filter(  # type: ignore[attr-defined]
            practice=practice, is_active=True
        ).select_related("payer")


class ConfirmForm(BootstrapForm):
    source = forms.CharField(max_length=300)


class ProposalConfirmForm(BootstrapForm):
    required_attachment = forms.ChoiceField(
        choices=[("", "No attachment"), *AttachmentKind.choices], required=False
    )
    required_modifier = forms.CharField(max_length=2, required=False)
    decision = forms.CharField(max_length=300, required=False)
    source = forms.CharField(max_length=300, required=False)


def _rules(request: HttpRequest) -> Any:
    practice = request_access(request).practice
    return (
        HouseRule.objects.visible_to(request.user, perms.WORK_CLAIMS)
        .of_practice(practice.pk)
        .select_related("payer", "confirmed_by", "payer_rule")
    )


@scoped_page(perms.WORK_CLAIMS)
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    practice = request_access(request).practice
    rules = list(_rules(request))
    carried = {rule.payer_rule_id for rule in rules if rule.payer_rule_id}
    structured = (
        PayerRule.objects.visible_to(request.user, perms.WORK_CLAIMS)
        .of_practice(practice.pk)
        .filter(is_active=True)
        .exclude(pk__in=carried)
        .select_related("payer")
    )
    context = {
        "rules": rules,
        "structured": structured,
        "proposals": rule_proposals.pending(practice.pk),
        "attachment_kinds": AttachmentKind.choices,
        "can_edit": has_perm(request.user, perms.MANAGE_SOPS, practice.pk),
        "area_labels": dict(ServiceArea.choices),
    }
    return render(request, "sops/rule_list.html", context)


@scoped_page(perms.MANAGE_SOPS)
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add a rule (``pk`` None; ``?structured=<id>`` starts from a scrubber rule) or
    change one."""
    practice = request_access(request).practice
    rule = get_scoped_or_404(_rules(request), pk=pk) if pk is not None else None
    initial: dict[str, Any] = {"review_every_days": 91}
    if rule is not None:
        initial = {
            "payer": rule.payer_id,
            "procedure_pattern": rule.procedure_pattern,
            "service_area": rule.service_area,
            "decision": rule.decision,
            "source": rule.source,
            "payer_rule": rule.payer_rule_id,
            "review_every_days": rule.review_every_days,
        }
    elif request.GET.get("structured", "").isdigit():
        structured = PayerRule.objects.filter(
            practice=practice, pk=int(request.GET["structured"])
        ).first()
        if structured is not None:
            initial.update(
                payer=structured.payer_id,
                procedure_pattern=structured.procedure_code_pattern,
                decision=structured.description,
                payer_rule=structured.pk,
            )
    form = HouseRuleForm(request.POST or None, initial=initial, practice=practice)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = rule_services.house_rule_save(
                    actor=_actor(request), practice=practice, rule=rule, **form.cleaned_data
                )
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, f"Saved: {saved}.")
                return redirect("payer-rule-list")
        status = 400
    context = {"form": form, "rule": rule}
    return render(request, "sops/rule_edit.html", context, status=status)


@scoped_page(perms.MANAGE_SOPS)
@require_POST
def rule_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_scoped_or_404(_rules(request), pk=pk)
    form = ConfirmForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"source": "Say where it was confirmed."})
        rule_services.house_rule_confirm(
            actor=_actor(request), rule=rule, source=form.cleaned_data["source"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("payer-rule-list")
    messages.success(request, f"Confirmed: {rule}.")
    return redirect("payer-rule-list")


@scoped_page(perms.MANAGE_SOPS)
@require_POST
def rule_reviewed(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_scoped_or_404(_rules(request), pk=pk)
    rule_services.house_rule_reviewed(actor=_actor(request), rule=rule)
    messages.success(request, f"Reviewed: {rule}.")
    return redirect("payer-rule-list")


@scoped_page(perms.MANAGE_SOPS)
@require_GET
def rule_review(request: HttpRequest, pk: int) -> HttpResponse:
    """A review work item: to the rule in the library."""
    practice = request_access(request).practice
    reviews = HouseRuleReview.objects.visible_to(request.user, perms.MANAGE_SOPS)
    review: HouseRuleReview = get_scoped_or_404(reviews.of_practice(practice.pk), pk=pk)
    return redirect(f"{reverse('payer-rule-list')}#rule-{review.rule_id}")


@scoped_page(perms.MANAGE_SOPS)
@require_POST
def proposal_confirm(request: HttpRequest, source: str, pk: int) -> HttpResponse:
    """A manager confirms a proposed rule: a confirmed house rule with its scrubber rule."""
    practice = request_access(request).practice
    form = ProposalConfirmForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(" ".join(e for errs in form.errors.values() for e in errs))
        rule = rule_proposals.proposal_confirm(
            actor=_actor(request), practice=practice, source_key=source, pk=pk, **form.cleaned_data
        )
    except (LookupError, PermissionDenied):
        raise Http404("Not found.") from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("payer-rule-list")
    messages.success(request, f"Confirmed: {rule}; the scrubber checks it now.")
    return redirect(f"{reverse('payer-rule-list')}#rule-{rule.pk}")


@scoped_page(perms.MANAGE_SOPS)
@require_POST
def proposal_dismiss(request: HttpRequest, source: str, pk: int) -> HttpResponse:
    """A manager dismisses a proposed rule: it is not proposed again."""
    practice = request_access(request).practice
    try:
        rule_proposals.proposal_dismiss(
            actor=_actor(request), practice=practice, source_key=source, pk=pk
        )
    except (LookupError, PermissionDenied):
        raise Http404("Not found.") from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("payer-rule-list")
    messages.success(request, "Proposal dismissed: it is not proposed again.")
    return redirect("payer-rule-list")
