"""Remittance pages: upload (or preview) an 835 and see what posting did; work an unmatched
payment (search, match by hand, not ours); post a paper EOB to a claim.

Everything is scoped by ``post_payments`` (the insurance billing area): other practices'
batches, payments and claims answer 404 like missing ones.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.views.generic import DetailView

from ar import forms, services
from ar.choices import RemittanceStatus
from ar.models import Adjustment, ClaimPayment, Remittance, Underpayment, UnmatchedRemittance
from billing_ops.access import acting_user, request_access
from billing_ops.pages import ScopedPageMixin, get_scoped_or_404, scoped_page
from claims.imports.results import CONFLICT, ERROR, NOTE, SKIPPED, describe
from claims.models import Claim
from practices import permissions as perms
from practices.phi_log import record_read
from work import services as work_services

PERM = perms.POST_PAYMENTS


def _form_errors(form: Any, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


@scoped_page(PERM)
def remittance_list(request: HttpRequest) -> HttpResponse:
    """Upload an 835 (or preview it) and see the practice's recent remittances."""
    practice = request_access(request).practice
    posted = request.method == "POST"
    form = forms.UploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = services.remittance_upload(
                actor=acting_user(request),
                practice=practice,
                content=upload.read(),
                filename=upload.name,
                dry_run=form.cleaned_data["dry_run"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            what = "Preview" if batch.dry_run else "Posting"
            messages.success(request, f"{what} of {batch.filename} queued.")
            return redirect("remittance-detail", batch.pk)
    batches = (
        Remittance.objects.visible_to(request.user, PERM)
        .filter(practice=practice)
        .select_related("created_by")[:25]
    )
    context = {"form": form, "batches": batches, "practice": practice}
    return render(request, "ar/list.html", context, status=400 if form.errors else 200)


class RemittanceDetailView(ScopedPageMixin, DetailView):  # type: ignore[type-arg]
    """One batch: its status and report while and after it runs, and its claim payments."""

    model = Remittance
    scope_permission = PERM
    current_practice_only = False
    template_name = "ar/detail.html"
    context_object_name = "batch"

    def get_queryset(self) -> QuerySet[Remittance]:
        return super().get_queryset().select_related("practice", "created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        batch = self.object
        entries = [dict(entry, text=describe(entry)) for entry in batch.entries]
        payments = list(
            batch.payments.select_related("claim", "unmatched").prefetch_related(
                "lines",
                Prefetch("adjustments", queryset=Adjustment.objects.order_by("segment", "pk")),
                "remarks",
            )[:500]
        )
        record_read(self.request, [p.claim for p in payments if p.claim], what="remittance page")
        return super().get_context_data(
            running=batch.status == RemittanceStatus.PENDING,
            problems=[e for e in entries if e.get("level") == ERROR],
            conflicts=[e for e in entries if e.get("level") == CONFLICT],
            notes=[e for e in entries if e.get("level") in (NOTE, SKIPPED)],
            payments=payments,
            provider_adjustments=batch.provider_adjustments.all(),
            can_run=batch.dry_run and batch.status == RemittanceStatus.PREVIEWED,
            **kwargs,
        )


@scoped_page(PERM, current_practice=False)
@require_POST
def remittance_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Post for real a file whose preview passed."""
    queryset = Remittance.objects.visible_to(request.user, PERM).select_related("practice")
    preview = get_scoped_or_404(queryset, pk=pk)
    if not (preview.dry_run and preview.status == RemittanceStatus.PREVIEWED):
        messages.error(request, "Only a preview that passed can be posted from here.")
        return redirect("remittance-detail", preview.pk)
    with preview.file.open("rb") as handle:
        content = handle.read()
    try:
        batch = services.remittance_upload(
            actor=acting_user(request),
            practice=preview.practice,
            content=content,
            filename=preview.filename,
        )
    except (PermissionDenied, ValidationError):
        raise Http404("Not found.") from None
    messages.success(request, f"Posting of {batch.filename} queued.")
    return redirect("remittance-detail", batch.pk)


# --- Unmatched payments -----------------------------------------------------------------


def _item(request: HttpRequest, pk: int) -> UnmatchedRemittance:
    queryset = UnmatchedRemittance.objects.visible_to(request.user, PERM).select_related(
        "payment__remittance", "practice", "owner", "resolved_by"
    )
    item: UnmatchedRemittance = get_scoped_or_404(queryset, pk=pk)
    return item


def _render_item(
    request: HttpRequest,
    item: UnmatchedRemittance,
    status: int = 200,
    search: forms.MatchSearchForm | None = None,
    candidates: list[Claim] | None = None,
    not_ours: forms.NotOursForm | None = None,
) -> HttpResponse:
    payment = item.payment
    search = search or forms.MatchSearchForm(
        initial={
            "patient": payment.patient_last_name.title(),
            "service_date": payment.service_date_from,
            "amount": payment.charge,
        }
    )
    context = {
        "item": item,
        "payment": payment,
        "lines": payment.lines.all(),
        "adjustments": payment.adjustments.all(),
        "activities": item.activities.select_related("actor")[:50],
        "search": search,
        "candidates": candidates,
        "not_ours": not_ours or forms.NotOursForm(initial={"version": item.version}),
    }
    return render(request, "ar/unmatched.html", context, status=status)


@scoped_page(PERM, current_practice=False)
def unmatched_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The payment, and (POST) a search by patient, date, amount or number for its claim."""
    item = _item(request, pk)
    if request.method != "POST":
        return _render_item(request, item)
    search = forms.MatchSearchForm(request.POST)
    if not search.is_valid():
        return _render_item(request, item, 400, search=search)
    data = search.cleaned_data
    claims = (
        Claim.objects.visible_to(request.user, PERM)
        .filter(practice_id=item.practice_id)
        .select_related("patient", "payer")
    )
    if data["patient"]:
        claims = claims.filter(patient__last_name__istartswith=data["patient"].strip())
    if data["service_date"]:
        claims = claims.filter(service_date_from=data["service_date"])
    if data["amount"] is not None:
        claims = claims.filter(total_billed=data["amount"])
    if data["number"]:
        claims = claims.filter(pms_claim_number__iexact=data["number"].strip())
    found = list(claims.order_by("-service_date_from", "pk")[:25])
    record_read(request, found, what="unmatched payment search")
    return _render_item(request, item, search=search, candidates=found)


@scoped_page(PERM, current_practice=False)
@require_POST
def unmatched_match(request: HttpRequest, pk: int) -> HttpResponse:
    """Post the payment to the claim the person chose."""
    item = _item(request, pk)
    form = forms.MatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a claim from the search results.")
        return _render_item(request, item, 400)
    claims = Claim.objects.visible_to(request.user, PERM).filter(practice_id=item.practice_id)
    claim = get_scoped_or_404(claims, pk=form.cleaned_data["claim"])
    try:
        services.unmatched_match(
            actor=acting_user(request),
            item=item,
            claim=claim,
            expected_version=form.cleaned_data["version"],
        )
    except work_services.ItemConflict as exc:
        messages.error(request, str(exc))
        item.refresh_from_db()
        return _render_item(request, item, 409)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
        return _render_item(request, item, 400)
    except PermissionDenied:
        raise Http404("Not found.") from None
    messages.success(request, f"Posted to claim {claim.pms_claim_number}.")
    return redirect("unmatched-detail", pk=item.pk)


@scoped_page(PERM, current_practice=False)
@require_POST
def unmatched_not_ours(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the payment not ours: nothing is posted, the item leaves the queue."""
    item = _item(request, pk)
    form = forms.NotOursForm(request.POST)
    if not form.is_valid():
        return _render_item(request, item, 400, not_ours=form)
    try:
        services.unmatched_not_ours(
            actor=acting_user(request),
            item=item,
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"],
        )
    except work_services.ItemConflict as exc:
        messages.error(request, str(exc))
        item.refresh_from_db()
        return _render_item(request, item, 409, not_ours=form)
    except ValidationError as exc:
        _form_errors(form, exc)
        return _render_item(request, item, 400, not_ours=form)
    except PermissionDenied:
        raise Http404("Not found.") from None
    messages.success(request, "Marked not ours.")
    return redirect("unmatched-detail", pk=item.pk)


# --- Paper EOB --------------------------------------------------------------------------


@scoped_page(PERM, current_practice=False)
def claim_eob(request: HttpRequest, pk: int) -> HttpResponse:
    """Post a paper EOB to a claim: the same posting as an 835."""
    queryset = Claim.objects.visible_to(request.user, PERM).select_related("payer", "practice")
    claim = get_scoped_or_404(queryset, pk=pk)
    posted = request.method == "POST"
    form = forms.PaperEobForm(request.POST if posted else None)
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            services.paper_eob_post(
                actor=acting_user(request),
                claim=claim,
                check_number=data["check_number"],
                paid_on=data["paid_on"],
                paid=data["paid"],
                patient_responsibility=data["patient_responsibility"],
                adjustments=data["adjustments"],
                payer_claim_number=data["payer_claim_number"],
                denied=data["denied"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        except PermissionDenied:
            raise Http404("Not found.") from None
        else:
            messages.success(request, "EOB posted.")
            return redirect("claim-detail", pk=claim.pk)
    payments = ClaimPayment.objects.filter(claim=claim).select_related("remittance")
    context = {"claim": claim, "form": form, "payments": payments}
    return render(request, "ar/eob.html", context, status=400 if form.errors else 200)


# --- Underpayments ----------------------------------------------------------------------


@scoped_page(PERM, current_practice=False)
def underpayment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The underpaid line against its contract; (POST) appealed or accepted, with a note."""
    queryset = Underpayment.objects.visible_to(request.user, PERM).select_related(
        "line__payment__remittance", "claim__payer", "practice", "owner"
    )
    item: Underpayment = get_scoped_or_404(queryset, pk=pk)
    form = forms.UnderpaymentForm(
        request.POST if request.method == "POST" else None, initial={"version": item.version}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.underpayment_resolve(
                    actor=acting_user(request),
                    item=item,
                    outcome=form.cleaned_data["outcome"],
                    note=form.cleaned_data["note"],
                    expected_version=form.cleaned_data["version"],
                )
            except work_services.ItemConflict as exc:
                messages.error(request, str(exc))
                item.refresh_from_db()
                status = 409
            except ValidationError as exc:
                _form_errors(form, exc)
            except PermissionDenied:
                raise Http404("Not found.") from None
            else:
                messages.success(request, "Underpayment resolved.")
                return redirect("underpayment-detail", pk=item.pk)
    context = {"item": item, "line": item.line, "form": form}
    return render(request, "ar/underpayment.html", context, status=status)
