"""Forms of the patient account pages; each maps onto one service call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from ar.account_choices import (
    PATIENT_ADJUSTMENT_KINDS,
    AccountAction,
    ContactChannel,
    PaymentMethod,
)

CONTROL = {"class": "form-control form-control-sm"}
SELECT = {"class": "form-select form-select-sm"}


class PaymentForm(forms.Form):
    """A patient payment at the front desk: cash, check or card keyed by hand."""

    amount = forms.DecimalField(
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(CONTROL),
    )
    method = forms.ChoiceField(choices=PaymentMethod.choices, widget=forms.Select(attrs=SELECT))
    reference = forms.CharField(
        required=False,
        max_length=80,
        widget=forms.TextInput(CONTROL),
        help_text="Check number or card receipt number (no card numbers).",
    )
    memo = forms.CharField(required=False, max_length=300, widget=forms.TextInput(CONTROL))


class FollowUpForm(forms.Form):
    channel = forms.ChoiceField(choices=ContactChannel.choices, widget=forms.Select(attrs=SELECT))
    contact = forms.CharField(max_length=120, widget=forms.TextInput(CONTROL))
    discussed = forms.CharField(widget=forms.Textarea({**CONTROL, "rows": 2}))
    agreed = forms.CharField(required=False, widget=forms.Textarea({**CONTROL, "rows": 2}))
    next_step = forms.ChoiceField(choices=AccountAction.choices, widget=forms.Select(attrs=SELECT))
    next_date = forms.DateField(widget=forms.DateInput({**CONTROL, "type": "date"}))
    wait_reason = forms.CharField(required=False, max_length=300, widget=forms.TextInput(CONTROL))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["next_date"].initial = timezone.localdate() + dt.timedelta(days=7)


class AdjustmentForm(forms.Form):
    kind = forms.ChoiceField(choices=PATIENT_ADJUSTMENT_KINDS, widget=forms.Select(attrs=SELECT))
    amount = forms.DecimalField(
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(CONTROL),
    )
    reason = forms.CharField(max_length=500, widget=forms.TextInput(CONTROL))


class ReverseForm(forms.Form):
    reason = forms.CharField(max_length=200, widget=forms.TextInput(CONTROL))


class RefuseForm(forms.Form):
    note = forms.CharField(max_length=500, widget=forms.TextInput(CONTROL))


class DisputeForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.TextInput(CONTROL))


class ResolveForm(forms.Form):
    resolution = forms.CharField(max_length=500, widget=forms.TextInput(CONTROL))
