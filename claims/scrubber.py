"""The claim scrubber: built-in rules plus structured payer rules.

Each rule is a function ``(claim, lines, today) -> list[Finding]``; ``scrub`` runs them all.
Findings with severity "error" block the move to "ready".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from claims.choices import AttachmentStatus, ClaimStatus, Severity
from claims.models import Claim, ClaimLine, PayerRule
from practices.choices import ClaimFormat

NEAR_FILING_LIMIT_DAYS = 14


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str
    line_number: int | None = None


Rule = Callable[[Claim, list[ClaimLine], dt.date], list[Finding]]


def missing_member_id(claim: Claim, lines: list[ClaimLine], today: dt.date) -> list[Finding]:
    if claim.coverage.member_id.strip():
        return []
    return [Finding("missing_member_id", Severity.ERROR, "The coverage has no member id.")]


def missing_diagnosis_pointer(
    claim: Claim, lines: list[ClaimLine], today: dt.date
) -> list[Finding]:
    # Dental claims need no pointers as a rule, but a pointer they do carry must point at
    # a diagnosis of the claim (the payer rejects one that does not).
    professional = claim.claim_format == ClaimFormat.PROFESSIONAL
    findings = []
    count = len(claim.diagnosis_codes)
    for line in lines:
        pointers = line.diagnosis_pointers
        if not pointers and professional:
            message = f"Line {line.line_number} ({line.procedure_code}) has no diagnosis pointer."
            findings.append(
                Finding("missing_diagnosis_pointer", Severity.ERROR, message, line.line_number)
            )
        elif any(p < 1 or p > count for p in pointers):
            message = (
                f"Line {line.line_number} points to a diagnosis the claim does not have "
                f"({count} on the claim)."
            )
            findings.append(
                Finding("missing_diagnosis_pointer", Severity.ERROR, message, line.line_number)
            )
    return findings


def missing_service_date(claim: Claim, lines: list[ClaimLine], today: dt.date) -> list[Finding]:
    if claim.service_date_from is not None:
        return []
    message = (
        "The claim has no service date (DTP*472 in the 837): enter the date of service "
        "before it can be billed."
    )
    return [Finding("missing_service_date", Severity.ERROR, message)]


def future_service_date(claim: Claim, lines: list[ClaimLine], today: dt.date) -> list[Finding]:
    dates = [claim.service_date_from, claim.service_date_to]
    dates += [line.service_date for line in lines]
    known = [day for day in dates if day is not None]
    if known and max(known) > today:
        return [
            Finding(
                "future_service_date",
                Severity.ERROR,
                f"Service date {max(known):%m/%d/%Y} is in the future.",
            )
        ]
    return []


def duplicate_claim(claim: Claim, lines: list[ClaimLine], today: dt.date) -> list[Finding]:
    if claim.service_date_from is None:
        return []  # undated: missing_service_date says so; no date to match on
    codes = sorted(line.procedure_code for line in lines)
    others = (
        Claim.objects.filter(
            practice_id=claim.practice_id,
            patient_id=claim.patient_id,
            payer_id=claim.payer_id,
            service_date_from=claim.service_date_from,
        )
        .exclude(pk=claim.pk)
        .exclude(status=ClaimStatus.VOID)
        .prefetch_related("lines")
    )
    for other in others:
        if sorted(line.procedure_code for line in other.lines.all()) == codes:
            message = f"Same patient, payer, date and codes as claim {other.pms_claim_number}."
            return [Finding("duplicate_claim", Severity.ERROR, message)]
    return []


def timely_filing(claim: Claim, lines: list[ClaimLine], today: dt.date) -> list[Finding]:
    if claim.timely_filing_deadline is None:
        return []  # counted from the service date, which the claim does not have yet
    days_left = (claim.timely_filing_deadline - today).days
    if days_left < 0:
        message = f"Timely-filing limit passed on {claim.timely_filing_deadline:%m/%d/%Y}."
        return [Finding("timely_filing", Severity.ERROR, message)]
    if days_left <= NEAR_FILING_LIMIT_DAYS:
        message = f"Only {days_left} days left before the timely-filing limit."
        return [Finding("timely_filing", Severity.WARNING, message)]
    return []


def secondary_without_primary(
    claim: Claim, lines: list[ClaimLine], today: dt.date
) -> list[Finding]:
    if claim.coverage.cob_order > 1 and claim.other_payer_paid is None:
        message = "Secondary claim without the primary payer's adjudication."
        return [Finding("secondary_without_primary", Severity.ERROR, message)]
    return []


def non_positive_charge(claim: Claim, lines: list[ClaimLine], today: dt.date) -> list[Finding]:
    findings = [
        Finding(
            "non_positive_charge",
            Severity.ERROR,
            f"Line {line.line_number} charge is {line.charge}; it must be above zero.",
            line.line_number,
        )
        for line in lines
        if line.charge <= 0
    ]
    if not lines:
        findings.append(Finding("no_lines", Severity.ERROR, "The claim has no service lines."))
    return findings


def payer_rules(claim: Claim, lines: list[ClaimLine], today: dt.date) -> list[Finding]:
    rules = list(PayerRule.objects.filter(payer_id=claim.payer_id, is_active=True))
    if not rules:
        return []
    on_file = set(
        claim.attachments.filter(
            status__in=[AttachmentStatus.RECEIVED, AttachmentStatus.SENT]
        ).values_list("kind", flat=True)
    )
    findings = []
    for line in lines:
        for rule in rules:
            if not rule.matches(line.procedure_code):
                continue
            if rule.required_attachment and rule.required_attachment not in on_file:
                needed = rule.get_required_attachment_display()
                message = f"{claim.payer} needs {needed} with {line.procedure_code}: "
                message += rule.description
                findings.append(
                    Finding("payer_rule", Severity.ERROR, message[:300], line.line_number)
                )
            if rule.required_modifier and rule.required_modifier not in line.modifiers:
                message = f"{claim.payer} needs modifier {rule.required_modifier} "
                message += f"on {line.procedure_code}: {rule.description}"
                findings.append(
                    Finding("payer_rule", Severity.ERROR, message[:300], line.line_number)
                )
    return findings


RULES: list[Rule] = [
    missing_service_date,
    missing_member_id,
    missing_diagnosis_pointer,
    future_service_date,
    duplicate_claim,
    timely_filing,
    secondary_without_primary,
    non_positive_charge,
    payer_rules,
]


def register_rule(rule: Rule) -> None:
    """Add a rule from a higher layer (eligibility: inactive coverage at verification, a
    missing prior authorization), from its ``AppConfig.ready``; registering twice is a
    no-op."""
    if rule not in RULES:
        RULES.append(rule)


def scrub(claim: Claim, today: dt.date | None = None) -> list[Finding]:
    """Run every rule over a claim and its lines (built-in and registered)."""
    today = today or timezone.localdate()
    lines = list(claim.lines.order_by("line_number"))
    return [finding for rule in RULES for finding in rule(claim, lines, today)]
