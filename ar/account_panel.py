"""The patient page's billing panel (registered with ``practices.patient_panels``):
balance, oldest unpaid charge, what is due at check-in, and the front desk's payment form.
Shown only to people who work patient balances at the patient's practice."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string

from ar.account_forms import PaymentForm
from ar.ledger_models import ZERO, PatientAccount
from billing_ops.access import has_perm
from practices import permissions as perms

if TYPE_CHECKING:
    from django.http import HttpRequest

    from practices.models import Patient


def patient_panel(request: HttpRequest, patient: Patient) -> str:
    if not has_perm(request.user, perms.WORK_PATIENT_BILLING, patient.practice_id):
        return ""
    account = PatientAccount.objects.filter(patient=patient).select_related("owner").first()
    balance = account.balance if account is not None else ZERO
    context = {
        "patient": patient,
        "account": account,
        "balance": balance,
        "due_at_check_in": max(balance, ZERO),
        "last_statement": account.statements.first() if account is not None else None,
        "payment_form": PaymentForm(),
        "next": request.get_full_path(),
    }
    return render_to_string("ar/account_panel.html", context, request=request)


def open_balances(user: Any, patient_ids: Iterable[int]) -> dict[int, Decimal]:
    """Non-zero balances of these patients at practices where ``user`` works patient
    balances (one query; registered with ``practices.patient_panels``)."""
    return dict(
        PatientAccount.objects.visible_to(user, perms.WORK_PATIENT_BILLING)
        .filter(patient_id__in=list(patient_ids))
        .exclude(balance=ZERO)
        .values_list("patient_id", "balance")
    )
