"""The KPI definitions of PRODUCT.md, one function each, with the formula in its docstring.

Every definition takes practice ids (already scoped to what the viewer may see) and a
date range ``start``..``end`` (both days included, in the site's time zone) and returns
``{practice_id: value}`` (see ``reports.values``: a Ratio, Tally, Decimal, int or a
breakdown dict), or None for the whole figure when its data does not exist yet in
billing-ops ("no data yet", never 0). A practice with nothing to count is absent.

*Flow* figures count what happened inside the range (claims submitted, payments posted);
*stock* figures (A/R, aging, overdue actions) are read as of ``end`` from the rows'
current state: a backfill of a past day sees today's balances of the claims that existed
then (the claims keep no balance history).

Every definition runs a fixed number of aggregate queries whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, TruncDate
from django.utils import timezone

from ar.choices import AdjustmentGroup, ClaimPaymentState
from ar.ledger_models import PatientAccount
from ar.models import Adjustment, ClaimPayment, Underpayment
from claims.choices import OPEN_STATUSES, PAYER_AR_STATUSES, ClaimStatus, NextAction
from claims.models import Claim
from denials.choices import AppealOutcome, DenialCategory, Outcome, WriteOffStatus
from denials.models import Appeal, Denial, DenialActivity, WriteOffRequest
from eligibility.selectors import verified_before_service
from reports.values import ZERO, Ratio, Tally, combine
from work.registry import registry

Ids = Iterable[int]
PerPractice = dict[int, Any]

S = ClaimStatus
# A payer has answered the claim (paid, partly paid or denied; closed after that).
ADJUDICATED = frozenset({S.PAID, S.PARTIALLY_PAID, S.DENIED, S.APPEALED, S.CLOSED})
# With the payer, no answer yet.
AWAITING_PAYER = frozenset({S.SUBMITTED, S.ACCEPTED, S.IN_ADJUDICATION, S.APPEALED})
REQUEST_INFO = frozenset({NextAction.REQUEST_INFO_PRACTICE, NextAction.REQUEST_INFO_PATIENT})
# The A/R aging buckets of PRODUCT.md, by days since the date of service (the claim
# queues' ``age`` filter uses the same days, so a bucket links to its claims).
AGE_BUCKETS: list[tuple[str, int, int | None]] = [
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("120+", 121, None),
]
OVER_90 = ("91-120", "120+")
DAYS_IN_AR_WINDOW = 90


def span(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The range as aware datetimes: ``start`` 00:00 up to (not including) the day after ``end``."""
    zone = timezone.get_current_timezone()
    low = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return low, high


def _ids(practice_ids: Ids) -> list[int]:
    return sorted(set(practice_ids))


def _money(value: Any) -> Decimal:
    return Decimal(value if value is not None else ZERO).quantize(Decimal("0.01"))


def _balance() -> ExpressionWrapper:
    """A claim's payer balance: billed minus what the payer paid, adjusted or moved to
    the patient (the claim's totals are the sum of everything posted to it)."""
    return ExpressionWrapper(
        F("total_billed") - F("total_paid") - F("total_adjusted") - F("patient_responsibility"),
        output_field=Claim._meta.get_field("total_billed"),
    )


def _submitted_in(practice_ids: Ids, start: dt.date, end: dt.date) -> Any:
    low, high = span(start, end)
    return Claim.objects.filter(
        practice_id__in=_ids(practice_ids), first_submitted_at__gte=low, first_submitted_at__lt=high
    )


# --- Claims: submission ------------------------------------------------------------------


