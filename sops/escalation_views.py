"""Escalation pages: raise one (from an item's page), read it, answer it.

Raising needs the item's own scope (the service checks it: an item the user may not see
answers 404); reading follows ``escalation_services.readable``; answering is for the
function's owner, backup, the escalation's current owner and managers.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from billing_ops.pages import get_scoped_or_404, scoped_page
from claims.forms import BootstrapForm
from practices import permissions as perms
from sops import escalation_services
from sops.choices import BillingFunctionKind
from sops.escalation_models import QUESTION_MAX, Escalation
from sops.views import _actor
from work.registry import registry
from work.services import ItemConflict


class RaiseForm(BootstrapForm):
    subject_type = forms.CharField(max_length=30, widget=forms.HiddenInput)
    subject_id = forms.IntegerField(min_value=1, max_value=2**62, widget=forms.HiddenInput)
    question = forms.CharField(max_length=QUESTION_MAX, required=False)
    function_kind = forms.ChoiceField(label="Function", choices=BillingFunctionKind.choices)
    deadline = forms.DateField(label="Answer by", required=False)
    patient_impact = forms.CharField(max_length=300, required=False)
    is_routine = forms.BooleanField(label="Routine question (no deadline)", required=False)


class AnswerForm(BootstrapForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


def _escalation(request: HttpRequest, pk: int) -> Escalation:
    rows = escalation_services.readable(request.user).select_related(
        "function", "owner", "raised_by", "answered_by"
    )
    escalation: Escalation = get_scoped_or_404(rows, pk=pk)
    return escalation


def subject_url(escalation: Escalation) -> str:
    try:
        name = registry.type(escalation.subject_type).detail_url_name
        return reverse(name, args=[escalation.subject_id])
    except (KeyError, NoReverseMatch):
        return ""


def _detail(
    request: HttpRequest, escalation: Escalation, form: Any = None, status: int = 200
) -> HttpResponse:
    context = {
        "e": escalation,
        "subject_url": subject_url(escalation),
        "can_answer": escalation.is_open
        and escalation_services.may_answer(request.user, escalation),
        "form": form or AnswerForm(initial={"version": escalation.version}),
    }
    return render(request, "sops/escalation_detail.html", context, status=status)


@scoped_page(perms.VIEW_PRACTICE, current_practice=False)
@require_POST
def escalation_raise(request: HttpRequest) -> HttpResponse:
    """Raise an escalation about a work item; back to the escalation's page."""
    form = RaiseForm(request.POST)
    if not form.is_valid():
        return render(request, "sops/escalation_raise.html", {"form": form}, status=400)
    data = form.cleaned_data
    try:
        escalation = escalation_services.escalation_raise(actor=_actor(request), **data)
    except ValidationError as exc:
        if "subject_id" in getattr(exc, "error_dict", {}) or "subject_type" in getattr(
            exc, "error_dict", {}
        ):
            raise Http404("Not found.") from None
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return render(request, "sops/escalation_raise.html", {"form": form}, status=400)
    messages.success(request, f"Escalated to {escalation.owner}: E-{escalation.pk}.")
    return redirect("escalation-detail", pk=escalation.pk)


@scoped_page(perms.VIEW_PRACTICE, current_practice=False)
@require_GET
def escalation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _escalation(request, pk))


@scoped_page(perms.VIEW_PRACTICE, current_practice=False)
@require_POST
def escalation_answer(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _escalation(request, pk)
    if not escalation_services.may_answer(request.user, escalation):
        raise Http404("Not found.")
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _detail(request, escalation, form, 400)
    try:
        escalation_services.escalation_answer(
            actor=_actor(request),
            escalation=escalation,
            answer=form.cleaned_data["answer"],
            expected_version=form.cleaned_data["version"],
        )
    except PermissionDenied:
        raise Http404("Not found.") from None
    except ItemConflict as exc:
        messages.error(request, str(exc))
        return _detail(request, _escalation(request, pk), status=409)
    except ValidationError as exc:
        form.add_error(None, " ".join(exc.messages))
        return _detail(request, escalation, form, 400)
    messages.success(request, "Answered: whoever asked is told.")
    return redirect("escalation-detail", pk=escalation.pk)
