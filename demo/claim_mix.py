"""The shape of a year of demo claims: status shares and ages, payer and owner weights,
next actions and wait reasons, timeline notes, follow-up outcomes and the codes billed.

Data only; ``demo.claims`` and ``demo.claim_builder`` draw from them.
"""

from __future__ import annotations

from decimal import Decimal

from claims.choices import ClaimStatus, NextAction

S = ClaimStatus
A = NextAction

# Share of claims per status (percent); closed dominates a year of history.
STATUS_WEIGHTS: dict[str, int] = {
    S.DRAFT: 6,
    S.READY: 3,
    S.SUBMITTED: 7,
    S.ACCEPTED: 5,
    S.REJECTED: 4,
    S.IN_ADJUDICATION: 10,
    S.PAID: 6,
    S.PARTIALLY_PAID: 5,
    S.DENIED: 7,
    S.APPEALED: 3,
    S.CLOSED: 40,
    S.VOID: 4,
}
# Days from the date of service to today, by status.
AGE_DAYS: dict[str, tuple[int, int]] = {
    S.DRAFT: (0, 25),
    S.READY: (1, 10),
    S.SUBMITTED: (2, 21),
    S.ACCEPTED: (5, 35),
    S.REJECTED: (3, 45),
    S.IN_ADJUDICATION: (12, 120),
    S.PAID: (18, 90),
    S.PARTIALLY_PAID: (20, 150),
    S.DENIED: (20, 200),
    S.APPEALED: (50, 300),
    S.CLOSED: (30, 364),
    S.VOID: (3, 364),
}
# Weighted payer mix by electronic payer id (unknown payers weigh 10).
PAYER_WEIGHTS: dict[str, int] = {
    "DDPA1": 40,  # Delta Dental
    "65978": 25,  # MetLife
    "62308": 20,  # Cigna
    "64246": 15,  # Guardian
    "BCBS1": 35,
    "87726": 25,  # UnitedHealthcare
    "60054": 20,  # Aetna
    "MCRB1": 20,  # Medicare Part B
}
# Who owns the work, per practice (users able to work claims there; unknown users weigh 10).
OWNER_WEIGHTS: dict[str, dict[str, int]] = {
    "sunrise-dental": {
        "bill.biller": 40,
        "vera.vendor": 40,
        "val.vendorlead": 12,
        "sam.manager": 8,
    },
    "maple-family-medicine": {"val.vendorlead": 65, "mia.manager": 35},
}
DUE_TODAY_SHARE = 0.07
OVERDUE_SHARE = 0.11

