"""The upload form of the import page."""

from __future__ import annotations

from typing import Any

from django import forms

from claims.choices import ImportKind
from claims.imports.services import MAX_UPLOAD_BYTES


def parse_mapping_lines(text: str) -> dict[str, str]:
    """ "our_field = Their Header" per line -> {our_field: their header}."""
    mapping = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        field, sep, header = line.partition("=")
        if not sep or not field.strip() or not header.strip():
            raise forms.ValidationError(
                f"Line {number}: write our_field = Your column header, e.g. "
                "patient_account = Acct #."
            )
        mapping[field.strip().lower()] = header.strip()
    return mapping


class ImportForm(forms.Form):
    """A PMS export to import (or preview) into the current practice."""

    file = forms.FileField(
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".csv,.txt,.837,.x12,.edi"}
        ),
        help_text="CSV (UTF-8) of patients, appointments or claims, or an X12 837P/837D "
        "batch. At most 10 MB.",
    )
    kind = forms.ChoiceField(
        choices=[("", "Detect from the file"), *ImportKind.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    dry_run = forms.BooleanField(
        label="Preview only",
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        help_text="Check every row and show what would change; nothing is written.",
    )
    column_mapping = forms.CharField(
        label="Column mapping (optional)",
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "class": "form-control mono",
                "placeholder": "patient_account = Acct #",
            }
        ),
        help_text="Only for columns your PMS names differently: one per line, "
        "our_field = Your column header.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            size = upload.size / (1024 * 1024)
            raise forms.ValidationError(
                f"The file is {size:.1f} MB; the limit is 10 MB. Split it into parts."
            )
        return upload

    def clean_column_mapping(self) -> dict[str, str]:
        return parse_mapping_lines(self.cleaned_data["column_mapping"])
