"""Demo remittances for ``manage.py seed_demo``: the payer's side of the demo.

For each demo practice, one payer's 835 pays, partly pays and denies a handful of its
submitted / in-adjudication claims, a second 835 reverses one payment, a paper EOB pays
one claim by check, one payment is left unmatched (a mistyped claim number), and appeals
are worked to every stage. Everything goes through the services a person or the importer
uses (``ar.services``: upload + run, paper EOB; ``denials.appeals``), never raw writes, so
claims, denials, timelines and work items are exactly what real postings make.

Deterministic: the claims are chosen by number among the seed's claims. Idempotent: once a
practice's first demo 835 is posted (trace ``DEMO-<prefix>-1``) nothing is done again.
The denials cover the ten categories (``SCENARIOS``: one CARC per category from
``denials.codes``); ``status`` is what the claim shows afterwards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from ar import posting, services
from ar.choices import RemittanceStatus
from ar.models import (
    Adjustment,
    ClaimPayment,
    ProviderAdjustment,
    Remark,
    Remittance,
    ServiceLinePayment,
    Underpayment,
    UnmatchedRemittance,
)
from claims.choices import ClaimStatus
from claims.models import Claim
from demo.claims import prefix_for
from denials import appeals
from denials.choices import AppealLevel, AppealMethod, AppealOutcome
from denials.models import Appeal, Denial, RuleProposal
from practices.choices import CobOrder, PracticeKind
from practices.models import Coverage, Practice

S = ClaimStatus
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Who posts and appeals at each demo practice (both may post payments and work claims).
POSTERS = {"sunrise-dental": "bill.biller", "maple-family-medicine": "val.vendorlead"}
Adjustments = list[tuple[str, str, Decimal]]  # (group, CARC, amount)
# Days before today: the first 835, the appeals sent and decided, the second 835.
PAID_DAYS_AGO, SENT_DAYS_AGO, DECIDED_DAYS_AGO, SECOND_DAYS_AGO = 12, 8, 2, 3


@dataclass(frozen=True)
class Scenario:
    """One demo claim's payer answer. ``how``: paid (CO-45 and the PR codes in
    ``share``), partial (line 2 denied with group-CARC), denied (the whole claim),
    reversed (paid, then reversed in the second 835), unmatched (paid under a mistyped
    claim number), paper (a paper EOB). ``status``: the claim's status afterwards ("" for
    unchanged). ``appeal``: drafted, sent, overturned, partly, upheld (level 2 drafted)."""

    key: str
    how: str
    status: str
    group: str = ""
    carc: str = ""
    rarcs: tuple[str, ...] = ()
    share: tuple[str, ...] = ()
    appeal: str = ""
    file: int = 1

    @property
    def lines_needed(self) -> int:
        return 2 if self.how == "partial" else 1


SCENARIOS: list[Scenario] = [
    Scenario("paid_contract", "paid", S.PAID),
    Scenario("paid_coinsurance", "paid", S.PAID, share=("2",)),
    Scenario("paid_deductible", "paid", S.PAID, share=("1", "2")),
    Scenario("reversed", "reversed", S.IN_ADJUDICATION, share=("2",)),
    Scenario(
        "partial_coding", "partial", S.PARTIALLY_PAID, "CO", "97", ("N657",), ("2",), "drafted"
    ),
    Scenario("partial_benefit_max", "partial", S.APPEALED, "CO", "119", (), ("1",), "partly"),
    Scenario("denied_eligibility", "denied", S.DENIED, "CO", "27", ("N30",)),
    Scenario("denied_authorization", "denied", S.APPEALED, "CO", "197", appeal="sent"),
    Scenario(
        "denied_medical_necessity", "denied", S.APPEALED, "CO", "50", ("M127",), (), "overturned"
    ),
    Scenario("denied_timely_filing", "denied", S.APPEALED, "CO", "29", appeal="upheld"),
    Scenario("denied_cob", "denied", S.DENIED, "CO", "22", ("N479",)),
    Scenario("denied_missing_info", "denied", S.DENIED, "CO", "16", ("MA130", "N290")),
    Scenario("denied_duplicate", "denied", S.DENIED, "OA", "18", ("M86",)),
    Scenario("denied_other", "denied", S.DENIED, "CO", "170"),
    Scenario("unmatched", "unmatched", ""),
    Scenario("paper_eob", "paper", S.PAID, share=("3",)),
    Scenario("paid_later", "paid", S.PAID, share=("2",), file=2),
]


def trace_for(practice: Practice, file: int) -> str:
    return f"DEMO-{prefix_for(practice)}-{file}"


def payer_claim_number(index: int) -> str:
    """CLP07 of scenario ``index``: the payer's own claim number."""
    return f"26{index + 1:09d}"


