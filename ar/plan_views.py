"""Payment plan pages: the practice's plans, one plan (installments, history, cancel), a
missed installment (the work item: the plan page with its next action), setting a plan up
from the account page, and the patient page's plan panel.

Scoped by WORK_PATIENT_BILLING like the account pages: another practice's plan, or one
outside the user's service areas, answers 404 like a missing one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ar import plans
from ar.account_forms import CONTROL, SELECT
from ar.ledger_models import PatientAccount
from ar.plan_models import (
    DEFAULT_GRACE_DAYS,
    Installment,
    InstallmentAction,
    InstallmentStatus,
    PaymentPlan,
    PlanStatus,
)
from billing_ops.access import acting_user, has_perm, request_access
from billing_ops.pages import get_scoped_or_404, scoped_page
from practices import permissions as perms
from practices import phi_log
from work.choices import WAIT
from work.services import ItemConflict, item_set_next_action

if TYPE_CHECKING:
    from practices.models import Patient

PERM = perms.WORK_PATIENT_BILLING


class PlanForm(forms.Form):
    """Set up a plan: the total in equal installments from a first due date."""

    total = forms.DecimalField(
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(CONTROL),
    )
    count = forms.IntegerField(
        label="Installments",
        min_value=1,
        max_value=plans.MAX_INSTALLMENTS,
        initial=3,
        widget=forms.NumberInput(CONTROL),
    )
    first_due = forms.DateField(widget=forms.DateInput({**CONTROL, "type": "date"}))
    interval = forms.ChoiceField(
        choices=[("monthly", "Monthly"), ("biweekly", "Every two weeks"), ("weekly", "Weekly")],
        widget=forms.Select(attrs=SELECT),
    )
    grace_days = forms.IntegerField(
        min_value=0,
        max_value=plans.MAX_GRACE_DAYS,
        initial=DEFAULT_GRACE_DAYS,
        widget=forms.NumberInput(CONTROL),
        help_text="Days after a due date before a missed installment breaks the plan.",
    )
    terms = forms.CharField(required=False, max_length=500, widget=forms.TextInput(CONTROL))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["first_due"].initial = timezone.localdate() + dt.timedelta(days=14)


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.TextInput(CONTROL))


class NextActionForm(forms.Form):
    next_action = forms.ChoiceField(
        choices=InstallmentAction.choices, widget=forms.Select(attrs=SELECT)
    )
    next_action_due = forms.DateField(widget=forms.DateInput({**CONTROL, "type": "date"}))
    wait_reason = forms.CharField(required=False, max_length=300, widget=forms.TextInput(CONTROL))


def _run(request: HttpRequest, call: Any) -> bool:
    """Run a service: refused access is a 404, a refused change a message; True if done."""
    try:
        call()
    except PermissionDenied:
        raise Http404("Not found.") from None
    except ItemConflict as exc:
        messages.error(request, str(exc))
        return False
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return False
    return True


def _form_errors(request: HttpRequest, form: forms.Form) -> None:
    for field, errors in form.errors.items():
        label = (
            str(form.fields[field].label or field.replace("_", " ")) if field in form.fields else ""
        )
        for error in errors:
            messages.error(request, f"{label.capitalize()}: {error}" if label else str(error))


def _plans(request: HttpRequest) -> Any:
    return PaymentPlan.objects.visible_to(request.user, PERM).select_related(
        "account__patient", "created_by", "ended_by"
    )


@require_GET
@scoped_page(PERM)
def plan_list(request: HttpRequest) -> HttpResponse:
    """The practice's plans, active ones first, with what is left and when it is next due."""
    practice = request_access(request).practice
    rows = list(
        _plans(request)
        .of_practice(practice.pk)
        .prefetch_related("installments")
        .order_by("status", "-created_at", "-pk")[:200]
    )
    phi_log.record_read(request, [p.account for p in rows], what="payment plans")
    context = {"plans": [(p, summary(p)) for p in rows], "practice": practice}
    return render(request, "ar/plan_list.html", context)


def summary(plan: PaymentPlan) -> dict[str, Any]:
    """Paid, remaining and the next installment due (from prefetched installments)."""
    items = list(plan.installments.all())
    paid = sum((i.paid_amount for i in items), Decimal("0.00"))
    unpaid = [i for i in items if i.status in plans.UNPAID]
    return {
        "paid": paid,
        "remaining": plan.total - paid if plan.is_active else Decimal("0.00"),
        "next": unpaid[0] if unpaid and plan.is_active else None,
        "late": [i for i in items if i.status == InstallmentStatus.LATE],
    }


