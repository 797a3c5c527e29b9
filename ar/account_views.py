"""Patient account pages: balances with aging (and their CSV), one account with its
ledger, follow-ups and requests, the front desk's payment, reversals, and the manager's
approval of adjustment requests.

Scoped by WORK_PATIENT_BILLING (approvals by APPROVE_ADJUSTMENTS): another practice's
account, or one outside the user's service areas, answers 404 like a missing one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from ar import account_selectors as selectors
from ar import adjustments, disputes, followups, ledger
from ar import statements as statements_module
from ar.account_choices import AGING_BUCKETS
from ar.account_forms import (
    AdjustmentForm,
    DisputeForm,
    FollowUpForm,
    PaymentForm,
    RefuseForm,
    ResolveForm,
    ReverseForm,
)
from ar.ledger_models import AdjustmentRequest, LedgerEntry, PatientAccount
from ar.statement_models import Dispute, Statement
from billing_ops.access import acting_user, request_access
from billing_ops.exports import csv_cell
from billing_ops.pages import get_scoped_or_404, scoped_page
from practices import permissions as perms
from practices import phi_log
from practices.choices import AccessAction
from practices.models import Patient

PERM = perms.WORK_PATIENT_BILLING
APPROVE = perms.APPROVE_ADJUSTMENTS


def _account(request: HttpRequest, pk: int) -> PatientAccount:
    queryset = PatientAccount.objects.visible_to(request.user, PERM).select_related(
        "patient", "practice", "owner"
    )
    return get_scoped_or_404(queryset, pk=pk)


def _run(request: HttpRequest, call: Any) -> bool:
    """Run a service: refused access is a 404, a refused change a message; True if done."""
    try:
        call()
    except PermissionDenied:
        raise Http404("Not found.") from None
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return False
    return True


def _form_errors(request: HttpRequest, form: Any) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ") if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label.capitalize()}: {error}" if label else error)


@require_GET
@scoped_page(PERM)
def account_list(request: HttpRequest) -> HttpResponse:
    """The practice's balances and credits with their aging, filterable by bucket."""
    practice = request_access(request).practice
    today = timezone.localdate()
    accounts = selectors.balances(request.user, practice.pk)
    summary = selectors.aging_summary(accounts, today)
    bucket = request.GET.get("bucket", "")
    if bucket in {label for label, _f, _l in AGING_BUCKETS}:
        accounts = accounts.filter(balance__gt=0).filter(selectors.bucket_condition(bucket, today))
    else:
        bucket = ""
    rows = list(accounts[:200])
    phi_log.record_read(request, rows, what="patient balances")
    context = {
        "accounts": rows,
        "summary": summary,
        "total": selectors.total_owed(summary),
        "bucket": bucket,
        "today": today,
        "practice": practice,
    }
    return render(request, "ar/account_list.html", context)