NEXT_ACTIONS: dict[str, list[tuple[str, int]]] = {
    S.DRAFT: [
        (A.PREPARE_AND_SUBMIT, 5),
        (A.REQUEST_INFO_PRACTICE, 3),
        (A.REQUEST_INFO_PATIENT, 2),
    ],
    S.READY: [(A.WAIT, 1)],
    S.SUBMITTED: [(A.WAIT, 1)],
    S.ACCEPTED: [(A.WAIT, 6), (A.CALL_PAYER, 2)],
    S.REJECTED: [
        (A.CORRECT_AND_RESUBMIT, 6),
        (A.REQUEST_INFO_PRACTICE, 2),
        (A.REQUEST_INFO_PATIENT, 2),
    ],
    S.IN_ADJUDICATION: [(A.WAIT, 5), (A.CALL_PAYER, 4), (A.REQUEST_INFO_PRACTICE, 1)],
    S.PAID: [(A.POST_AND_CLOSE, 1)],
    S.PARTIALLY_PAID: [
        (A.APPEAL, 3),
        (A.CALL_PAYER, 2),
        (A.POST_AND_CLOSE, 3),
        (A.REQUEST_INFO_PATIENT, 1),
    ],
    S.DENIED: [
        (A.APPEAL, 4),
        (A.CALL_PAYER, 2),
        (A.REQUEST_INFO_PRACTICE, 3),
        (A.POST_AND_CLOSE, 1),
    ],
    S.APPEALED: [(A.WAIT, 6), (A.CALL_PAYER, 3)],
}
WAIT_REASONS: dict[str, list[str]] = {
    S.READY: ["tonight's clearinghouse batch", "the provider's signature on the batch"],
    S.SUBMITTED: ["the clearinghouse acknowledgement (277CA)", "payer acceptance of the batch"],
    S.ACCEPTED: ["the payer's decision (accepted, not yet in process)"],
    S.IN_ADJUDICATION: [
        "the payer's decision; portal shows in process",
        "records the payer requested from the practice",
        "the payer's medical review",
    ],
    S.APPEALED: ["the level 1 appeal decision", "the payer's reconsideration"],
}
STATUS_NOTES: dict[str, list[str]] = {
    S.SUBMITTED: ["Sent in the daily 837 batch."],
    S.ACCEPTED: ["277CA: accepted by the payer."],
    S.REJECTED: [
        "277CA A7/562: subscriber id not found.",
        "277CA A7/255: diagnosis pointer invalid.",
        "Clearinghouse: rendering provider NPI missing.",
    ],
    S.IN_ADJUDICATION: ["Payer portal: claim in process."],
    S.PAID: ["835 posted: paid as billed less contractual adjustment."],
    S.PARTIALLY_PAID: ["835 posted: paid in part (CO-45, PR-2)."],
    S.DENIED: [
        "835: CO-197 authorization absent.",
        "835: CO-16 missing information.",
        "835: CO-50 not medically necessary.",
        "835: CO-29 timely filing.",
        "835: CO-22 other coverage primary.",
        "835: PR-119 benefit maximum reached.",
    ],
    S.APPEALED: ["Level 1 appeal sent with narrative and records."],
    S.CLOSED: ["Balance resolved; claim closed."],
    S.VOID: ["Duplicate of another PMS claim; voided."],
}
# Who moves a claim into a status: the owner, or the payer/clearinghouse (no actor).
PAYER_DRIVEN = frozenset(
    {S.ACCEPTED, S.REJECTED, S.IN_ADJUDICATION, S.PAID, S.PARTIALLY_PAID, S.DENIED}
)
FOLLOW_UPS: dict[str, tuple[int, int]] = {
    S.ACCEPTED: (0, 1),
    S.IN_ADJUDICATION: (0, 3),
    S.PAID: (0, 1),
    S.PARTIALLY_PAID: (0, 2),
    S.DENIED: (0, 2),
    S.APPEALED: (1, 4),
    S.CLOSED: (0, 2),
}
FOLLOW_UP_OUTCOMES = [
    ("Claim on file, in process; decision expected within 14 days.", "Recheck the portal"),
    ("Payer needs the clinical notes for the service.", "Ask the practice for records"),
    ("Claim processed; EOB mailed last week.", "Look for the ERA and post"),
    ("Rep could not find the claim; sent the clearinghouse report.", "Recheck in 7 days"),
]
APPEAL_OUTCOMES = [
    ("Rep confirmed the appeal was received.", "Recheck in 30 days"),
    ("Appeal under review; no decision yet.", "Recheck the portal in 14 days"),
]
REPS = ["Ana", "Brian", "Carla", "Dev", "Erin", "Femi", "Gina", "Hal"]
DIAGNOSES = [
    "Z0000",
    "I10",
    "E119",
    "E785",
    "J069",
    "J029",
    "Z23",
    "R519",
    "M5450",
    "N390",
    "K219",
    "R509",
]
# Usual charges when the fee schedule has no line for a code.
DEFAULT_CHARGES: dict[str, Decimal] = {
    "D0120": Decimal("65"),
    "D1110": Decimal("120"),
    "D0274": Decimal("85"),
    "D2392": Decimal("210"),
    "D2740": Decimal("1250"),
    "D4341": Decimal("260"),
    "99213": Decimal("130"),
    "99214": Decimal("190"),
    "99395": Decimal("240"),
    "36415": Decimal("20"),
    "81002": Decimal("15"),
    "90686": Decimal("45"),
}
POSTERIOR_TEETH = [2, 3, 4, 5, 12, 13, 14, 15, 18, 19, 20, 21, 28, 29, 30, 31]
ANTERIOR_TEETH = [6, 7, 8, 9, 10, 11, 22, 23, 24, 25, 26, 27]
