"""X12 005010X221A1 (835, health care claim payment/advice) parsing: pure Python, no database.

``parse_835_checked(text)`` (the checked walk; ``ar.x12_835_fast.parse_835`` tries the
fast path first) returns a ``ParsedRemittance``: the payment (BPR), trace (TRN), payer and
payee (N1), every claim payment (CLP) with its claim- and line-level adjustments (CAS),
service lines (SVC) with their dates (DTM) and allowed amounts (AMT*B6), remarks (MOA, MIA,
LQ), and provider-level adjustments (PLB). Segments come from the 837 import's tokenizer
(``claims.x12.tokenizer``), so delimiters are read from the ISA in the same way.

Malformed segments and arithmetic that does not balance raise ``X12Errors`` listing every
problem with its segment number: per line, charge - paid - adjustments = 0; per claim,
charge - paid - claim and line adjustments = 0; per file, BPR02 = sum(CLP04) - sum(PLB).
A file is never accepted with a silent difference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from claims.x12.tokenizer import Segment, X12Error, X12Errors, tokenize

ZERO = Decimal("0.00")
_SEGMENTS_835 = """ISA IEA GS GE ST SE BPR TRN CUR REF DTM N1 N2 N3 N4 PER RDM LX TS3 TS2 CLP CAS
NM1 MIA MOA AMT QTY SVC LQ PLB"""
KNOWN_835 = frozenset(_SEGMENTS_835.split())
GROUPS = frozenset({"CO", "OA", "PI", "PR", "CR"})
MAX_ERRORS = 300


@dataclass
class ParsedAdjustment:
    segment: int
    group: str
    reason_code: str
    amount: Decimal
    quantity: Decimal | None


@dataclass
class ParsedRemark:
    segment: int
    source: str
    code: str


@dataclass
class ParsedLine:
    segment: int
    procedure_code: str
    modifiers: list[str]
    charge: Decimal
    paid: Decimal
    units: Decimal
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    allowed_given: Decimal | None = None  # AMT*B6
    adjustments: list[ParsedAdjustment] = field(default_factory=list)
    remarks: list[ParsedRemark] = field(default_factory=list)

    @property
    def patient_responsibility(self) -> Decimal:
        return sum((a.amount for a in self.adjustments if a.group == "PR"), ZERO)

    @property
    def allowed(self) -> Decimal:
        """AMT*B6 when the payer sent it, else what was paid plus the patient's share."""
        if self.allowed_given is not None:
            return self.allowed_given
        return self.paid + self.patient_responsibility


@dataclass
class ParsedClaimPayment:
    segment: int
    patient_control_number: str  # CLP01
    status_code: str  # CLP02
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility_given: Decimal | None  # CLP05, None when blank
    filing_indicator: str  # CLP06
    payer_claim_number: str  # CLP07
    patient_last_name: str = ""
    patient_first_name: str = ""
    member_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    adjustments: list[ParsedAdjustment] = field(default_factory=list)  # claim level
    lines: list[ParsedLine] = field(default_factory=list)
    remarks: list[ParsedRemark] = field(default_factory=list)

    def all_adjustments(self) -> list[ParsedAdjustment]:
        return [*self.adjustments, *(a for line in self.lines for a in line.adjustments)]

    @property
    def patient_responsibility(self) -> Decimal:
        """CLP05, or the sum of the PR adjustments when CLP05 is blank."""
        if self.patient_responsibility_given is not None:
            return self.patient_responsibility_given
        return sum((a.amount for a in self.all_adjustments() if a.group == "PR"), ZERO)

    @property
    def adjusted(self) -> Decimal:
        """Adjustments other than the patient's share (contractual, payer, other)."""
        return sum((a.amount for a in self.all_adjustments() if a.group != "PR"), ZERO)

    @property
    def allowed(self) -> Decimal:
        if self.lines:
            claim_level = sum((a.amount for a in self.adjustments if a.group != "PR"), ZERO)
            return sum((line.allowed for line in self.lines), ZERO) - claim_level
        return self.charge - self.adjusted

    @property
    def is_reversal(self) -> bool:
        return self.status_code == "22"