def clean_claim_rate(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Clean claim rate = claims accepted on first submission with no scrub error
    / claims first submitted in the range whose first answer is known, in %. Accepted on
    first submission: the acknowledgement said so, or (no acknowledgement) the payer
    adjudicated the claim sent once; a claim still waiting for its first answer is not
    counted yet."""
    silent_accept = Q(
        accepted_on_first_submission__isnull=True, status__in=ADJUDICATED, submission_count=1
    )
    accepted = Q(accepted_on_first_submission=True) | silent_accept
    rows = (
        _submitted_in(practice_ids, start, end)
        .filter(Q(accepted_on_first_submission__isnull=False) | Q(status__in=ADJUDICATED))
        .values("practice_id")
        .annotate(
            den=Count("id"),
            num=Count("id", filter=accepted & Q(clean_at_first_submission=True)),
        )
    )
    return {row["practice_id"]: Ratio(Decimal(row["num"]), Decimal(row["den"])) for row in rows}


def submission_lag(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Claim submission lag = sum over claims first submitted in the range of (day of
    first submission - first date of service) / number of those claims, in days."""
    lag = ExpressionWrapper(
        TruncDate("first_submitted_at") - F("service_date_from"), output_field=DurationField()
    )
    rows = (
        _submitted_in(practice_ids, start, end)
        .filter(service_date_from__isnull=False)
        .values("practice_id")
        .annotate(n=Count("id"), total=Sum(lag))
    )
    result: PerPractice = {}
    for row in rows:
        days = Decimal(row["total"].days) if row["total"] is not None else ZERO
        result[row["practice_id"]] = Ratio(days, Decimal(row["n"]), 1)
    return result


def claims_submitted(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Claims submitted = number of claims first submitted to a payer in the range."""
    rows = _submitted_in(practice_ids, start, end).values("practice_id").annotate(n=Count("id"))
    return {row["practice_id"]: row["n"] for row in rows}


# --- Claims: adjudication ------------------------------------------------------------------


def _first_pass(practice_ids: Ids, start: dt.date, end: dt.date) -> Any:
    denied = Denial.objects.filter(claim_id=OuterRef("pk"))
    return (
        _submitted_in(practice_ids, start, end)
        .filter(status__in=ADJUDICATED)
        .annotate(was_denied=Exists(denied))
        .values("practice_id")
        .annotate(
            n=Count("id"),
            denied=Count("id", filter=Q(was_denied=True)),
            billed=Sum("total_billed"),
            denied_billed=Sum("total_billed", filter=Q(was_denied=True)),
        )
    )


def first_pass_denial_rate(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """First-pass denial rate (count) = claims first submitted in the range that the payer
    has answered and denied fully or partly (a denial recorded on the claim)
    / claims first submitted in the range that the payer has answered, in %."""
    return {
        row["practice_id"]: Ratio(Decimal(row["denied"]), Decimal(row["n"]))
        for row in _first_pass(practice_ids, start, end)
    }


def first_pass_denial_amount_rate(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """First-pass denial rate (amount) = billed amount of those denied claims / billed
    amount of the answered claims (same claims as the count), in %."""
    return {
        row["practice_id"]: Ratio(_money(row["denied_billed"]), _money(row["billed"]))
        for row in _first_pass(practice_ids, start, end)
    }


# --- A/R ---------------------------------------------------------------------------------


def _age_bucket(end: dt.date, field: str = "service_date_from") -> Case:
    whens = []
    for name, low, high in AGE_BUCKETS:
        condition = Q(**{f"{field}__lte": end - dt.timedelta(days=low)})
        if high is not None:
            condition &= Q(**{f"{field}__gte": end - dt.timedelta(days=high)})
        whens.append(When(condition, then=Value(name)))
    return Case(*whens, default=Value("0-30"), output_field=CharField())


def _payer_ar(practice_ids: Ids, end: dt.date) -> Any:
    _, high = span(end, end)
    return Claim.objects.filter(
        practice_id__in=_ids(practice_ids),
        status__in=PAYER_AR_STATUSES,
        first_submitted_at__lt=high,
    )


def ar_aging_payer(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Payer A/R aging (stock, as of ``end``) = per bucket of days since the date of
    service (0-30, 31-60, 61-90, 91-120, 120+): sum of (billed - paid - adjusted - patient
    responsibility) over claims submitted by ``end`` that the payer still has
    (submitted, accepted, in adjudication, partially paid, denied, appealed)."""
    rows = (
        _payer_ar(practice_ids, end)
        .annotate(bucket=_age_bucket(end))
        .values("practice_id", "bucket")
        .annotate(amount=Sum(_balance()))
    )
    result: PerPractice = {}
    for row in rows:
        buckets = result.setdefault(row["practice_id"], {})
        buckets[row["bucket"]] = _money(row["amount"])
    return result


def ar_aging_patient(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Patient A/R aging (stock, now) = per bucket of days since the oldest unpaid charge
    (as of ``end``), sum of the balances of patient accounts that owe (balance > 0; the
    balance is the sum of the account's ledger entries)."""
    rows = (
        PatientAccount.objects.filter(
            practice_id__in=_ids(practice_ids), balance__gt=0, oldest_unpaid_on__isnull=False
        )
        .annotate(bucket=_age_bucket(end, "oldest_unpaid_on"))
        .values("practice_id", "bucket")
        .annotate(amount=Sum("balance"))
    )
    result: PerPractice = {}
    for row in rows:
        result.setdefault(row["practice_id"], {})[row["bucket"]] = _money(row["amount"])
    return result


def ar_over_90(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """% of A/R over 90 days = payer A/R in the 91-120 and 120+ buckets / payer A/R,
    as of ``end`` (see ``ar_aging_payer``), in %."""
    result: PerPractice = {}
    for practice_id, buckets in ar_aging_payer(practice_ids, start, end).items():
        over = sum((buckets.get(name, ZERO) for name in OVER_90), ZERO)
        result[practice_id] = Ratio(over, sum(buckets.values(), ZERO))
    return result


def days_in_ar(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Days in A/R = payer A/R balance as of ``end`` / average daily charges over the 90
    days ending ``end`` (billed amount of claims, void excepted, with a date of service in
    those days, divided by 90), in days."""
    ids = _ids(practice_ids)
    balances = {
        row["practice_id"]: _money(row["amount"])
        for row in _payer_ar(ids, end).values("practice_id").annotate(amount=Sum(_balance()))
    }
    first_day = end - dt.timedelta(days=DAYS_IN_AR_WINDOW - 1)
    charges = {
        row["practice_id"]: _money(row["amount"])
        for row in Claim.objects.filter(
            practice_id__in=ids, service_date_from__gte=first_day, service_date_from__lte=end
        )
        .exclude(status=S.VOID)
        .values("practice_id")
        .annotate(amount=Sum("total_billed"))
    }
    return {
        practice_id: Ratio(
            balances.get(practice_id, ZERO), charges.get(practice_id, ZERO) / DAYS_IN_AR_WINDOW, 1
        )
        for practice_id in set(balances) | set(charges)
    }


def unresolved_insurance_requests(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Unresolved insurance requests (stock, now) = open claims waiting on a payer reply
    (submitted, accepted, in adjudication, appealed) or on missing information (next
    action: request info from the practice or the patient)."""
    rows = (
        Claim.objects.filter(practice_id__in=_ids(practice_ids), status__in=OPEN_STATUSES)
        .filter(Q(status__in=AWAITING_PAYER) | Q(next_action__in=REQUEST_INFO))
        .values("practice_id")
        .annotate(n=Count("id"))
    )
    return {row["practice_id"]: row["n"] for row in rows}


# --- Collections ---------------------------------------------------------------------------


def _posted(practice_ids: Ids, start: dt.date, end: dt.date) -> Any:
    low, high = span(start, end)
    return ClaimPayment.objects.filter(
        practice_id__in=_ids(practice_ids),
        state=ClaimPaymentState.POSTED,
        posted_at__gte=low,
        posted_at__lt=high,
    )


def _collections(practice_ids: Ids, start: dt.date, end: dt.date) -> dict[int, dict[str, Any]]:
    payments = _posted(practice_ids, start, end)
    sums: dict[int, dict[str, Any]] = {
        row["practice_id"]: {"paid": _money(row["paid"]), "charge": _money(row["charge"])}
        for row in payments.values("practice_id").annotate(paid=Sum("paid"), charge=Sum("charge"))
    }
    contractual = (
        Adjustment.objects.filter(payment__in=payments, group=AdjustmentGroup.CO)
        .values("payment__practice_id")
        .annotate(amount=Sum("amount"))
    )
    for row in contractual:
        sums[row["payment__practice_id"]]["co"] = _money(row["amount"])
    return sums


def net_collection_rate(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Net collection rate = payer payments posted in the range / (charges of those claim
    payments - their contractual (CO) adjustments), in %."""
    return {
        pid: Ratio(s["paid"], s["charge"] - s.get("co", ZERO))
        for pid, s in _collections(practice_ids, start, end).items()
    }


def gross_collection_rate(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Gross collection ratio = payer payments posted in the range / charges of those
    claim payments, in %."""
    return {
        pid: Ratio(s["paid"], s["charge"])
        for pid, s in _collections(practice_ids, start, end).items()
    }


def payments_posted(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Payments = sum of payer payments posted in the range (reversals count negative)."""
    rows = _posted(practice_ids, start, end).values("practice_id").annotate(paid=Sum("paid"))
    return {row["practice_id"]: _money(row["paid"]) for row in rows}


# --- Denials and appeals -----------------------------------------------------------------


def _denials(practice_ids: Ids, start: dt.date, end: dt.date) -> Any:
    return Denial.objects.filter(
        practice_id__in=_ids(practice_ids), received_on__gte=start, received_on__lte=end
    )


def _denials_by(key: Any) -> Callable[[Ids, dt.date, dt.date], PerPractice]:
    def by(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
        rows = (
            _denials(practice_ids, start, end)
            .annotate(group_key=key)
            .values("practice_id", "group_key")
            .annotate(n=Count("id"), amount=Sum("amount"))
        )
        result: PerPractice = {}
        for row in rows:
            name = str(row["group_key"]).strip() if row["group_key"] else ""
            result.setdefault(row["practice_id"], {})[name or "claim level"] = Tally(
                row["n"], _money(row["amount"])
            )
        return result

    return by


def denials_by_category(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Denials by category = per internal category, number and amount of denials received
    in the range."""
    return _denials_by(F("category"))(practice_ids, start, end)


def denials_by_payer(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Denials by payer = per payer (name), number and amount of denials received in the range."""
    return _denials_by(F("claim__payer__name"))(practice_ids, start, end)


def denials_by_provider(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Denials by provider = per rendering provider (name), number and amount of denials
    received in the range."""
    provider = Concat(
        "claim__provider__first_name", Value(" "), "claim__provider__last_name",
        output_field=CharField(),
    )  # fmt: skip
    return _denials_by(provider)(practice_ids, start, end)


def denials_by_service(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Denials by service = per procedure code of the denied line ("claim level" for a
    whole-claim denial), number and amount of denials received in the range."""
    return _denials_by(F("line__procedure_code"))(practice_ids, start, end)


def appeal_overturn_rate(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Appeal overturn rate = appeals decided in the range overturned fully or partly
    / appeals decided in the range, in %."""
    won = (AppealOutcome.OVERTURNED, AppealOutcome.PARTLY)
    rows = (
        Appeal.objects.filter(
            denial__practice_id__in=_ids(practice_ids),
            decided_on__gte=start,
            decided_on__lte=end,
        )
        .exclude(outcome="")
        .values("denial__practice_id")
        .annotate(n=Count("id"), won=Count("id", filter=Q(outcome__in=won)))
    )
    return {
        row["denial__practice_id"]: Ratio(Decimal(row["won"]), Decimal(row["n"])) for row in rows
    }


def timely_filing_write_offs(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Timely-filing write-offs = sum of approved write-offs decided in the range on
    denials of the timely-filing category."""
    low, high = span(start, end)
    rows = (
        WriteOffRequest.objects.filter(
            denial__practice_id__in=_ids(practice_ids),
            denial__category=DenialCategory.TIMELY_FILING,
            status=WriteOffStatus.APPROVED,
            decided_at__gte=low,
            decided_at__lt=high,
        )
        .values("denial__practice_id")
        .annotate(amount=Sum("amount"))
    )
    return {row["denial__practice_id"]: _money(row["amount"]) for row in rows}


def response_turnaround(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Payer-response-to-next-action turnaround = over denials (a payer's answer)
    recorded in the range that a person has acted on: sum of (first action by a person
    after the denial was recorded - when it was recorded) / number of those denials, in
    days (to the hundredth)."""
    low, high = span(start, end)
    first_action = (
        DenialActivity.objects.filter(
            denial_id=OuterRef("pk"), actor__isnull=False, at__gte=OuterRef("created_at")
        )
        .exclude(kind="created")
        .order_by()
        .values("denial_id")
        .annotate(first=Min("at"))
        .values("first")
    )
    rows = (
        Denial.objects.filter(
            practice_id__in=_ids(practice_ids), created_at__gte=low, created_at__lt=high
        )
        .annotate(acted=Subquery(first_action))
        .filter(acted__isnull=False)
        .annotate(
            wait=ExpressionWrapper(F("acted") - F("created_at"), output_field=DurationField())
        )
        .values("practice_id")
        .annotate(n=Count("id"), total=Sum("wait"))
    )
    result: PerPractice = {}
    for row in rows:
        days = Decimal(row["total"].total_seconds()) / 86400 if row["total"] else ZERO
        result[row["practice_id"]] = Ratio(days.quantize(Decimal("0.0001")), Decimal(row["n"]), 1)
    return result


# --- Underpayments -----------------------------------------------------------------------


def underpayments_found(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Underpayments found = sum of (contracted - received) over lines flagged as paid
    below the fee schedule in the range."""
    low, high = span(start, end)
    rows = (
        Underpayment.objects.filter(
            practice_id__in=_ids(practice_ids), created_at__gte=low, created_at__lt=high
        )
        .values("practice_id")
        .annotate(amount=Sum("amount"))
    )
    return {row["practice_id"]: _money(row["amount"]) for row in rows}


def underpayments_recovered(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice | None:
    """Underpayments recovered = money paid after an underpayment appeal. No data yet:
    an underpayment records that it was appealed, not what the appeal brought in."""
    return None


# --- Eligibility -------------------------------------------------------------------------


def eligibility_verified(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """% of appointments verified before the day of service = appointments (not
    cancelled) on a day in the range whose eligibility checks all had a result before that
    day / those appointments, in % (``eligibility.selectors.verified_before_service``)."""
    result: PerPractice = {}
    for practice_id, _day, total, done in verified_before_service(practice_ids, start, end):
        result[practice_id] = combine(result.get(practice_id), Ratio(Decimal(done), Decimal(total)))
    return result


# --- People ------------------------------------------------------------------------------


def overdue_by_owner(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Overdue next actions per owner (stock) = per owner (user id; "" unassigned), open
    work items of every type whose next action was due before ``end``."""
    ids = _ids(practice_ids)
    result: PerPractice = {}
    for item_type in registry.types():
        rows = (
            item_type.model._default_manager.filter(practice_id__in=ids, next_action_due__lt=end)
            .filter(item_type.open_condition)
            .values("practice_id", "owner_id")
            .annotate(n=Count("id"))
        )
        for row in rows:
            owners = result.setdefault(row["practice_id"], {})
            key = str(row["owner_id"] or "")
            owners[key] = owners.get(key, 0) + row["n"]
    return result


def dollars_resolved_by_staff(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Dollars resolved per staff member = per user, payer payments they posted in the
    range plus the amounts of denials they closed in the range as paid or overturned
    (``amount_recovered``); per day = that / days in the range (the page divides)."""
    low, high = span(start, end)
    result: PerPractice = {}
    payments = (
        _posted(practice_ids, start, end)
        .exclude(posted_by__isnull=True)
        .values("practice_id", "posted_by_id")
        .annotate(amount=Sum("paid"))
    )
    for row in payments:
        staff = result.setdefault(row["practice_id"], {})
        key = str(row["posted_by_id"])
        staff[key] = staff.get(key, ZERO) + _money(row["amount"])
    closed = (
        Denial.objects.filter(
            practice_id__in=_ids(practice_ids),
            closed_at__gte=low,
            closed_at__lt=high,
            owner__isnull=False,
            outcome__in=(
                Outcome.PAID_AFTER_CORRECTION,
                Outcome.OVERTURNED,
                Outcome.PARTLY_OVERTURNED,
            ),
        )
        .values("practice_id", "owner_id")
        .annotate(amount=Coalesce(Sum("amount_recovered"), ZERO))
    )
    for row in closed:
        staff = result.setdefault(row["practice_id"], {})
        key = str(row["owner_id"])
        staff[key] = staff.get(key, ZERO) + _money(row["amount"])
    return result
