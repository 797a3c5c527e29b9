"""Forms for the denial and appeal pages. They read input only; the rules are the
services' (``denials.services``, ``denials.appeals``) and their errors land on these fields."""

from __future__ import annotations

from typing import Any

from django import forms

from claims.choices import AttachmentKind
from claims.forms import DATE, BootstrapForm
from denials.choices import (
    AppealLevel,
    AppealMethod,
    AppealOutcome,
    DenialCategory,
    Outcome,
    RootCause,
    Route,
)

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
CLOSE_OUTCOMES = [(value, label) for value, label in Outcome.choices if value != "written_off"]


class VersionedForm(BootstrapForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class ResubmitForm(VersionedForm):
    note = forms.CharField(label="What was corrected", max_length=1000, required=False)
    service_required = ("note",)


class RecordsForm(VersionedForm):
    what = forms.CharField(label="Records the payer needs", max_length=250, required=False)
    due = forms.DateField(label="Needed by", required=False, widget=DATE)
    service_required = ("what",)


class WriteOffForm(VersionedForm):
    amount = forms.DecimalField(required=False, min_value=0, **MONEY)
    reason = forms.CharField(max_length=500, required=False)
    service_required = ("reason",)


class CloseForm(VersionedForm):
    outcome = forms.ChoiceField(choices=[("", "—"), *CLOSE_OUTCOMES], required=False)
    root_cause = forms.ChoiceField(choices=[("", "—"), *RootCause.choices], required=False)
    amount_recovered = forms.DecimalField(required=False, min_value=0, **MONEY)
    note = forms.CharField(max_length=1000, required=False)
    service_required = ("outcome",)


class EditForm(VersionedForm):
    category = forms.ChoiceField(choices=DenialCategory.choices)
    route = forms.ChoiceField(choices=Route.choices)
    root_cause = forms.ChoiceField(choices=[("", "—"), *RootCause.choices], required=False)


class AppealCreateForm(VersionedForm):
    level = forms.ChoiceField(choices=AppealLevel.choices)
    method = forms.ChoiceField(choices=[("", "—"), *AppealMethod.choices], required=False)


class AppealEditForm(BootstrapForm):
    letter = forms.CharField(widget=forms.Textarea(attrs={"rows": 18}), max_length=20000)
    method = forms.ChoiceField(choices=[("", "—"), *AppealMethod.choices], required=False)
    deadline = forms.DateField(widget=DATE)
    documents: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        queryset=None,  # type: ignore[arg-type]  # the claim's visible attachments
        required=False,
    )

    def __init__(self, *args: Any, attachments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = attachments  # type: ignore[attr-defined]
        self.fields["documents"].widget.attrs["class"] = "form-select"


class AppealSendForm(BootstrapForm):
    sent_on = forms.DateField(required=False, widget=DATE)
    method = forms.ChoiceField(choices=[("", "—"), *AppealMethod.choices], required=False)


class AppealDecideForm(BootstrapForm):
    outcome = forms.ChoiceField(choices=[("", "—"), *AppealOutcome.choices], required=False)
    amount_recovered = forms.DecimalField(required=False, min_value=0, **MONEY)
    decided_on = forms.DateField(required=False, widget=DATE)
    service_required = ("outcome",)


class CategoryRuleForm(BootstrapForm):
    carc = forms.CharField(label="CARC", max_length=10)
    payer: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,  # type: ignore[arg-type]  # set per practice in __init__
        required=False,
        empty_label="Every payer",
    )
    category = forms.ChoiceField(choices=DenialCategory.choices)
    route = forms.ChoiceField(choices=[("", "The category's"), *Route.choices], required=False)

    def __init__(self, *args: Any, payers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = payers  # type: ignore[attr-defined]


class ProposalConfirmForm(BootstrapForm):
    required_attachment = forms.ChoiceField(
        choices=[("", "—"), *AttachmentKind.choices], required=False
    )
    required_modifier = forms.CharField(max_length=2, required=False)
    description = forms.CharField(max_length=300, required=False)
