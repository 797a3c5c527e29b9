"""X12 005010X214 (277CA, claim acknowledgement) parsing: pure Python, no database.

``parse_277ca(text)`` returns a ``ParsedAcknowledgement``: the payer (HL 20), the receiver's
batch status (HL 21), and every claim (HL PT) with its patient control number (TRN*2, our
claim number), statuses (STC: category:status:entity composites, date, amount), payer claim
number (REF*1K) and patient name. Segments come from the 837 import's tokenizer
(``claims.x12.tokenizer``), so delimiters (including a ``|`` component separator) are read
from the ISA in the same way.

A malformed segment raises ``X12Errors`` with every problem and its segment number: a file
is never applied in part.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from claims.x12.tokenizer import Segment, X12Error, X12Errors, tokenize

_SEGMENTS_277 = "ISA IEA GS GE ST SE BHT HL NM1 TRN STC QTY AMT DTP REF SVC N3 N4 PER"
KNOWN_277 = frozenset(_SEGMENTS_277.split())
MAX_ERRORS = 300
_CATEGORY = re.compile(r"[A-Z]{1,2}\d{1,2}")
_STATUS = re.compile(r"[0-9A-Z]{1,30}")

# Claim status categories (STC01-1), in our own words.
ACCEPTED = frozenset({"A1", "A2", "A5"})
REJECTED = frozenset({"A3", "A4", "A6", "A7", "A8"})
CATEGORY_LABELS = {
    "A0": "forwarded",
    "A1": "received",
    "A2": "accepted for adjudication",
    "A3": "returned, cannot be processed",
    "A4": "not found by the payer",
    "A5": "accepted as split claims",
    "A6": "rejected: something is missing",
    "A7": "rejected: something is invalid",
    "A8": "rejected: fields do not agree",
}
# A few status codes (STC01-2) billers meet often, in our own short words.
STATUS_LABELS = {
    "19": "receipt acknowledged",
    "20": "accepted",
    "21": "missing or invalid information",
    "187": "service dates",
    "562": "NPI",
}
# Entity codes (STC01-3): whose data the status is about.
ENTITY_LABELS = {
    "03": "dependent",
    "40": "receiver",
    "41": "submitter",
    "77": "service location",
    "82": "rendering provider",
    "85": "billing provider",
    "DN": "referring provider",
    "IL": "subscriber",
    "PR": "payer",
    "QC": "patient",
}


@dataclass(frozen=True)
class ParsedStatus:
    segment: int
    category: str
    status: str
    entity: str = ""
    date: dt.date | None = None
    amount: Decimal | None = None

    @property
    def codes(self) -> str:
        return ":".join(c for c in (self.category, self.status, self.entity) if c)

    @property
    def wording(self) -> str:
        words = CATEGORY_LABELS.get(self.category, f"category {self.category}")
        detail = [
            label
            for label in (
                ENTITY_LABELS.get(self.entity, ""),
                STATUS_LABELS.get(self.status, f"status {self.status}"),
            )
            if label
        ]
        return f"{words} ({' '.join(detail)})" if detail else words


@dataclass
class ParsedClaimStatus:
    segment: int  # the HL of the claim
    patient_control_number: str = ""
    payer_claim_number: str = ""
    patient_last_name: str = ""
    patient_first_name: str = ""
    statuses: list[ParsedStatus] = field(default_factory=list)
    line_statuses: list[ParsedStatus] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return any(s.category in REJECTED for s in self.statuses)

    @property
    def accepted(self) -> bool:
        return not self.rejected and any(s.category in ACCEPTED for s in self.statuses)

    @property
    def deciding(self) -> ParsedStatus | None:
        """The status the claim's outcome follows (the first rejection, else the first)."""
        rejections = [s for s in self.statuses if s.category in REJECTED]
        found = rejections or self.statuses
        return found[0] if found else None

    @property
    def amount(self) -> Decimal | None:
        return next((s.amount for s in self.statuses if s.amount is not None), None)

    @property
    def status_date(self) -> dt.date | None:
        return next((s.date for s in self.statuses if s.date is not None), None)

    @property
    def codes(self) -> str:
        return ", ".join(s.codes for s in self.statuses)

    @property
    def reason(self) -> str:
        """Codes plus our wording: ``A7:562:85 rejected: something is invalid (billing ...)``."""
        return "; ".join(f"{s.codes} {s.wording}" for s in self.statuses)


@dataclass
class ParsedAcknowledgement:
    payer_name: str = ""
    payer_id: str = ""
    trace: str = ""  # TRN02 of the information source (the payer's batch)
    receiver_statuses: list[ParsedStatus] = field(default_factory=list)
    claims: list[ParsedClaimStatus] = field(default_factory=list)


def _d8(segment: Segment, n: int) -> dt.date:
    value = segment.el(n)
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise segment.error(f"{segment.id}{n:02d} {value!r} is not a CCYYMMDD date") from None


