"""Appeal letters: a draft per denial category filled with the claim's facts, and the PDF.

The draft is plain text the biller edits on the appeal page; the PDF is that text,
escaped, laid out by WeasyPrint (HTML to PDF).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string
from django.utils import timezone

from denials import codes
from denials.choices import DenialCategory as C

if TYPE_CHECKING:
    from denials.models import Appeal, Denial

# The argument of each category's letter: what we ask the payer to reconsider, and why.
ARGUMENTS: dict[str, str] = {
    C.ELIGIBILITY: "The patient's coverage was active on the date of service; the enclosed "
    "eligibility confirmation shows the plan and member number in force.",
    C.AUTHORIZATION: "The service was authorized (or referred) before it was performed; the "
    "enclosed authorization or referral carries its number and dates.",
    C.CODING: "The procedure and diagnosis codes billed are supported by the documentation; "
    "a corrected claim or the coding rationale is enclosed.",
    C.MEDICAL_NECESSITY: "The service was medically necessary for this patient; the enclosed "
    "clinical records show the findings and why the treatment was required.",
    C.TIMELY_FILING: "The claim was first submitted within the filing limit; the enclosed "
    "clearinghouse acceptance report shows the original submission date.",
    C.COB: "The coordination of benefits has been confirmed; the enclosed information shows "
    "the order of coverage and, where applicable, the primary payer's EOB.",
    C.MISSING_INFO: "The information the payer requested is enclosed; please process the claim "
    "with it.",
    C.DUPLICATE: "This claim is not a duplicate: it is a distinct service (or a corrected "
    "claim replacing the original), as the enclosed details show.",
    C.NON_COVERED: "The service is a covered benefit under the patient's plan; the enclosed "
    "plan language and records support coverage.",
    C.OTHER: "We believe the claim was processed in error and ask that it be reconsidered "
    "on the enclosed information.",
}


def draft(denial: Denial, level_label: str = "Level 1") -> str:
    """A letter for the denial's category with the claim's facts, ready to edit."""
    claim = denial.claim
    patient, coverage, provider = claim.patient, claim.coverage, claim.provider
    codes_text = ", ".join(
        [f"{denial.group_code}-{denial.carc} ({codes.carc_label(denial.carc)})"]
        + [f"{code} ({codes.rarc_label(code)})" for code in denial.rarcs]
    )
    service = f"{claim.service_date_from:%m/%d/%Y}"
    if claim.service_date_to and claim.service_date_to != claim.service_date_from:
        service += f" – {claim.service_date_to:%m/%d/%Y}"
    line = ""
    if denial.line is not None:
        line = f"Line {denial.line.line_number}: procedure {denial.line.procedure_code}\n"
    return (
        f"{timezone.localdate():%B %d, %Y}\n\n"
        f"{claim.payer.name}\nAppeals department\n\n"
        f"Re: {level_label} appeal of a denied claim\n"
        f"Patient: {patient.first_name} {patient.last_name}\n"
        f"Member ID: {coverage.member_id}\n"
        f"Claim number: {claim.pms_claim_number}\n"
        f"Date(s) of service: {service}\n"
        f"{line}"
        f"Amount denied: ${denial.amount:,.2f}\n"
        f"Denial codes: {codes_text}\n"
        f"Denial received: {denial.received_on:%m/%d/%Y}\n\n"
        "To whom it may concern,\n\n"
        f"We ask you to reconsider the denial of the claim above. "
        f"{ARGUMENTS.get(denial.category, ARGUMENTS[C.OTHER])}\n\n"
        "Please reprocess the claim and pay it according to the patient's benefits.\n\n"
        "Sincerely,\n\n"
        f"{claim.practice.name}\n"
        f"on behalf of {provider.first_name} {provider.last_name}, NPI {provider.npi}\n"
    )


def render_pdf(appeal: Appeal) -> bytes:
    """The appeal's letter as a PDF (the text escaped by the template)."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # heavy: loaded for PDFs only

    html = render_to_string("denials/letter_pdf.html", {"appeal": appeal})
    return bytes(HTML(string=html).write_pdf())
