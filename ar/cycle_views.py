"""The statement cycle page (/statements/cycle/): a practice manager (MANAGE_SOPS) sets the
day of the month and the minimum balance of the switcher's practice, through
``ar.cycles.statement_cycle_update``, and sees who changed it before. The dunning stages
and their wording are shown as the statements print them."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ar import cycles
from ar.account_choices import FINAL_NOTICE_DAYS, SECOND_NOTICE_DAYS, STAGE_WORDING, DunningStage
from ar.statement_models import StatementCycle
from ar.statements import FINAL_PAY_WITHIN_DAYS, PAY_WITHIN_DAYS, cycle_of
from billing_ops.access import acting_user, request_access
from billing_ops.pages import scoped_page
from practices import permissions as perms

CONTROL = {"class": "form-control form-control-sm"}


class CycleForm(forms.Form):
    day_of_month = forms.IntegerField(
        label="Day of the month",
        min_value=1,
        max_value=cycles.LAST_DAY,
        widget=forms.NumberInput(CONTROL),
        help_text=f"1 to {cycles.LAST_DAY}: every month has it.",
    )
    minimum_balance = forms.DecimalField(
        label="Minimum balance",
        min_value=Decimal("0.01"),
        max_value=cycles.MAX_MINIMUM,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput({**CONTROL, "step": "0.01"}),
        help_text="Accounts owing less get no statement.",
    )


def _stages() -> list[dict[str, object]]:
    ages = {
        DunningStage.FIRST: f"under {SECOND_NOTICE_DAYS} days",
        DunningStage.SECOND: f"{SECOND_NOTICE_DAYS}-{FINAL_NOTICE_DAYS - 1} days",
        DunningStage.FINAL: f"{FINAL_NOTICE_DAYS} days or more",
    }
    return [
        {
            "label": stage.label,
            "age": ages[stage],
            "within": FINAL_PAY_WITHIN_DAYS if stage == DunningStage.FINAL else PAY_WITHIN_DAYS,
            "wording": STAGE_WORDING[stage],
        }
        for stage in DunningStage
    ]


@scoped_page(perms.MANAGE_SOPS)
@require_http_methods(["GET", "POST"])
def statement_cycle(request: HttpRequest) -> HttpResponse:
    practice = request_access(request).practice
    assert practice is not None  # scoped_page answered 404 without one
    cycle = cycle_of(practice.pk)
    initial = {"day_of_month": cycle.day_of_month, "minimum_balance": cycle.minimum_balance}
    form = CycleForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                cycles.statement_cycle_update(
                    actor=acting_user(request), practice=practice, **form.cleaned_data
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, "Statement cycle saved: the next run follows it.")
                return redirect("statement-cycle")
        status = 400
    history = (
        StatementCycle.history.filter(practice_id=practice.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:50]
    )
    context = {
        "practice": practice,
        "cycle": cycle,
        "form": form,
        "history": history,
        "stages": _stages(),
    }
    return render(request, "ar/statement_cycle.html", context, status=status)
