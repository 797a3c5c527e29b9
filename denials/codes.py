"""CARC/RARC codes with billing-ops' own short labels, and the default code -> category map.

The labels are ours, written for the people working denials here: short, plain, and
pointing at the work. They are not the official X12 descriptions, which a practice that
licenses them can load with ``manage.py load_carc_rarc FILE`` (``ReasonCode.official_text``).
The default categories apply when no manager-edited ``CategoryRule`` matches.
"""

from __future__ import annotations

from dataclasses import dataclass

from denials.choices import DenialCategory as C
from denials.choices import NextAction, Route


@dataclass(frozen=True)
class Carc:
    label: str
    category: str


CARC: dict[str, Carc] = {
    "1": Carc("Patient's deductible", C.OTHER),
    "2": Carc("Patient's coinsurance", C.OTHER),
    "3": Carc("Patient's copay", C.OTHER),
    "4": Carc("Modifier wrong or missing", C.CODING),
    "5": Carc("Procedure does not fit the place of service", C.CODING),
    "6": Carc("Procedure does not fit the patient's age", C.CODING),
    "7": Carc("Procedure does not fit the patient's sex", C.CODING),
    "11": Carc("Diagnosis does not back the procedure", C.CODING),
    "15": Carc("Authorization number wrong or missing", C.AUTHORIZATION),
    "16": Carc("Something the payer needs is missing from the claim", C.MISSING_INFO),
    "18": Carc("Payer already processed this service", C.DUPLICATE),
    "22": Carc("Another payer should pay first", C.COB),
    "23": Carc("Adjusted for what an earlier payer paid", C.COB),
    "24": Carc("Patient's managed-care plan pays this", C.ELIGIBILITY),
    "26": Carc("Service before the coverage started", C.ELIGIBILITY),
    "27": Carc("Service after the coverage ended", C.ELIGIBILITY),
    "29": Carc("Filed after the payer's limit", C.TIMELY_FILING),
    "31": Carc("Payer cannot find the patient as a member", C.ELIGIBILITY),
    "45": Carc("Charge above the contracted fee", C.OTHER),
    "49": Carc("Routine service the plan excludes", C.NON_COVERED),
    "50": Carc("Payer says not medically necessary", C.MEDICAL_NECESSITY),
    "96": Carc("Plan does not cover this service", C.NON_COVERED),
    "97": Carc("Bundled into another paid service", C.CODING),
    "109": Carc("Wrong payer: send it elsewhere", C.COB),
    "119": Carc("Benefit maximum reached", C.NON_COVERED),
    "151": Carc("Payer doubts the number or frequency of services", C.MEDICAL_NECESSITY),
    "167": Carc("Plan does not cover this diagnosis", C.NON_COVERED),
    "170": Carc("Not paid when this provider type bills it", C.OTHER),
    "197": Carc("Prior authorization missing", C.AUTHORIZATION),
    "198": Carc("More than the authorization allowed", C.AUTHORIZATION),
    "204": Carc("Not covered by the patient's current plan", C.NON_COVERED),
    "226": Carc("Payer asked us for information and did not get it", C.MISSING_INFO),
    "227": Carc("Payer asked the patient for information and did not get it", C.MISSING_INFO),
    "236": Carc("Procedures not payable together on the same day", C.CODING),
    "242": Carc("Provider outside the patient's network", C.ELIGIBILITY),
    "252": Carc("Send documentation or an attachment", C.MISSING_INFO),
    "288": Carc("Referral missing", C.AUTHORIZATION),
}

RARC: dict[str, str] = {
    "M51": "Procedure code needs checking",
    "M86": "Same or similar service already paid",
    "M127": "Medical record needed",
    "MA04": "Secondary claim needs the primary's payment",
    "MA130": "Fix and send as a new claim",
    "N30": "Patient not eligible for this service",
    "N115": "Decided under a local coverage policy",
    "N290": "Rendering provider ID missing or wrong",
    "N479": "Other payer's EOB needed",
    "N657": "Should be billed with another code",
}


@dataclass(frozen=True)
class Guidance:
    """What to do for a category: who acts first, the first next action, and how."""

    route: str
    next_action: str
    text: str


GUIDANCE: dict[str, Guidance] = {
    C.ELIGIBILITY: Guidance(
        Route.BILLING,
        NextAction.CORRECT_AND_RESUBMIT,
        "Re-verify coverage for the date of service; fix member id, payer or subscriber and "
        "resubmit, or bill the right payer or the patient.",
    ),
    C.AUTHORIZATION: Guidance(
        Route.BILLING,
        NextAction.CALL_PAYER,
        "Find the authorization or referral number; if none was obtained, ask the payer for "
        "a retro-authorization, then resubmit with the number.",
    ),
    C.CODING: Guidance(
        Route.BILLING,
        NextAction.CORRECT_AND_RESUBMIT,
        "Check procedure, modifiers and diagnosis pointers against the notes; correct and "
        "resubmit as a corrected claim.",
    ),
    C.MEDICAL_NECESSITY: Guidance(
        Route.PRACTICE,
        NextAction.REQUEST_INFO_PRACTICE,
        "Ask the practice for the clinical notes, images or narrative that show why the "
        "service was needed, then appeal with them.",
    ),
    C.TIMELY_FILING: Guidance(
        Route.BILLING,
        NextAction.APPEAL,
        "Look for proof of timely submission (clearinghouse acceptance report); appeal with "
        "it, otherwise write off: never bill the patient.",
    ),
    C.COB: Guidance(
        Route.BILLING,
        NextAction.REQUEST_INFO_PATIENT,
        "Confirm the coverage order with the patient; bill the primary first and send the "
        "secondary the primary's EOB.",
    ),
    C.MISSING_INFO: Guidance(
        Route.PRACTICE,
        NextAction.REQUEST_INFO_PRACTICE,
        "Find out what the payer asked for; get the documents from the practice and send "
        "them or resubmit with them.",
    ),
    C.DUPLICATE: Guidance(
        Route.BILLING,
        NextAction.CALL_PAYER,
        "Check whether the original claim was paid; if this was a correction, resubmit with "
        "the corrected-claim frequency code and the payer's claim number.",
    ),
    C.NON_COVERED: Guidance(
        Route.BILLING,
        NextAction.REQUEST_INFO_PATIENT,
        "Check the plan's benefits; bill the patient when they agreed in advance, appeal when "
        "the service is covered, otherwise write off.",
    ),
    C.OTHER: Guidance(
        Route.BILLING,
        NextAction.CALL_PAYER,
        "Read the codes and remarks; call the payer to find out what they need.",
    ),
}


def carc_label(code: str) -> str:
    entry = CARC.get(code.strip().upper())
    return entry.label if entry else "Code not in our list"


def rarc_label(code: str) -> str:
    return RARC.get(code.strip().upper(), "Remark not in our list")


def default_category(carc: str) -> str:
    entry = CARC.get(carc.strip().upper())
    return entry.category if entry else C.OTHER
