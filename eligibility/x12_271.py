"""X12 005010X279A1 271 (eligibility response) parsing: pure Python, no database.

``parse_271(text)`` returns a ``ParsedResponse``: per transaction the payer (HL 20) and the
provider it answers (HL 21), and every member (HL 22 subscriber, HL 23 dependent) with
name, date of birth, member id, plan (EB05, REF*18) and group (REF*6P), the benefits (EB:
active / inactive, co-payment, coinsurance, deductible and its remaining amount, limits,
service types) and AAA rejections. ``ParsedMember.result()`` turns a member into the one
``CheckResult`` shape the check page also builds.

Segments come from the claims' tokenizer (``claims.x12.tokenizer``): delimiters, including
the repetition separator that splits EB03 service types, are read from the ISA. A malformed
segment raises ``X12Errors`` with every problem and its segment number: a file is never
applied in part.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from claims.x12.tokenizer import Segment, X12Error, X12Errors, tokenize
from eligibility.results import CheckResult, FrequencyLimit

_SEGMENTS_271 = (
    "ISA IEA GS GE ST SE BHT HL TRN NM1 REF N3 N4 PER PRV DMG INS HI DTP EB HSD MSG III LS LE AAA"
    " EQ"  # a 270's: read, so that a 270 sent by mistake is refused at its GS
)
KNOWN_271 = frozenset(_SEGMENTS_271.split())
MAX_ERRORS = 300
GUIDE = "005010X279"  # GS08/ST03: 005010X279A1 (some senders drop the A1 in ST03)

# EB01 codes that say whether the member is covered.
ACTIVE = frozenset({"1", "2", "3", "4", "5"})
INACTIVE = frozenset({"6", "7", "8"})
COPAY, COINSURANCE, DEDUCTIBLE, LIMITATIONS = "B", "A", "C", "F"
REMAINING = "29"  # EB06 time period qualifier: remaining
CENT = Decimal("0.01")
BENEFIT_LABELS = {
    "1": "active coverage",
    "2": "active, full risk capitation",
    "3": "active, services capitated",
    "4": "active, services capitated to the primary care physician",
    "5": "active, pending investigation",
    "6": "inactive",
    "7": "inactive, pending eligibility update",
    "8": "inactive, pending investigation",
    "A": "coinsurance",
    "B": "co-payment",
    "C": "deductible",
    "F": "limitation",
    "L": "primary care provider",
}

# AAA03 reject reasons and AAA04 follow-up actions, in our own short words.
REJECT_REASONS = {
    "04": "the provider is not authorized to ask about this member",
    "15": "required data is missing from the request",
    "33": "the request had input errors",
    "35": "the provider is out of the payer's network",
    "41": "the payer restricts access to this information",
    "42": "the payer cannot answer right now",
    "43": "the provider's identifier is invalid or missing",
    "44": "the provider's name is invalid or missing",
    "45": "the provider's specialty is invalid or missing",
    "47": "the provider's state is invalid or missing",
    "48": "the referring provider's identifier is invalid or missing",
    "49": "the provider is not the member's primary care provider",
    "50": "the provider may not ask about eligibility",
    "51": "the provider is not on the payer's file",
    "52": "the service dates are outside the provider's plan enrollment",
    "53": "the benefit asked about does not fit the provider type",
    "54": "the service type qualifier is not valid",
    "55": "the service type is not valid",
    "56": "a date in the request is not valid",
    "57": "the dates of service are invalid or missing",
    "58": "the date of birth is invalid or missing",
    "60": "the date of birth is after the date of service",
    "61": "the date of death is before the date of service",
    "62": "the date of service is outside the period the payer answers for",
    "63": "the date of service is in the future",
    "64": "the patient's id is invalid or missing",
    "65": "the patient's name is invalid or missing",
    "66": "the patient's gender is invalid or missing",
    "67": "the payer did not find the patient",
    "68": "the patient's id is on file more than once",
    "69": "the request does not fit the patient's age",
    "70": "the request does not fit the patient's gender",
    "71": "the date of birth does not match the payer's record",
    "72": "the member id is invalid or missing",
    "73": "the subscriber's name is invalid or missing",
    "74": "the subscriber's gender is invalid or missing",
    "75": "the payer did not find the subscriber",
    "76": "the subscriber's id is on file more than once",
    "77": "the payer found the subscriber but not the patient",
    "78": "the subscriber is not in the group or plan asked about",
    "79": "the participant identification is not valid",
    "80": "the payer did not answer: the request ran out of time",
    "97": "the provider's address is invalid or missing",
    "T4": "the payer's name or identifier is missing",
}
FOLLOW_UPS = {
    "C": "correct the request and send it again",
    "N": "do not send it again",
    "P": "send the original request again",
    "R": "it may be sent again",
    "S": "do not send it again; the payer is asking a third party",
    "W": "wait 30 days and send it again",
    "X": "wait 10 days and send it again",
    "Y": "do not send it again; the payer will answer",
}
LOOPS = {"20": "payer", "21": "provider", "22": "subscriber", "23": "dependent"}


@dataclass(frozen=True)
class Rejection:
    """An AAA segment: the payer could not answer (about the member, provider or itself)."""

    segment: int
    about: str  # payer / provider / subscriber / dependent / benefit
    reason_code: str
    follow_up: str = ""

    @property
    def text(self) -> str:
        """``AAA 72: the member id is invalid or missing (correct the request and ...)``."""
        words = REJECT_REASONS.get(self.reason_code, f"reject reason {self.reason_code}")
        follow = FOLLOW_UPS.get(self.follow_up, "")
        return f"AAA {self.reason_code}: {words}" + (f" ({follow})" if follow else "")


@dataclass(frozen=True)
class Benefit:
    """One EB segment."""

    segment: int
    code: str  # EB01
    coverage_level: str = ""  # EB02: IND, FAM, ...
    service_types: tuple[str, ...] = ()  # EB03, split on the repetition separator
    insurance_type: str = ""  # EB04
    plan: str = ""  # EB05 plan coverage description
    period: str = ""  # EB06 time period qualifier (29: remaining)
    amount: Decimal | None = None  # EB07
    percent: Decimal | None = None  # EB08, a fraction (0.2 = 20 %)
    quantity: Decimal | None = None  # EB10
    in_network: str = ""  # EB12: Y, N, U (or "" when not said)
    messages: tuple[str, ...] = ()  # MSG text after the EB

    @property
    def label(self) -> str:
        return BENEFIT_LABELS.get(self.code, f"benefit {self.code}")


@dataclass
class ParsedMember:
    """One subscriber (HL 22) or dependent (HL 23) and what the payer said about them."""

    segment: int  # the member's HL
    level: str  # subscriber / dependent
    payer_name: str = ""
    payer_id: str = ""
    last_name: str = ""
    first_name: str = ""
    member_id: str = ""  # NM1*IL MI (a dependent inherits the subscriber's)
    date_of_birth: dt.date | None = None
    gender: str = ""
    trace: str = ""  # TRN02
    plan_number: str = ""  # REF*18
    group_number: str = ""  # REF*6P
    benefits: list[Benefit] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    dependents: int = 0  # HL 23 children of a subscriber

    @property
    def name(self) -> str:
        return f"{self.last_name}, {self.first_name}".strip(", ")

    @property
    def status(self) -> str:
        """active / inactive / needs_info (a rejection, or no coverage status at all)."""
        if self.rejections:
            return "needs_info"
        codes = {b.code for b in self.benefits}
        if codes & ACTIVE:
            return "active"
        if codes & INACTIVE:
            return "inactive"
        return "needs_info"

    @property
    def has_information(self) -> bool:
        """False for a subscriber the payer says nothing about (only about dependents)."""
        return bool(self.benefits or self.rejections)

    @property
    def plan_name(self) -> str:
        status_codes = ACTIVE | INACTIVE
        plans = [b.plan for b in self.benefits if b.plan and b.code in status_codes]
        plans = plans or [b.plan for b in self.benefits if b.plan]
        return plans[0] if plans else self.plan_number

    @property
    def service_types(self) -> list[str]:
        found: list[str] = []
        for benefit in self.benefits:
            if benefit.code in ACTIVE | INACTIVE:
                found.extend(t for t in benefit.service_types if t not in found)
        return found

    def _amount(self, code: str, *, remaining: bool, percent: bool = False) -> Decimal | None:
        """The in-network individual amount of a benefit (else the first one given)."""
        rows = [
            b
            for b in self.benefits
            if b.code == code
            and (b.percent if percent else b.amount) is not None
            and (b.period == REMAINING) == remaining
        ]
        # In network first, then the individual's amount before the family's.
        rows.sort(
            key=lambda b: (
                0 if b.in_network == "Y" else 1 if not b.in_network else 2,
                0 if b.coverage_level in ("", "IND") else 1,
            )
        )
        if not rows:
            return None
        return rows[0].percent if percent else rows[0].amount

    def result(self) -> CheckResult:
        """What the payer said, in the shape every verification records."""
        coinsurance = self._amount(COINSURANCE, remaining=False, percent=True)
        if coinsurance is not None and coinsurance <= 1:
            coinsurance *= 100  # X12 sends 0.2 for 20 %
        limits = tuple(
            FrequencyLimit(description=" ".join(b.messages) or _limit_text(b))
            for b in self.benefits
            if b.code == LIMITATIONS and b.period != REMAINING and (b.quantity or b.messages)
        )
        problems = tuple(r.text for r in self.rejections)
        if not problems and self.status == "needs_info":
            problems = ("the 271 gives no coverage status (EB01 1-8) for this member",)
        return CheckResult(
            status=self.status,
            method="x12_271",
            plan_name=self.plan_name[:200],
            group_number=self.group_number,
            member_id=self.member_id,
            reference=self.trace,
            copay=self._amount(COPAY, remaining=False),
            coinsurance_percent=coinsurance.quantize(CENT) if coinsurance is not None else None,
            deductible=self._amount(DEDUCTIBLE, remaining=False),
            deductible_remaining=self._amount(DEDUCTIBLE, remaining=True),
            annual_max_remaining=self._amount(LIMITATIONS, remaining=True),
            frequency_limits=limits,
            problems=problems,
            note=f"271 from {self.payer_name}".strip() if self.payer_name else "271",
            raw={
                "segment": self.segment,
                "level": self.level,
                "service_types": self.service_types,
                "benefits": [
                    {
                        "segment": b.segment,
                        "code": b.code,
                        "label": b.label,
                        "service_types": list(b.service_types),
                        "amount": str(b.amount) if b.amount is not None else None,
                        "percent": str(b.percent) if b.percent is not None else None,
                        "period": b.period,
                        "in_network": b.in_network,
                    }
                    for b in self.benefits
                ],
            },
        )


def _limit_text(benefit: Benefit) -> str:
    types = ", ".join(benefit.service_types)
    return f"{benefit.quantity} per period {benefit.period or '?'}" + (
        f" (service types {types})" if types else ""
    )


@dataclass
class ParsedResponse:
    members: list[ParsedMember] = field(default_factory=list)
    # AAA about the payer or provider (HL 20/21): the payer answered nobody below them.
    rejections: list[Rejection] = field(default_factory=list)
    payer_names: list[str] = field(default_factory=list)


def _d8(segment: Segment, n: int) -> dt.date:
    value = segment.el(n)
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise segment.error(f"{segment.id}{n:02d} {value!r} is not a CCYYMMDD date") from None


class _Parser:
    def __init__(self, repetition: str | None) -> None:
        self.repetition = repetition
        self.result = ParsedResponse()
        self.errors: list[X12Error] = []
        self.more = 0
        self.level = ""  # the current HL's loop: payer / provider / subscriber / dependent
        self.in_benefit = False
        self.payer = ("", "")
        self.member: ParsedMember | None = None
        self.subscriber: ParsedMember | None = None
        self.hl_ids: dict[str, str] = {}  # HL01 -> HL03
        self.st: Segment | None = None
        self.gs: Segment | None = None
        self.st_count = self.gs_count = 0
        self.seen_st = self.seen_iea = False

    def problem(self, error: X12Error) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)
        else:
            self.more += 1

    def run(self, isa: list[str], segments: list[Segment]) -> ParsedResponse:
        self.isa = isa
        for segment in segments[1:]:
            try:
                if self.seen_iea:
                    raise segment.error("data after the IEA interchange trailer")
                handler = getattr(self, f"seg_{segment.id}", None)
                if segment.id not in ("GS", "GE", "IEA", "ISA") and self.gs is None:
                    raise segment.error("segment outside a functional group (GS/GE)")
                if segment.id not in ("GS", "GE", "IEA", "ISA", "ST") and self.st is None:
                    raise segment.error("segment outside a transaction set (ST/SE)")
                if handler is not None:
                    handler(segment)
            except X12Error as exc:
                self.problem(exc)
        end = len(segments) + 1
        if not self.seen_st:
            self.problem(X12Error(1, "ST", "no ST segment: this is not a 271 transaction"))
        elif self.st is not None:
            self.problem(X12Error(end, "SE", "missing SE trailer: the transaction is not closed"))
        elif not self.seen_iea:
            self.problem(X12Error(end, "IEA", "missing IEA trailer: the interchange is not closed"))
        return self.result

    # Envelopes.
    def seg_ISA(self, s: Segment) -> None:
        raise s.error("only one interchange (ISA) per input is supported")

    def seg_GS(self, s: Segment) -> None:
        if self.gs is not None:
            raise s.error(f"missing GE trailer: group {self.gs.el(6)!r} is not closed")
        self.gs, self.st_count = s, 0
        self.gs_count += 1
        if s.el(1) != "HB" or not s.el(8).startswith(GUIDE):
            raise s.error(
                f"GS01 {s.el(1)!r} / GS08 {s.el(8)!r} is not a 271 (expected HB, 005010X279A1)"
            )

    def seg_GE(self, s: Segment) -> None:
        if self.gs is None:
            raise s.error("GE without a GS")
        if self.st is not None:
            raise s.error(f"missing SE trailer: transaction {self.st.el(2)!r} is not closed")
        if s.el(1) != str(self.st_count) or s.el(2) != self.gs.el(6):
            raise s.error(
                f"GE {s.el(1)!r}/{s.el(2)!r} does not match {self.st_count} transaction(s) "
                f"in group {self.gs.el(6)!r}"
            )
        self.gs = None

    def seg_IEA(self, s: Segment) -> None:
        if self.gs is not None:
            raise s.error(f"missing GE trailer: group {self.gs.el(6)!r} is not closed")
        if s.el(1) != str(self.gs_count) or s.el(2) != self.isa[12]:
            raise s.error(
                f"IEA {s.el(1)!r}/{s.el(2)!r} does not match {self.gs_count} group(s) in "
                f"interchange {self.isa[12]!r}"
            )
        self.seen_iea = True

    def seg_ST(self, s: Segment) -> None:
        if self.st is not None:
            raise s.error(f"missing SE trailer: transaction {self.st.el(2)!r} is not closed")
        self.seen_st, self.st = True, s
        self.st_count += 1
        self.level, self.member, self.subscriber, self.hl_ids = "", None, None, {}
        if s.el(1) != "271":
            raise s.error(f"ST01 {s.el(1)!r} is not 271 (an eligibility response)")
        if s.el(3) and not s.el(3).startswith(GUIDE):
            raise s.error(f"ST03 {s.el(3)!r} is not 005010X279A1 (the 271 guide)")

    def seg_SE(self, s: Segment) -> None:
        assert self.st is not None
        expected = s.index - self.st.index + 1
        st, self.st = self.st, None
        if s.el(1) != str(expected):
            raise s.error(f"SE01 says {s.el(1)} segments, the transaction has {expected}")
        if s.el(2) != st.el(2):
            raise s.error(f"SE02 {s.el(2)!r} does not match ST02 {st.el(2)!r}")

    # Loops.
    def seg_HL(self, s: Segment) -> None:
        code = s.el(3)
        self.in_benefit, self.member = False, None
        if code not in LOOPS:
            self.level = ""
            raise s.error(f"HL03 {code!r} is not 20, 21, 22 or 23")
        parent = s.el(2)
        if code != "20" and self.hl_ids.get(parent) != {"21": "20", "22": "21", "23": "22"}[code]:
            self.level = ""
            raise s.error(f"HL02 {parent!r}: the {LOOPS[code]} loop has no parent {LOOPS[code]}")
        self.hl_ids[s.el(1)] = code
        self.level = LOOPS[code]
        if code in ("22", "23"):
            self.member = ParsedMember(
                segment=s.index, level=self.level, payer_name=self.payer[0], payer_id=self.payer[1]
            )
            if code == "22":
                self.subscriber = self.member
            elif self.subscriber is not None:
                self.subscriber.dependents += 1
                self.member.member_id = self.subscriber.member_id
                self.member.group_number = self.subscriber.group_number
            self.result.members.append(self.member)

    def seg_NM1(self, s: Segment) -> None:
        if self.in_benefit:
            return  # a benefit's related entity (2120C/D), e.g. the primary care provider
        if self.level == "payer":
            self.payer = (s.el(3), s.el(9))
            self.result.payer_names.append(s.el(3))
        elif self.member is not None and s.el(1) in ("IL", "03"):
            self.member.last_name, self.member.first_name = s.el(3), s.el(4)
            if s.el(9):
                if s.el(8) not in ("MI", "II"):
                    raise s.error(f"NM108 {s.el(8)!r}: the member id qualifier must be MI")
                self.member.member_id = s.el(9)

    def seg_TRN(self, s: Segment) -> None:
        if self.member is not None and s.el(1) == "2" and not self.member.trace:
            self.member.trace = s.el(2)

    def seg_REF(self, s: Segment) -> None:
        if self.member is None or self.in_benefit:
            return
        if s.el(1) == "18":
            self.member.plan_number = s.el(2)
        elif s.el(1) == "6P" or s.el(1) in ("1L", "IG") and not self.member.group_number:
            self.member.group_number = s.el(2)

    def seg_DMG(self, s: Segment) -> None:
        if self.member is None or not s.el(2):
            return
        if s.el(1) != "D8":
            raise s.error(f"DMG01 {s.el(1)!r}: the date of birth format must be D8")
        self.member.date_of_birth = _d8(s, 2)
        self.member.gender = s.el(3)

    def seg_EB(self, s: Segment) -> None:
        if self.member is None:
            raise s.error("EB outside a subscriber or dependent (no HL*22/23 before it)")
        code = s.el(1)
        if not code:
            raise s.error("EB01 (the eligibility or benefit code) is empty")
        types = s.el(3).split(self.repetition) if s.el(3) and self.repetition else [s.el(3)]
        network = s.el(12)
        if network not in ("", "Y", "N", "U", "W"):
            raise s.error(f"EB12 {network!r} is not Y, N, U or W (in network)")
        self.member.benefits.append(
            Benefit(
                segment=s.index,
                code=code,
                coverage_level=s.el(2),
                service_types=tuple(t for t in types if t),
                insurance_type=s.el(4),
                plan=s.el(5),
                period=s.el(6),
                amount=s.optional_number(7, "benefit amount"),
                percent=s.optional_number(8, "benefit percent"),
                quantity=s.optional_number(10, "benefit quantity"),
                in_network=network,
            )
        )
        self.in_benefit = True

    def seg_MSG(self, s: Segment) -> None:
        if self.member is not None and self.in_benefit and self.member.benefits and s.el(1):
            last = self.member.benefits[-1]
            self.member.benefits[-1] = Benefit(
                **{**last.__dict__, "messages": (*last.messages, s.el(1))}
            )

    def seg_AAA(self, s: Segment) -> None:
        if s.el(1) not in ("Y", "N"):
            raise s.error(f"AAA01 {s.el(1)!r} is not Y or N")
        if not s.el(3):
            raise s.error("AAA03 (the reject reason) is empty")
        about = "benefit" if self.in_benefit else self.level or "payer"
        rejection = Rejection(s.index, about, s.el(3), s.el(4))
        if self.member is not None:
            self.member.rejections.append(rejection)
        else:
            self.result.rejections.append(rejection)


def parse_271(text: str) -> ParsedResponse:
    """Parse one 271 interchange; every problem raises together in ``X12Errors``."""
    delims, isa, segments = tokenize(text, known=KNOWN_271)
    parser = _Parser(delims.repetition)
    result = parser.run(isa, segments)
    if parser.errors:
        parser.errors.sort(key=lambda e: e.segment_index)
        raise X12Errors(parser.errors, parser.more)
    return result