@require_GET
@scoped_page(PERM)
def account_export(request: HttpRequest) -> HttpResponse:
    """Balances and aging as CSV (this practice, this user's scope); logged as an export."""
    practice = request_access(request).practice
    today = timezone.localdate()
    accounts = list(selectors.balances(request.user, practice.pk))
    phi_log.record_read(
        request, accounts, what="patient balances export", action=AccessAction.EXPORT
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "account",
            "patient",
            "balance",
            "oldest unpaid",
            "days",
            "bucket",
            "owner",
            "next action",
            "due",
        ]
    )
    for account in accounts:
        patient = account.patient
        writer.writerow(
            [
                csv_cell(patient.account_number),
                csv_cell(f"{patient.last_name}, {patient.first_name}"),
                csv_cell(account.balance),
                account.oldest_unpaid_on.isoformat() if account.oldest_unpaid_on else "",
                account.age_days(today) if account.oldest_unpaid_on else "",
                account.aging_bucket(today),
                csv_cell(account.owner.username if account.owner else ""),
                account.next_action_label() if account.is_open else "",
                account.next_action_due.isoformat() if account.next_action_due else "",
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"patient-balances-{practice.slug}-{today.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@scoped_page(PERM, current_practice=False)
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One account: balance, aging, ledger, follow-ups, requests, and the forms to act."""
    account = _account(request, pk)
    phi_log.record_read(request, [account], what="patient account page")
    context = {
        "account": account,
        "patient": account.patient,
        "entries": list(selectors.ledger_of(account)),
        "follow_ups": account.follow_ups.select_related("actor")[:50],
        "requests": account.adjustment_requests.select_related("requested_by", "decided_by")[:50],
        "activities": account.activities.select_related("actor")[:50],
        "payment_form": PaymentForm(),
        "follow_up_form": FollowUpForm(),
        "adjustment_form": AdjustmentForm(),
        "reverse_form": ReverseForm(),
        "disputes": account.disputes.select_related("opened_by", "resolved_by")[:20],
        "dispute_form": DisputeForm(),
        "resolve_form": ResolveForm(),
        "threshold": adjustments.threshold(account.practice_id, "write_off"),
        "refund_threshold": adjustments.threshold(account.practice_id, "refund"),
        "today": timezone.localdate(),
    }
    return render(request, "ar/account_detail.html", context)


def _back(request: HttpRequest, fallback: str, *args: Any) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect(fallback, *args)


@require_POST
@scoped_page(PERM, current_practice=False)
def patient_payment(request: HttpRequest, patient_pk: int) -> HttpResponse:
    """The front desk takes a payment (patient page or account page): one ledger entry."""
    queryset = Patient.objects.visible_to(request.user, PERM)
    patient = get_scoped_or_404(queryset, pk=patient_pk)
    form = PaymentForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, "patient-detail", patient.pk)
    actor = acting_user(request)

    def take() -> None:
        account = ledger.account_for(actor=actor, patient=patient)
        ledger.ledger_post(actor=actor, account=account, kind="payment", **form.cleaned_data)

    if _run(request, take):
        messages.success(request, f"Payment of ${form.cleaned_data['amount']:,.2f} posted.")
    return _back(request, "patient-detail", patient.pk)


@require_POST
@scoped_page(PERM, current_practice=False)
def account_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    elif _run(
        request,
        lambda: followups.account_follow_up(
            actor=acting_user(request), account=account, **form.cleaned_data
        ),
    ):
        messages.success(request, "Follow-up recorded.")
    return redirect("patient-account-detail", account.pk)


@require_POST
@scoped_page(PERM, current_practice=False)
def account_adjustment(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    form = AdjustmentForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("patient-account-detail", account.pk)
    done: list[AdjustmentRequest] = []
    if _run(
        request,
        lambda: done.append(
            adjustments.adjustment_request(
                actor=acting_user(request), account=account, **form.cleaned_data
            )
        ),
    ):
        made = done[0]
        if made.is_open:
            messages.success(request, f"{made} is waiting for a manager's approval.")
        else:
            messages.success(request, f"{made} posted.")
    return redirect("patient-account-detail", account.pk)


@require_POST
@scoped_page(PERM, current_practice=False)
def entry_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    queryset = LedgerEntry.objects.visible_to(request.user, PERM)
    entry = get_scoped_or_404(queryset, pk=pk)
    form = ReverseForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    elif _run(
        request,
        lambda: ledger.ledger_reverse(
            actor=acting_user(request), entry=entry, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(request, f"{entry.get_kind_display()} #{entry.pk} reversed.")
    return redirect("patient-account-detail", entry.account_id)


def _request(request: HttpRequest, pk: int) -> AdjustmentRequest:
    queryset = AdjustmentRequest.objects.visible_to(request.user, APPROVE).select_related(
        "account__patient",
        "requested_by",
        "decided_by",
        "owner",
        "entry",
        "write_off__denial__claim",
    )
    return get_scoped_or_404(queryset, pk=pk)


@require_GET
@scoped_page(APPROVE, current_practice=False)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager's view of one request: the account's balance and ledger, approve/refuse."""
    item = _request(request, pk)
    account = item.account
    # An insurance write-off names its denial (and claim) instead of an account.
    denial = item.write_off.denial if item.write_off is not None else None
    seen = [account] if account is not None else [denial.claim] if denial else []
    phi_log.record_read(request, seen, what="adjustment request page")
    context = {
        "item": item,
        "account": account,
        "denial": denial,
        "entries": list(selectors.ledger_of(account))[-20:] if account is not None else [],
        "refuse_form": RefuseForm(),
    }
    return render(request, "ar/account_request.html", context)


@require_POST
@scoped_page(APPROVE, current_practice=False)
def request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    item = _request(request, pk)
    if _run(
        request, lambda: adjustments.adjustment_approve(actor=acting_user(request), request=item)
    ):
        messages.success(request, f"{item} approved and posted.")
    return redirect("adjustment-request-detail", item.pk)


@require_POST
@scoped_page(APPROVE, current_practice=False)
def request_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    item = _request(request, pk)
    form = RefuseForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    elif _run(
        request,
        lambda: adjustments.adjustment_refuse(
            actor=acting_user(request), request=item, note=form.cleaned_data["note"]
        ),
    ):
        messages.success(request, f"{item} refused.")
    return redirect("adjustment-request-detail", item.pk)


# --- statements ------------------------------------------------------------------------


@require_GET
@scoped_page(PERM)
def statement_list(request: HttpRequest) -> HttpResponse:
    """The practice's statements by cycle, with each cycle's mailing batch."""
    practice = request_access(request).practice
    statements = list(
        Statement.objects.visible_to(request.user, PERM)
        .of_practice(practice.pk)
        .select_related("account__patient")[:200]
    )
    phi_log.record_read(request, [s.account for s in statements], what="statements")
    cycles = sorted({s.cycle_date for s in statements}, reverse=True)
    context = {
        "statements": statements,
        "cycles": cycles,
        "cycle": statements_module.cycle_of(practice.pk),
        "practice": practice,
    }
    return render(request, "ar/statement_list.html", context)


@require_GET
@scoped_page(PERM, current_practice=False)
def statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """One statement as the PDF mailed to the patient (rendered from its record)."""
    queryset = Statement.objects.visible_to(request.user, PERM).select_related(
        "practice", "account__patient"
    )
    statement = get_scoped_or_404(queryset, pk=pk)
    phi_log.record_read(request, [statement.account], what="statement PDF")
    response = HttpResponse(statements_module.render_pdf(statement), content_type="application/pdf")
    number = statement.recipient.get("account_number", statement.pk)
    name = f"statement-{number}-{statement.cycle_date}"
    response["Content-Disposition"] = f'inline; filename="{slugify(name)}.pdf"'
    return response


@require_GET
@scoped_page(PERM)
def statement_batch(request: HttpRequest) -> HttpResponse:
    """A cycle's statements as one CSV for the mailing house; logged as a PHI export."""
    practice = request_access(request).practice
    try:
        cycle_date = dt.date.fromisoformat(request.GET.get("cycle", ""))
    except ValueError:
        raise Http404("Choose a cycle.") from None
    statements = list(
        Statement.objects.visible_to(request.user, PERM)
        .of_practice(practice.pk)
        .filter(cycle_date=cycle_date)
        .select_related("account")
        .order_by("pk")
    )
    phi_log.record_read(
        request, [s.account for s in statements], what="statement batch", action=AccessAction.EXPORT
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "statement",
            "account",
            "name",
            "address 1",
            "address 2",
            "stage",
            "balance",
            "due",
            "message",
        ]
    )
    for s in statements:
        address = [*s.recipient.get("address", []), "", ""][:2]
        writer.writerow(
            [
                s.pk,
                csv_cell(s.recipient.get("account_number", "")),
                csv_cell(s.recipient.get("name", "")),
                csv_cell(address[0]),
                csv_cell(address[1]),
                s.get_stage_display(),
                csv_cell(s.balance),
                s.due_date.isoformat(),
                csv_cell(s.wording),
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"statements-{practice.slug}-{cycle_date.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- disputes --------------------------------------------------------------------------


@require_POST
@scoped_page(PERM, current_practice=False)
def account_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that the patient disputes the balance: statements hold."""
    account = _account(request, pk)
    form = DisputeForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    elif _run(
        request,
        lambda: disputes.dispute_open(
            actor=acting_user(request), account=account, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(request, "Dispute recorded: statements are held until it is resolved.")
    return redirect("patient-account-detail", account.pk)


@require_POST
@scoped_page(PERM, current_practice=False)
def dispute_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    queryset = Dispute.objects.visible_to(request.user, PERM)
    dispute = get_scoped_or_404(queryset, pk=pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    elif _run(
        request,
        lambda: disputes.dispute_resolve(
            actor=acting_user(request),
            dispute=dispute,
            resolution=form.cleaned_data["resolution"],
        ),
    ):
        messages.success(request, "Dispute resolved: statements resume.")
    return redirect("patient-account-detail", dispute.account_id)