@dataclass
class ParsedProviderAdjustment:
    segment: int
    provider_identifier: str
    fiscal_period_date: dt.date | None
    reason_code: str
    reference: str
    amount: Decimal


@dataclass
class ParsedRemittance:
    method: str = ""
    amount: Decimal = ZERO
    payment_date: dt.date | None = None
    trace: str = ""
    payer_id: str = ""
    payer_name: str = ""
    payee_name: str = ""
    payee_npi: str = ""
    claims: list[ParsedClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ParsedProviderAdjustment] = field(default_factory=list)
    # Segments the guide does not define, inside the transaction: skipped, reported.
    skipped: list[X12Error] = field(default_factory=list)


def _d8(segment: Segment, n: int) -> dt.date:
    value = segment.el(n)
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise segment.error(f"{segment.id}{n:02d} {value!r} is not a CCYYMMDD date") from None


class _Parser:
    """Walks the segments once; a problem in one segment is recorded and the walk goes on."""

    def __init__(self) -> None:
        self.result = ParsedRemittance()
        self.errors: list[X12Error] = []
        self.more = 0
        self.claim: ParsedClaimPayment | None = None
        self.line: ParsedLine | None = None
        self.n1 = ""
        self.st_index = 0
        self.st_control = ""
        self.seen_st = False
        self.seen_bpr = False
        self.seen_trn = False
        self.seen_se = False

    def problem(self, error: X12Error) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)
        else:
            self.more += 1

    def run(self, segments: list[Segment]) -> ParsedRemittance:
        segments = self._first_set(segments)
        for segment in segments:
            handler = getattr(self, f"seg_{segment.id}", None)
            if handler is None:
                continue
            try:
                handler(segment)
            except X12Error as exc:
                self.problem(exc)
        last = segments[-1] if segments else None
        if not self.seen_st:
            self.problem(X12Error(1, "ST", "no ST segment: this is not an 835 transaction"))
        elif not self.seen_se and last is not None:
            self.problem(last.error("the transaction has no SE segment"))
        if self.seen_st and not self.seen_bpr:
            self.problem(X12Error(self.st_index, "ST", "the transaction has no BPR segment"))
        if self.seen_st and not self.seen_trn:
            self.problem(X12Error(self.st_index, "ST", "the transaction has no TRN segment"))
        return self.result

    def _first_set(self, segments: list[Segment]) -> list[Segment]:
        """Several transaction sets (ST..SE) in one interchange: each would be its own
        remittance (its own payment and trace). A file posts all or nothing under one
        batch key, so such a file is refused whole, naming every set; the first set is
        still checked so that its own problems are listed too."""
        starts = [n for n, s in enumerate(segments) if s.id == "ST"]
        if len(starts) < 2:
            return segments
        sets = []
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(segments)
            trace = next((s.el(2) for s in segments[start:end] if s.id == "TRN"), "")
            sets.append(f"ST at segment {segments[start].index} (trace {trace or 'none'})")
        self.problem(
            segments[starts[1]].error(
                f"the interchange holds {len(starts)} transaction sets: "
                f"{'; '.join(sets)}. Each is its own remittance: nothing in this file was "
                "posted; send one 835 transaction set per file"
            )
        )
        return segments[: starts[1]]

    # Envelope
    def seg_ST(self, s: Segment) -> None:
        if self.seen_st:
            raise s.error("a second ST: send one 835 transaction per file")
        if s.el(1) != "835":
            raise s.error(f"ST01 {s.el(1)!r} is not 835 (a claim payment/advice)")
        self.seen_st, self.st_index, self.st_control = True, s.index, s.el(2)

    def seg_SE(self, s: Segment) -> None:
        self.seen_se = True
        self._end_claim()
        expected = s.index - self.st_index + 1
        if s.el(1) != str(expected):
            raise s.error(f"SE01 says {s.el(1)} segments, the transaction has {expected}")
        if s.el(2) != self.st_control:
            raise s.error(f"SE02 {s.el(2)!r} does not match ST02 {self.st_control!r}")

    # Header
    def seg_BPR(self, s: Segment) -> None:
        self.seen_bpr = True
        self.result.amount = s.number(2, "total payment")
        if s.el(3) not in ("C", "D"):
            raise s.error(f"BPR03 {s.el(3)!r} is not C (credit) or D (debit)")
        self.result.method = s.el(4)
        if s.el(16):
            self.result.payment_date = _d8(s, 16)

    def seg_TRN(self, s: Segment) -> None:
        self.seen_trn = True
        if not s.el(2):
            raise s.error("TRN02 (the check or EFT trace number) is empty")
        self.result.trace = s.el(2)
        self.result.payer_id = s.el(3)

    def seg_N1(self, s: Segment) -> None:
        self.n1 = s.el(1)
        if self.claim is not None:
            return
        if s.el(1) == "PR":
            self.result.payer_name = s.el(2)
        elif s.el(1) == "PE":
            self.result.payee_name = s.el(2)
            self.result.payee_npi = s.el(4)

    def seg_REF(self, s: Segment) -> None:
        # The payer's additional id (REF*2U) when TRN03 is blank.
        if self.claim is None and self.n1 == "PR" and s.el(1) == "2U" and not self.result.payer_id:
            self.result.payer_id = s.el(2)

    def seg_LX(self, s: Segment) -> None:
        self._end_claim()

    # Claims
    def _end_claim(self) -> None:
        claim, self.claim, self.line = self.claim, None, None
        if claim is None:
            return
        for line in claim.lines:
            line_adj = sum((a.amount for a in line.adjustments), ZERO)
            diff = line.charge - line.paid - line_adj
            if diff:
                self.problem(
                    X12Error(
                        line.segment,
                        "SVC",
                        f"service line {line.procedure_code} of claim "
                        f"{claim.patient_control_number} does not balance: charge "
                        f"{line.charge} - paid {line.paid} - adjustments {line_adj} = {diff}",
                    )
                )
        adjustments = sum((a.amount for a in claim.all_adjustments()), ZERO)
        diff = claim.charge - claim.paid - adjustments
        if diff:
            self.problem(
                X12Error(
                    claim.segment,
                    "CLP",
                    f"claim {claim.patient_control_number} does not balance: charge "
                    f"{claim.charge} - paid {claim.paid} - adjustments {adjustments} = {diff}",
                )
            )

    def seg_CLP(self, s: Segment) -> None:
        self._end_claim()
        if not s.el(1):
            raise s.error("CLP01 (our claim number) is empty")
        status = s.el(2)
        if not status.isdigit():
            raise s.error(f"CLP02 claim status {status!r} is not a status code")
        self.claim = ParsedClaimPayment(
            segment=s.index,
            patient_control_number=s.el(1),
            status_code=status,
            charge=s.number(3, "charge"),
            paid=s.number(4, "payment"),
            patient_responsibility_given=s.optional_number(5, "patient responsibility"),
            filing_indicator=s.el(6),
            payer_claim_number=s.el(7),
        )
        self.result.claims.append(self.claim)

    def _need_claim(self, s: Segment) -> ParsedClaimPayment:
        if self.claim is None:
            raise s.error(f"{s.id} outside a claim payment (no CLP before it)")
        return self.claim

    def seg_CAS(self, s: Segment) -> None:
        claim = self._need_claim(s)
        group = s.el(1)
        if group not in GROUPS:
            raise s.error(f"CAS01 group {group!r} is not one of CO, OA, PI, PR, CR")
        found = []
        for n in range(2, 20, 3):
            if not s.el(n):
                continue
            found.append(
                ParsedAdjustment(
                    segment=s.index,
                    group=group,
                    reason_code=s.el(n),
                    amount=s.number(n + 1, "adjustment amount"),
                    quantity=s.optional_number(n + 2, "adjustment quantity"),
                )
            )
        if not found:
            raise s.error("CAS has no reason code and amount")
        target = self.line.adjustments if self.line is not None else claim.adjustments
        target.extend(found)

    def seg_NM1(self, s: Segment) -> None:
        if self.claim is not None and s.el(1) == "QC":
            self.claim.patient_last_name = s.el(3)
            self.claim.patient_first_name = s.el(4)
            self.claim.member_id = s.el(9)

    def seg_MOA(self, s: Segment) -> None:
        claim = self._need_claim(s)
        for n in range(3, 8):
            if s.el(n):
                claim.remarks.append(ParsedRemark(s.index, "MOA", s.el(n)))

    def seg_MIA(self, s: Segment) -> None:
        claim = self._need_claim(s)
        for n in (5, 20, 21, 22, 23):
            if s.el(n):
                claim.remarks.append(ParsedRemark(s.index, "MIA", s.el(n)))

    def seg_DTM(self, s: Segment) -> None:
        if self.claim is None:
            return
        qualifier = s.el(1)
        if self.line is not None:
            if qualifier in ("472", "150"):
                self.line.date_from = _d8(s, 2)
                if qualifier == "472":
                    self.line.date_to = self.line.date_from
            elif qualifier == "151":
                self.line.date_to = _d8(s, 2)
        elif qualifier == "232":
            self.claim.date_from = _d8(s, 2)
        elif qualifier == "233":
            self.claim.date_to = _d8(s, 2)

    def seg_AMT(self, s: Segment) -> None:
        if self.line is not None and s.el(1) == "B6":
            self.line.allowed_given = s.number(2, "allowed amount")

    def seg_SVC(self, s: Segment) -> None:
        claim = self._need_claim(s)
        parts = s.comp(1)
        if len(parts) < 2 or not parts[1]:
            raise s.error(f"SVC01 {s.el(1)!r} has no procedure code")
        self.line = ParsedLine(
            segment=s.index,
            procedure_code=parts[1],
            modifiers=[m for m in parts[2:6] if m],
            charge=s.number(2, "line charge"),
            paid=s.number(3, "line payment"),
            units=s.optional_number(5, "units") or Decimal("1"),
        )
        claim.lines.append(self.line)

    def seg_LQ(self, s: Segment) -> None:
        if self.line is None:
            raise s.error("LQ outside a service line")
        if s.el(1) == "HE" and s.el(2):
            self.line.remarks.append(ParsedRemark(s.index, "LQ", s.el(2)))

    def seg_PLB(self, s: Segment) -> None:
        self._end_claim()
        if not s.el(1):
            raise s.error("PLB01 (the provider identifier) is empty")
        when = _d8(s, 2) if s.el(2) else None
        found = 0
        for n in range(3, 15, 2):
            if not s.el(n):
                continue
            reason = s.comp(n)
            self.result.provider_adjustments.append(
                ParsedProviderAdjustment(
                    segment=s.index,
                    provider_identifier=s.el(1),
                    fiscal_period_date=when,
                    reason_code=reason[0],
                    reference=reason[1] if len(reason) > 1 else "",
                    amount=s.number(n + 1, "provider adjustment amount"),
                )
            )
            found += 1
        if not found:
            raise s.error("PLB has no adjustment reason and amount")