def seed_remittances(
    practice: Practice, users: dict[str, Any], today: dt.date | None = None
) -> int:
    """Post the demo remittances of ``practice``; returns how many batches were posted
    (0 when they already were, or when the practice has too few claims to pay)."""
    today = today or timezone.localdate()
    if Remittance.objects.filter(practice=practice, trace=trace_for(practice, 1)).exists():
        return 0
    actor = users[POSTERS.get(practice.slug, "val.vendorlead")]
    chosen = _choose(practice, today)
    if chosen is None:
        return 0
    paid_on = today - dt.timedelta(days=PAID_DAYS_AGO)
    rows = [(i, s, c) for i, (s, c) in enumerate(zip(SCENARIOS, chosen, strict=True))]
    batch = _post(practice, actor, 1, paid_on, [x for x in rows if x[1].file == 1])
    for index, scenario, claim in rows:
        if scenario.how == "paper":
            _paper(actor, claim, index, paid_on)
    for index, scenario, claim in rows:
        if scenario.appeal:
            _appeal(actor, batch, index, scenario, claim, today)
    later = [x for x in rows if x[1].file == 2 or x[1].how == "reversed"]
    _post(practice, actor, 2, today - dt.timedelta(days=SECOND_DAYS_AGO), later, reverse=True)
    return 3  # two 835s and the paper EOB


# --- Choosing the claims ------------------------------------------------------------------


def _choose(practice: Practice, today: dt.date) -> list[Claim] | None:
    """One payer's claims with the payer since before the first 835, primary coverage and no
    secondary (no secondary claim drafts in the demo), charge = sum of its lines; by number."""
    cutoff = timezone.make_aware(
        dt.datetime.combine(today - dt.timedelta(days=PAID_DAYS_AGO + 3), dt.time(0, 0))
    )
    secondary = Coverage.objects.filter(patient=OuterRef("patient"), cob_order=CobOrder.SECONDARY)
    candidates = Claim.objects.filter(
        practice=practice,
        status__in=[S.SUBMITTED, S.IN_ADJUDICATION],
        coverage__cob_order=CobOrder.PRIMARY,
        first_submitted_at__lt=cutoff,
        denials__isnull=True,
    ).exclude(Exists(secondary))
    best = (
        candidates.values("payer_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "payer__payer_id")
        .first()
    )
    if best is None:
        return None
    claims = [
        c
        for c in candidates.filter(payer_id=best["payer_id"])
        .select_related("patient", "coverage", "payer", "practice")
        .prefetch_related("lines")
        .order_by("pms_claim_number")
        if c.lines.all() and sum((ln.charge for ln in c.lines.all()), ZERO) == c.total_billed
    ]
    chosen: list[Claim] = []
    for scenario in SCENARIOS:
        pick = next((c for c in claims if len(c.lines.all()) >= scenario.lines_needed), None)
        if pick is None:
            return None
        claims.remove(pick)
        chosen.append(pick)
    return chosen


# --- The 835 ------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _line_amounts(
    fees: dict[str, Decimal], line: Any, share: tuple[str, ...]
) -> tuple[Decimal, Adjustments]:
    """(paid, [(group, carc, amount)]) of a paid line: allowed at the fee schedule,
    the rest CO-45, the patient's share as PR-1 (deductible), PR-2 (20%), PR-3 (copay)."""
    fee = fees.get(line.procedure_code) or (line.charge * Decimal("0.8")).quantize(CENT)
    allowed = min(fee, line.charge)
    adjustments = [("CO", "45", line.charge - allowed)]
    left = allowed
    for code in share:
        part = {
            "1": min(Decimal("50.00"), (left / 2).quantize(CENT)),
            "2": (left * Decimal("0.2")).quantize(CENT),
            "3": min(Decimal("25.00"), (left / 2).quantize(CENT)),
        }[code]
        adjustments.append(("PR", code, part))
        left -= part
    return left, [a for a in adjustments if a[2]]


def _cas(adjustments: Adjustments, sign: int = 1) -> list[str]:
    return [f"CAS*{g}*{c}*{_money(sign * a)}" for g, c, a in adjustments]