def _statuses(s: Segment) -> list[ParsedStatus]:
    """STC01, STC10 and STC11: each a category:status[:entity] composite."""
    if not s.el(1):
        raise s.error("STC01 (the claim status category and code) is empty")
    when = _d8(s, 2) if s.el(2) else None
    amount = s.optional_number(4, "total claim charge")
    found = []
    for n in (1, 10, 11):
        if not s.el(n):
            continue
        parts = s.comp(n)
        category = parts[0] if parts else ""
        status = parts[1] if len(parts) > 1 else ""
        if not _CATEGORY.fullmatch(category):
            raise s.error(f"STC{n:02d} {s.el(n)!r}: {category!r} is not a status category")
        if not _STATUS.fullmatch(status):
            raise s.error(f"STC{n:02d} {s.el(n)!r} has no status code")
        entity = parts[2] if len(parts) > 2 else ""
        found.append(ParsedStatus(s.index, category, status, entity, when, amount))
    return found


class _Parser:
    def __init__(self) -> None:
        self.result = ParsedAcknowledgement()
        self.errors: list[X12Error] = []
        self.more = 0
        self.level = ""  # the current HL's level code: 20, 21, 19, PT
        self.claim: ParsedClaimStatus | None = None
        self.in_line = False
        self.st_index = 0
        self.st_control = ""
        self.seen_st = self.seen_se = False

    def problem(self, error: X12Error) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)
        else:
            self.more += 1

    def run(self, segments: list[Segment]) -> ParsedAcknowledgement:
        for segment in segments:
            handler = getattr(self, f"seg_{segment.id}", None)
            if handler is None:
                continue
            try:
                handler(segment)
            except X12Error as exc:
                self.problem(exc)
        if not self.seen_st:
            self.problem(X12Error(1, "ST", "no ST segment: this is not a 277CA transaction"))
        elif not self.seen_se and segments:
            self.problem(segments[-1].error("the transaction has no SE segment"))
        # A claim without its number or status (unless a segment of it was malformed).
        for claim in self.result.claims if not self.errors else []:
            if not claim.patient_control_number:
                self.problem(
                    X12Error(claim.segment, "HL", "the claim has no TRN*2 (our claim number)")
                )
            if not claim.statuses:
                self.problem(X12Error(claim.segment, "HL", "the claim has no STC status"))
        return self.result

    def seg_ST(self, s: Segment) -> None:
        if self.seen_st:
            raise s.error("a second ST: send one 277CA transaction per file")
        self.seen_st, self.st_index, self.st_control = True, s.index, s.el(2)
        if s.el(1) != "277":
            raise s.error(f"ST01 {s.el(1)!r} is not 277 (a claim acknowledgement)")
        if s.el(3) and s.el(3) != "005010X214":
            raise s.error(f"ST03 {s.el(3)!r} is not 005010X214 (the 277CA guide)")

    def seg_SE(self, s: Segment) -> None:
        self.seen_se = True
        expected = s.index - self.st_index + 1
        if s.el(1) != str(expected):
            raise s.error(f"SE01 says {s.el(1)} segments, the transaction has {expected}")
        if s.el(2) != self.st_control:
            raise s.error(f"SE02 {s.el(2)!r} does not match ST02 {self.st_control!r}")

    def seg_HL(self, s: Segment) -> None:
        self.level, self.claim, self.in_line = s.el(3), None, False
        if self.level not in ("20", "21", "19", "PT"):
            raise s.error(f"HL03 {self.level!r} is not 20, 21, 19 or PT")
        if self.level == "PT":
            self.claim = ParsedClaimStatus(segment=s.index)
            self.result.claims.append(self.claim)

    def seg_NM1(self, s: Segment) -> None:
        if self.level == "20" and s.el(1) == "PR":
            self.result.payer_name, self.result.payer_id = s.el(3), s.el(9)
        elif self.claim is not None and s.el(1) == "QC":
            self.claim.patient_last_name, self.claim.patient_first_name = s.el(3), s.el(4)

    def seg_TRN(self, s: Segment) -> None:
        if self.level == "20":
            self.result.trace = s.el(2)
        elif self.claim is not None:
            if s.el(1) != "2" or not s.el(2):
                raise s.error("the claim's TRN must be TRN*2 with our claim number")
            self.claim.patient_control_number = s.el(2)

    def seg_STC(self, s: Segment) -> None:
        statuses = _statuses(s)
        if self.claim is not None:
            target = self.claim.line_statuses if self.in_line else self.claim.statuses
            target.extend(statuses)
        elif self.level == "21":
            self.result.receiver_statuses.extend(statuses)

    def seg_REF(self, s: Segment) -> None:
        if self.claim is not None and not self.in_line and s.el(1) == "1K":
            self.claim.payer_claim_number = s.el(2)

    def seg_SVC(self, s: Segment) -> None:
        if self.claim is None:
            raise s.error("SVC outside a claim (no HL*PT before it)")
        self.in_line = True


def parse_277ca(text: str) -> ParsedAcknowledgement:
    """Parse one 277CA transaction; every problem raises together in ``X12Errors``."""
    _delims, _isa, segments = tokenize(text, known=KNOWN_277)
    parser = _Parser()
    result = parser.run(segments)
    if parser.errors:
        parser.errors.sort(key=lambda e: e.segment_index)
        raise X12Errors(parser.errors, parser.more)
    return result