def parse_835_checked(text: str) -> ParsedRemittance:
    """The checked walk: segment by segment, every problem recorded with its number."""
    skipped: list[X12Error] = []
    _delims, _isa, segments = tokenize(text, known=KNOWN_835, skipped=skipped)
    parser = _Parser()
    result = parser.run(segments)
    result.skipped = skipped
    if not parser.errors and parser.seen_bpr:
        total = sum((c.paid for c in result.claims), ZERO)
        plb = sum((p.amount for p in result.provider_adjustments), ZERO)
        if result.amount != total - plb:
            bpr = next(s for s in segments if s.id == "BPR")
            parser.problem(
                bpr.error(
                    f"the file does not balance: BPR02 {result.amount} is not the claims' "
                    f"payments {total} less provider adjustments {plb} "
                    f"(difference {result.amount - (total - plb)})"
                )
            )
    seen: dict[tuple[str, str], int] = {}
    for claim in result.claims:
        key = (claim.patient_control_number, claim.payer_claim_number)
        if key in seen:
            parser.problem(
                X12Error(
                    claim.segment,
                    "CLP",
                    f"claim {key[0]} with payer claim number {key[1]!r} appears twice "
                    f"(first at segment {seen[key]})",
                )
            )
        seen.setdefault(key, claim.segment)
    if parser.errors:
        parser.errors.sort(key=lambda e: e.segment_index)
        raise X12Errors(parser.errors, parser.more)
    return result