def _service_lines(
    scenario: Scenario, claim: Claim, sign: int
) -> tuple[Decimal, Decimal, list[str]]:
    """(paid, patient share, SVC loops) of a claim paid line by line; for a partial
    payment line 2 is denied with the scenario's group and CARC."""
    fees = posting.contracted_fees(claim, [ln.procedure_code for ln in claim.lines.all()])
    qualifier = "AD" if claim.practice.kind == PracticeKind.DENTAL else "HC"
    paid = patient = ZERO
    segments: list[str] = []
    for n, line in enumerate(claim.lines.all(), start=1):
        denied = scenario.how == "partial" and n == 2
        if denied:
            line_paid, adj = ZERO, [(scenario.group, scenario.carc, line.charge)]
        else:
            line_paid, adj = _line_amounts(fees, line, scenario.share)
        paid += line_paid
        patient += adj_pr(adj)
        mods = "".join(f":{m}" for m in line.modifiers[:4])
        segments.append(
            f"SVC*{qualifier}:{line.procedure_code}{mods}*{_money(sign * line.charge)}"
            f"*{_money(sign * line_paid)}**1"
        )
        if line.service_date:
            segments.append(f"DTM*472*{line.service_date:%Y%m%d}")
        segments += _cas(adj, sign)
        if denied:
            segments += [f"LQ*HE*{code}" for code in scenario.rarcs]
        else:
            segments.append(f"AMT*B6*{_money(sign * (line_paid + adj_pr(adj)))}")
    return sign * paid, sign * patient, segments


def _clp(index: int, scenario: Scenario, claim: Claim, sign: int = 1) -> tuple[Decimal, list[str]]:
    """The CLP loop of one claim payment (``sign`` -1: its reversal) and what it pays. A
    denied claim is denied at claim level (no service lines)."""
    number = claim.pms_claim_number
    if scenario.how == "unmatched":
        number = number.replace("-", "")  # keyed in without its dash: no such claim
    if scenario.how == "denied":
        status, paid, patient, lines = "4", ZERO, ZERO, []
        claim_cas = _cas([(scenario.group, scenario.carc, claim.total_billed)])
    else:
        status, claim_cas = ("22" if sign < 0 else "1"), []
        paid, patient, lines = _service_lines(scenario, claim, sign)
    person = claim.patient
    member = claim.coverage.member_id or f"M{person.pk:06d}"
    segments = [
        f"CLP*{number}*{status}*{_money(sign * claim.total_billed)}*{_money(paid)}"
        f"*{_money(patient)}*12*{payer_claim_number(index)}",
        *claim_cas,
        f"NM1*QC*1*{person.last_name}*{person.first_name}****MI*{member}",
    ]
    if scenario.how == "denied" and scenario.rarcs:
        segments.append("MOA***" + "*".join(scenario.rarcs))
    if claim.service_date_from:
        segments.append(f"DTM*232*{claim.service_date_from:%Y%m%d}")
    return paid, segments + lines


def adj_pr(adjustments: Adjustments) -> Decimal:
    return sum((a for g, _c, a in adjustments if g == "PR"), ZERO)


def _file(
    practice: Practice, payer: Any, file: int, paid_on: dt.date, loops: list[str], total: Decimal
) -> str:
    sender = payer.payer_id[:15].ljust(15)
    receiver = prefix_for(practice)[:15].ljust(15)
    control = f"{practice.pk * 10 + file:09d}"[-9:]
    provider = practice.providers.order_by("npi").first()
    npi = provider.npi if provider is not None else ""
    body = [
        "ST*835*0001",
        f"BPR*I*{_money(total)}*C*ACH************{paid_on:%Y%m%d}",
        f"TRN*1*{trace_for(practice, file)}*{payer.payer_id}",
        f"DTM*405*{paid_on:%Y%m%d}",
        f"N1*PR*{payer.name.upper()}",
        f"N1*PE*{practice.name.upper()}*XX*{npi}",
        "LX*1",
        *loops,
    ]
    body.append(f"SE*{len(body) + 1}*0001")
    segments = [
        f"ISA*00*          *00*          *ZZ*{sender}*ZZ*{receiver}*{paid_on:%y%m%d}*1200*^"
        f"*00501*{control}*0*P*:",
        f"GS*HP*{payer.payer_id}*{prefix_for(practice)}*{paid_on:%Y%m%d}*1200*{file}*X*005010X221A1",
        *body,
        f"GE*1*{file}",
        f"IEA*1*{control}",
    ]
    return "".join(f"{s}~\n" for s in segments)


