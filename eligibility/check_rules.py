"""The scrub rule of eligibility checks: a claim for a visit whose verification found the
coverage inactive cannot go "ready" (registered with ``claims.scrubber.register_rule``)."""

from __future__ import annotations

import datetime as dt

from claims.choices import Severity
from claims.models import Claim, ClaimLine
from claims.scrubber import Finding
from eligibility.choices import CheckOutcome
from eligibility.models import EligibilityCheck


def inactive_at_verification(claim: Claim, lines: list[ClaimLine], today: dt.date) -> list[Finding]:
    """Error when the visit's check (same patient, coverage and day of service) found the
    coverage inactive; the message names the check so the biller can open it."""
    if claim.service_date_from is None:
        return []
    check = (
        EligibilityCheck.objects.filter(
            coverage_id=claim.coverage_id,
            appointment__patient_id=claim.patient_id,
            appointment__starts_at__date=claim.service_date_from,
            status=CheckOutcome.INACTIVE,
        )
        .order_by("-verified_at", "-pk")
        .first()
    )
    if check is None:
        return []
    when = f" on {check.verified_at:%m/%d/%Y}" if check.verified_at else ""
    message = (
        f"Eligibility check {check.number} found this coverage inactive{when} "
        f"(reference {check.reference or 'none'}): verify the coverage again or bill "
        "the right payer."
    )
    return [Finding("inactive_at_verification", Severity.ERROR, message)]