def _detail(request: HttpRequest, plan: PaymentPlan, item: Installment | None) -> HttpResponse:
    phi_log.record_read(request, [plan.account], what="payment plan page")
    context = {
        "plan": plan,
        "account": plan.account,
        "patient": plan.account.patient,
        "installments": list(plan.installments.select_related("owner").order_by("number")),
        "summary": summary(plan),
        "history": list(plan.history.select_related("history_user")[:30]),
        "item": item,
        "cancel_form": CancelForm(),
        "next_action_form": NextActionForm(
            initial={"next_action_due": timezone.localdate() + dt.timedelta(days=3)}
        ),
        "today": timezone.localdate(),
    }
    return render(request, "ar/plan_detail.html", context)


@require_GET
@scoped_page(PERM, current_practice=False)
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_scoped_or_404(_plans(request), pk=pk), None)


def _installment(request: HttpRequest, pk: int) -> Installment:
    queryset = Installment.objects.visible_to(request.user, PERM).select_related(
        "plan__account__patient", "owner"
    )
    return get_scoped_or_404(queryset, pk=pk)


@require_GET
@scoped_page(PERM, current_practice=False)
def installment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A missed installment (the work item): its plan's page with the next-action form."""
    item = _installment(request, pk)
    return _detail(request, get_scoped_or_404(_plans(request), pk=item.plan_id), item)


@require_POST
@scoped_page(PERM, current_practice=False)
def installment_next_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Set what happens next on a missed installment (called the patient, waiting...)."""
    item = _installment(request, pk)
    form = NextActionForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    elif form.cleaned_data["next_action"] == WAIT and not form.cleaned_data["wait_reason"]:
        messages.error(request, "Say what we are waiting for.")
    elif _run(
        request,
        lambda: item_set_next_action(actor=acting_user(request), item=item, **form.cleaned_data),
    ):
        messages.success(request, "Next action saved.")
    return redirect("installment-detail", item.pk)


@require_POST
@scoped_page(PERM, current_practice=False)
def plan_create(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Set up a plan" on the account page."""
    queryset = PatientAccount.objects.visible_to(request.user, PERM)
    account = get_scoped_or_404(queryset, pk=pk)
    form = PlanForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("patient-account-detail", account.pk)
    made: list[PaymentPlan] = []
    if _run(
        request,
        lambda: made.append(
            plans.plan_create(actor=acting_user(request), account=account, **form.cleaned_data)
        ),
    ):
        messages.success(request, f"Payment plan {made[0]} set up.")
        return redirect("payment-plan-detail", made[0].pk)
    return redirect("patient-account-detail", account.pk)


@require_POST
@scoped_page(PERM, current_practice=False)
def plan_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_scoped_or_404(_plans(request), pk=pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    elif _run(
        request,
        lambda: plans.plan_cancel(
            actor=acting_user(request), plan=plan, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(request, f"{plan} cancelled: the account is back on statements.")
    return redirect("payment-plan-detail", plan.pk)


# --- panels ----------------------------------------------------------------------------


def account_card(request: HttpRequest, account: PatientAccount) -> str:
    """The account page's plan card: the active plan, or the form to set one up."""
    if not has_perm(request.user, PERM, account.practice_id):
        return ""
    recent = list(
        PaymentPlan.objects.filter(account=account)
        .prefetch_related("installments")
        .order_by("-created_at", "-pk")[:5]
    )
    active = next((p for p in recent if p.status == PlanStatus.ACTIVE), None)
    context = {
        "account": account,
        "active": active,
        "summary": summary(active) if active else None,
        "recent": recent,
        "plan_form": PlanForm(initial={"total": max(account.balance, Decimal("0.00"))}),
        "cancel_form": CancelForm(),
    }
    return render_to_string("ar/plan_account_card.html", context, request=request)


def patient_panel(request: HttpRequest, patient: Patient) -> str:
    """The patient page: the active plan's next due installment and what is left."""
    if not has_perm(request.user, PERM, patient.practice_id):
        return ""
    plan = (
        PaymentPlan.objects.filter(account__patient=patient, status=PlanStatus.ACTIVE)
        .prefetch_related("installments")
        .first()
    )
    if plan is None:
        return ""
    context = {"plan": plan, "summary": summary(plan)}
    return render_to_string("ar/plan_panel.html", context, request=request)
