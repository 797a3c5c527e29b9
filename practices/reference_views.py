"""Managers' pages for the current practice's payers and providers: list, add, edit.

Every write goes through ``practices.reference_services`` (permission checked again,
actor recorded); a refused value is shown at its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from billing_ops.access import acting_user, request_access
from billing_ops.pages import get_scoped_or_404, scoped_page
from practices import reference_services
from practices.models import Payer, Provider

MANAGE = reference_services.MANAGE_REFERENCE


class _Styled(forms.ModelForm):
    """Bootstrap's classes on every widget; an invalid field is marked for screen readers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            else:
                css = "form-select" if isinstance(widget, forms.Select) else "form-control"
                widget.attrs["class"] = css

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_invalid()

    def mark_invalid(self) -> None:
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"
                widget.attrs["aria-invalid"] = "true"


class PayerForm(_Styled):
    class Meta:
        model = Payer
        fields = [
            "name",
            "payer_id",
            "claim_format",
            "timely_filing_days",
            "appeal_window_days",
            "phone",
            "portal_url",
        ]
        help_texts = {
            "payer_id": "The electronic payer id claim files name (NM1*PR09).",
            "timely_filing_days": "Days after the date of service the payer accepts a claim.",
            "appeal_window_days": "Days after a denial the payer accepts an appeal.",
        }


class ProviderForm(_Styled):
    class Meta:
        model = Provider
        fields = ["first_name", "last_name", "npi", "taxonomy_code", "is_active"]
        help_texts = {"npi": "The provider's 10-digit NPI."}


@dataclass(frozen=True)
class Kind:
    """What differs between the payer pages and the provider pages."""

    model: type[Model]
    form: type[_Styled]
    singular: str
    plural: str
    list_route: str
    create_route: str
    edit_route: str
    columns: tuple[tuple[str, str], ...]  # (attribute, heading)
    save: Any
    keyword: str  # the service's keyword for the object edited

    def rows(self, practice: Any) -> Any:
        return self.model._default_manager.filter(practice=practice)  # type: ignore[attr-defined]


PAYERS = Kind(
    model=Payer,
    form=PayerForm,
    singular="payer",
    plural="Payers",
    list_route="payer-list",
    create_route="payer-create",
    edit_route="payer-edit",
    columns=(
        ("name", "Name"),
        ("payer_id", "Payer id"),
        ("get_claim_format_display", "Claim format"),
        ("timely_filing_days", "Timely filing (days)"),
        ("appeal_window_days", "Appeal window (days)"),
        ("phone", "Phone"),
    ),
    save=reference_services.payer_save,
    keyword="payer",
)
PROVIDERS = Kind(
    model=Provider,
    form=ProviderForm,
    singular="provider",
    plural="Providers",
    list_route="provider-list",
    create_route="provider-create",
    edit_route="provider-edit",
    columns=(
        ("last_name", "Last name"),
        ("first_name", "First name"),
        ("npi", "NPI"),
        ("taxonomy_code", "Taxonomy"),
        ("is_active", "Active"),
    ),
    save=reference_services.provider_save,
    keyword="provider",
)


def _value(obj: Any, name: str) -> Any:
    value = getattr(obj, name)
    return value() if callable(value) else value


def _list(request: HttpRequest, kind: Kind) -> HttpResponse:
    practice = request_access(request).practice_or_404(MANAGE)
    rows = [(obj, [_value(obj, name) for name, _ in kind.columns]) for obj in kind.rows(practice)]
    context = {"kind": kind, "rows": rows, "practice": practice}
    return render(request, "practices/reference_list.html", context)


def _form(request: HttpRequest, kind: Kind, pk: int | None) -> HttpResponse:
    practice = request_access(request).practice_or_404(MANAGE)
    obj = None
    if pk is not None:
        # The current practice's rows only: another practice's id is a 404 like a missing one.
        visible = kind.model._default_manager.visible_to(request.user, MANAGE)  # type: ignore[attr-defined]
        obj = get_scoped_or_404(visible.of_practice(practice.pk), pk=pk)
    instance = obj or kind.model(practice=practice)
    posted = request.method == "POST"
    form = kind.form(request.POST if posted else None, instance=instance)
    if posted and form.is_valid():
        try:
            saved = kind.save(
                actor=acting_user(request),
                practice=practice,
                **{kind.keyword: obj},
                **form.cleaned_data,
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
            form.mark_invalid()
        except PermissionDenied:
            form.add_error(None, f"You may not change {kind.plural.lower()} at {practice}.")
        else:
            verb = "Saved" if obj is not None else "Added"
            messages.success(request, f"{verb} {kind.singular} {saved}.")
            return redirect(kind.list_route)
    context = {"kind": kind, "form": form, "object": obj, "practice": practice}
    status = 400 if form.errors else 200
    return render(request, "practices/reference_form.html", context, status=status)


@scoped_page(MANAGE)
def payer_list(request: HttpRequest) -> HttpResponse:
    """The current practice's payers, for its managers."""
    return _list(request, PAYERS)


@scoped_page(MANAGE)
def payer_create(request: HttpRequest) -> HttpResponse:
    """Add a payer (e.g. the one a claims file names) to the current practice."""
    return _form(request, PAYERS, None)


@scoped_page(MANAGE)
def payer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a payer of the current practice (name, id, filing and appeal windows)."""
    return _form(request, PAYERS, pk)


@scoped_page(MANAGE)
def provider_list(request: HttpRequest) -> HttpResponse:
    """The current practice's providers, for its managers."""
    return _list(request, PROVIDERS)


@scoped_page(MANAGE)
def provider_create(request: HttpRequest) -> HttpResponse:
    """Add a provider (name and NPI) to the current practice."""
    return _form(request, PROVIDERS, None)


@scoped_page(MANAGE)
def provider_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a provider of the current practice, or mark them inactive."""
    return _form(request, PROVIDERS, pk)
