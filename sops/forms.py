"""Forms of the billing function and SOP pages (the services check the rules)."""

from __future__ import annotations

from typing import Any

from django import forms

from claims.forms import BootstrapForm
from sops.choices import Sourcing


def _name(user: Any) -> str:
    return str(user.get_full_name() or user.username)


class _PeopleForm(BootstrapForm):
    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = people
                field.label_from_instance = _name  # type: ignore[method-assign]


class BillingFunctionForm(_PeopleForm):
    owner: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,  # type: ignore[arg-type]
        required=False,
        empty_label="Keep the current owner",
    )
    backup: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,  # type: ignore[arg-type]
        required=False,
        empty_label="No backup",
    )
    sourcing = forms.ChoiceField(label="In-house or vendor", choices=Sourcing.choices)
    turnaround_days = forms.IntegerField(label="Turnaround (days)", min_value=1, max_value=90)
    escalation_contact: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,  # type: ignore[arg-type]
        required=False,
        empty_label="The owner",
    )
    how_to_reach = forms.CharField(
        label="How to reach them", max_length=300, required=False, help_text="Phone, hours, inbox."
    )


class SopForm(_PeopleForm):
    service_required = ("objective", "steps", "timeline", "escalation_path", "change_summary")

    title = forms.CharField(max_length=200, required=False)
    objective = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    steps = forms.CharField(
        label="Steps (one per line, in order)",
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
    )
    owner: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,  # type: ignore[arg-type]
        required=False,
        empty_label="The function's owner",
    )
    timeline = forms.CharField(max_length=300, required=False, help_text="By when, how often.")
    escalation_path = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    payer_requirements = forms.CharField(
        label="Payer-specific requirements",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    change_summary = forms.CharField(label="What changed", max_length=300, required=False)

    def step_list(self) -> list[str]:
        return [line for line in self.cleaned_data["steps"].splitlines() if line.strip()]
