"""The check page's result form: what the verifier found, turned into a ``CheckResult``."""

from __future__ import annotations

from typing import Any

from django import forms

from eligibility.choices import RESULT_OUTCOMES, CheckMethod, CheckOutcome
from eligibility.results import CheckResult, FrequencyLimit

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2, "min_value": 0, "required": False}
OUTCOME_CHOICES = [(value, CheckOutcome(value).label) for value in RESULT_OUTCOMES]


class CheckResultForm(forms.Form):
    """One verification (portal, phone or 270/271). Frequency limits: one a line, as
    ``description | last done`` ("Prophylaxis D1110: 2 per year | 2026-05-14")."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label="Outcome", choices=OUTCOME_CHOICES)
    method = forms.ChoiceField(choices=CheckMethod.choices)
    reference = forms.CharField(label="Reference number", max_length=80, required=False)
    plan_name = forms.CharField(label="Plan", max_length=200, required=False)
    group_number = forms.CharField(max_length=40, required=False)
    member_id = forms.CharField(label="Member id", max_length=40, required=False)
    copay = forms.DecimalField(**MONEY)
    coinsurance_percent = forms.DecimalField(
        label="Coinsurance %",
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
    )
    deductible = forms.DecimalField(**MONEY)
    deductible_remaining = forms.DecimalField(label="Deductible remaining", **MONEY)
    annual_max_remaining = forms.DecimalField(label="Annual maximum remaining", **MONEY)
    frequency_limits = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="One a line: description | last done (e.g. 2 cleanings a year | 2026-05-14)",
    )
    problems = forms.CharField(
        label="Problems found",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="One a line (e.g. subscriber not found, termed 10/31).",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        status = data.get("status")
        if status in (CheckOutcome.INACTIVE, CheckOutcome.NEEDS_INFO) and not (
            (data.get("problems") or "").strip() or (data.get("note") or "").strip()
        ):
            self.add_error("problems", "Say what is wrong, so the patient can be asked for it.")
        return data

    def to_result(self) -> CheckResult:
        data = self.cleaned_data
        limits = []
        for line in (data.get("frequency_limits") or "").splitlines():
            description, _, last = line.partition("|")
            if description.strip():
                limits.append(FrequencyLimit(description.strip(), last.strip()))
        problems = tuple(
            line.strip() for line in (data.get("problems") or "").splitlines() if line.strip()
        )
        return CheckResult(
            status=data["status"],
            method=data["method"],
            plan_name=data.get("plan_name") or "",
            group_number=data.get("group_number") or "",
            member_id=data.get("member_id") or "",
            reference=data.get("reference") or "",
            copay=data.get("copay"),
            coinsurance_percent=data.get("coinsurance_percent"),
            deductible=data.get("deductible"),
            deductible_remaining=data.get("deductible_remaining"),
            annual_max_remaining=data.get("annual_max_remaining"),
            frequency_limits=tuple(limits),
            problems=problems,
            note=data.get("note") or "",
        )


def initial_for(check: Any) -> dict[str, Any]:
    """The form's starting values: what the last verification found (or the coverage's)."""
    return {
        "version": check.version,
        "status": check.status if check.status in RESULT_OUTCOMES else CheckOutcome.ACTIVE,
        "method": check.method or CheckMethod.PORTAL,
        "reference": check.reference,
        "plan_name": check.plan_name,
        "group_number": check.group_number,
        "member_id": check.member_id,
        "copay": check.copay,
        "coinsurance_percent": check.coinsurance_percent,
        "deductible": check.deductible,
        "deductible_remaining": check.deductible_remaining,
        "annual_max_remaining": check.annual_max_remaining,
        "frequency_limits": "\n".join(
            f"{limit.get('description', '')} | {limit.get('last_done', '')}".rstrip(" |")
            for limit in check.frequency_limits
        ),
        "problems": "\n".join(check.problems),
        "note": check.note,
    }
