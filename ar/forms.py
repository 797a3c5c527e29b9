"""Forms of the remittance pages: upload, paper EOB, matching an unmatched payment by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from ar.choices import AdjustmentGroup
from claims.imports.services import MAX_UPLOAD_BYTES

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


def _control(field: forms.Field, css: str = "form-control") -> forms.Field:
    field.widget.attrs.setdefault("class", css)
    return field


class UploadForm(forms.Form):
    """An 835 file to post (or preview) into the current practice."""

    file = forms.FileField(
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".835,.txt,.x12,.edi,.era"}
        ),
        help_text="An X12 835 (005010X221A1) remittance file. At most 10 MB.",
    )
    dry_run = forms.BooleanField(
        label="Preview only",
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        help_text="Check the file and show what posting would do; nothing is posted.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is over 10 MB. Split it into parts.")
        return upload


class PaperEobForm(forms.Form):
    """A paper EOB for one claim: the same amounts an 835 carries."""

    check_number = _control(forms.CharField(max_length=30, label="Check / EFT number"))
    paid_on = _control(forms.DateField(widget=forms.DateInput(attrs={"type": "date"})))
    payer_claim_number = _control(forms.CharField(max_length=50, required=False))
    paid = _control(forms.DecimalField(**MONEY, min_value=Decimal("0")))
    patient_responsibility = _control(forms.DecimalField(**MONEY, min_value=Decimal("0")))
    denied = forms.BooleanField(
        required=False,
        label="The payer denied the claim",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    ROWS = 4

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, self.ROWS + 1):
            self.fields[f"group_{n}"] = _control(
                forms.ChoiceField(
                    choices=[("", "—"), *AdjustmentGroup.choices], required=False, label="Group"
                ),
                "form-select",
            )
            self.fields[f"carc_{n}"] = _control(
                forms.CharField(max_length=5, required=False, label="CARC")
            )
            self.fields[f"amount_{n}"] = _control(
                forms.DecimalField(**MONEY, required=False, label="Amount")
            )

    def adjustment_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"group_{n}"], self[f"carc_{n}"], self[f"amount_{n}"])
            for n in range(1, self.ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        rows = []
        for n in range(1, self.ROWS + 1):
            group, carc, amount = (data.get(f"{k}_{n}") for k in ("group", "carc", "amount"))
            if not group and not carc and amount is None:
                continue
            if not group or not carc or amount is None:
                self.add_error(f"amount_{n}", "Give the group, the CARC and the amount.")
                continue
            rows.append((group, str(carc).strip().upper(), amount))
        data["adjustments"] = rows
        return data


class MatchSearchForm(forms.Form):
    """Find the claim an unmatched payment pays (sent by POST: no patient name in a URL)."""

    patient = _control(forms.CharField(max_length=100, required=False, label="Patient last name"))
    service_date = _control(
        forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    )
    amount = _control(forms.DecimalField(**MONEY, required=False, label="Billed amount"))
    number = _control(forms.CharField(max_length=40, required=False, label="Claim number"))


class MatchForm(forms.Form):
    claim = forms.IntegerField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)


class NotOursForm(forms.Form):
    note = _control(forms.CharField(max_length=300, label="Why it is not ours"))
    version = forms.IntegerField(widget=forms.HiddenInput)


class UnderpaymentForm(forms.Form):
    outcome = _control(
        forms.ChoiceField(
            choices=[("appealed", "Appealed to the payer"), ("accepted", "Accept as paid")]
        ),
        "form-select",
    )
    note = _control(forms.CharField(max_length=300))
    version = forms.IntegerField(widget=forms.HiddenInput)