def _post(
    practice: Practice,
    actor: Any,
    file: int,
    paid_on: dt.date,
    rows: list[tuple[int, Scenario, Claim]],
    reverse: bool = False,
) -> Remittance:
    """Build one 835 for ``rows`` and post it as an upload would (upload, then run)."""
    loops: list[str] = []
    total = ZERO
    for index, scenario, claim in rows:
        if scenario.how == "paper":
            continue
        sign = -1 if reverse and scenario.how == "reversed" else 1
        paid, segments = _clp(index, scenario, claim, sign)
        total += paid
        loops += segments
    payer = rows[0][2].payer
    text = _file(practice, payer, file, paid_on, loops, total)
    batch = services.remittance_upload(
        actor=actor,
        practice=practice,
        content=text.encode(),
        filename=f"demo-{practice.slug}-{file}.835",
        enqueue=False,
    )
    done = services.remittance_run(batch.pk)
    if done is None or done.status != RemittanceStatus.POSTED:
        raise ValidationError(f"The demo 835 {file} was not posted: {done and done.entries}")
    return done


# --- Paper EOB and appeals ----------------------------------------------------------------


def _paper(actor: Any, claim: Claim, index: int, paid_on: dt.date) -> None:
    scenario = SCENARIOS[index]
    fees = posting.contracted_fees(claim, [ln.procedure_code for ln in claim.lines.all()])
    paid = ZERO
    adjustments: Adjustments = []
    for line in claim.lines.all():
        line_paid, adj = _line_amounts(fees, line, scenario.share)
        paid += line_paid
        adjustments += adj
    services.paper_eob_post(
        actor=actor,
        claim=claim,
        check_number=f"{40000 + index}",
        paid_on=paid_on,
        paid=paid,
        patient_responsibility=adj_pr(adjustments),
        adjustments=adjustments,
        payer_claim_number=payer_claim_number(index),
    )


def _appeal(
    actor: Any, batch: Remittance, index: int, scenario: Scenario, claim: Claim, today: dt.date
) -> None:
    """Work the scenario's denial to its appeal stage, as a biller would."""
    denial = Denial.objects.get(
        claim=claim, carc=scenario.carc, source_ref=f"{batch.trace}/{payer_claim_number(index)}"
    )
    appeal = appeals.appeal_create(actor=actor, denial=denial, method=AppealMethod.PORTAL)
    if scenario.appeal == "drafted":
        return
    appeal = appeals.appeal_send(
        actor=actor, appeal=appeal, sent_on=today - dt.timedelta(days=SENT_DAYS_AGO)
    )
    decided_on = today - dt.timedelta(days=DECIDED_DAYS_AGO)
    if scenario.appeal == "overturned":
        appeals.appeal_decide(
            actor=actor,
            appeal=appeal,
            outcome=AppealOutcome.OVERTURNED,
            amount_recovered=denial.amount,
            decided_on=decided_on,
        )
    elif scenario.appeal == "partly":
        appeals.appeal_decide(
            actor=actor,
            appeal=appeal,
            outcome=AppealOutcome.PARTLY,
            amount_recovered=(denial.amount / 2).quantize(CENT),
            decided_on=decided_on,
        )
    elif scenario.appeal == "upheld":
        appeals.appeal_decide(
            actor=actor, appeal=appeal, outcome=AppealOutcome.UPHELD, decided_on=decided_on
        )
        appeals.appeal_create(
            actor=actor, denial=denial, level=AppealLevel.SECOND, method=AppealMethod.MAIL
        )


# --- Reset --------------------------------------------------------------------------------


def reset_remittances(practices: list[Practice]) -> None:
    """Remove the practices' remittances, denials and appeals (``seed_demo --reset``; the
    caller steps past the append-only triggers), before their claims go."""
    Appeal.objects.filter(denial__practice__in=practices).delete()
    Denial.objects.filter(practice__in=practices).delete()
    RuleProposal.objects.filter(practice__in=practices).delete()
    Underpayment.objects.filter(practice__in=practices).delete()
    UnmatchedRemittance.objects.filter(practice__in=practices).delete()
    Adjustment.objects.filter(payment__practice__in=practices).delete()
    Remark.objects.filter(payment__practice__in=practices).delete()
    ServiceLinePayment.objects.filter(payment__practice__in=practices).delete()
    ClaimPayment.objects.filter(practice__in=practices, reversal_of__isnull=False).delete()
    ClaimPayment.objects.filter(practice__in=practices).delete()
    ProviderAdjustment.objects.filter(remittance__practice__in=practices).delete()
    for batch in Remittance.objects.filter(practice__in=practices).exclude(file=""):
        batch.file.delete(save=False)
    Remittance.objects.filter(practice__in=practices).delete()
