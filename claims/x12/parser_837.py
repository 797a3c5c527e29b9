"""Parse 837P (005010X222A1/A2) and 837D (005010X224A2/A3) claim batches.

``parse_837`` checks the envelope (ISA/IEA, GS/GE, ST/SE counts and control numbers,
GS08 version) and walks the HL tree: 2000A billing provider (NM1*85), 2000B subscriber
(SBR, NM1*IL, DMG, NM1*PR payer), 2000C patient (PAT, NM1*QC, DMG), 2300 claim (CLM,
DTP*472, HI, NM1*82 rendering provider), 2320/2330B other payers (SBR, CAS, AMT*D,
NM1*PR), 2400 lines (LX, SV1/SV3, TOO, DTP*472) and 2430 line adjudication (SVD, CAS,
DTP*573). Other segments are tokenized and checked but not read.

Limitations: one interchange (ISA/IEA) per input; all functional groups must be the same
kind; addresses, referring/line-level providers, attachments etc. are skipped; element
repetitions (ISA11) are validated as a delimiter but no element read here uses them.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from claims.x12.model import (
    Adjustment,
    Batch,
    LineAdjudication,
    OtherPayer,
    ParsedClaim,
    ParsedLine,
    Patient,
    Subscriber,
    Tooth,
)
from claims.x12.rules import OrderCheck, check_segment
from claims.x12.tokenizer import Segment, X12Error, X12Errors, tokenize

_KINDS = {"005010X222": "837P", "005010X224": "837D"}
_DIAGNOSIS_QUALIFIERS = {"ABK", "ABF", "BK", "BF"}
_COB_ORDER = {code: n for n, code in enumerate("PSTABCDEFGH", start=1)}
# Problems listed per file: enough to fix a file in one pass.
MAX_PROBLEMS = 200
# After an error in one of these, the rest of its loop is skipped (it would only repeat it).
_LINE_SEGMENTS = frozenset({"LX", "SV1", "SV3", "TOO", "SVD", "CAS"})


class Problems:
    """The problems of one input, up to a limit; raised together as ``X12Errors``."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.limit = limit
        self.found: list[X12Error] = []
        self.more = 0

    def add(self, error: X12Error) -> None:
        if len(self.found) < self.limit:
            self.found.append(error)
        else:
            self.more += 1

    def raise_if_any(self, error: X12Error | None = None) -> None:
        if error is not None:
            self.add(error)
        if self.found:
            ordered = sorted(self.found, key=lambda e: e.segment_index)
            raise X12Errors(ordered, self.more)


def parse_837(
    text: str, *, max_problems: int = MAX_PROBLEMS, drop: Sequence[tuple[int, int]] = ()
) -> Batch:
    """Parse an 837P or 837D interchange; raises X12Errors listing every problem found
    (up to ``max_problems``), in segment order. A broken envelope stops the reading.

    The cyclic garbage collector is held off while it runs: the segments and the parsed
    claims form no reference cycles, and the collector only rescanned the growing heap
    (10,000 claims: 3.1 -> 2.0 CPU s).

    ``drop``: the (first, last) segment positions of claims not to read (whole claims from
    ``claims.x12.spans.claim_spans``, which the caller already knows); they are not in the
    batch, and the envelope's counts still hold."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        delims, isa, segments = tokenize(text, drop=drop)
        problems = Problems(max_problems)
        try:
            return _parse(delims, isa, segments, problems)
        except X12Errors:
            raise
        except X12Error as exc:
            problems.raise_if_any(exc)
            raise
    finally:
        if enabled:
            gc.enable()


def _parse(delims: Any, isa: list[str], segments: list[Segment], problems: Problems) -> Batch:
    walker = _ClaimWalker(problems)
    order = OrderCheck()
    gs: Segment | None = None
    st: Segment | None = None
    kind = implementation = None
    gs_count = st_count = 0
    iea_seen = False
    for seg in segments[1:]:
        sid = seg.id
        if iea_seen:
            raise seg.error("data after the IEA interchange trailer")
        if st is not None and sid in ("GS", "GE", "IEA", "ST", "ISA"):
            reason = f"transaction set ST02 {st.el(2)!r} (segment {st.index}) is not closed"
            raise seg.error(f"missing SE trailer: {reason}")
        if gs is not None and sid in ("GS", "IEA", "ISA"):
            reason = f"functional group GS06 {gs.el(6)!r} (segment {gs.index}) is not closed"
            raise seg.error(f"missing GE trailer: {reason}")
        if sid == "ISA":
            raise seg.error("only one interchange (ISA) per input is supported")
        if sid == "GS":
            version = seg.el(8)
            group_kind = _KINDS.get(version[:10]) if seg.el(1) == "HC" else None
            if group_kind is None:
                raise seg.error(
                    f"GS08 {version!r} (GS01 {seg.el(1)!r}) is not an 837P/837D version "
                    "(expected GS01 HC with 005010X222A1/A2 or 005010X224A2/A3)"
                )
            if kind and group_kind != kind:
                raise seg.error(f"mixes {group_kind} with {kind} groups in one interchange")
            kind, implementation, gs, st_count = group_kind, version, seg, 0
            gs_count += 1
        elif sid == "GE":
            if gs is None:
                raise seg.error("GE without a GS")
            if not _is_count(seg.el(1), st_count) or seg.el(2) != gs.el(6):
                raise seg.error(
                    f"GE {seg.el(1)!r}/{seg.el(2)!r} does not match {st_count} transaction "
                    f"set(s) in group {gs.el(6)!r}"
                )
            gs = None
        elif sid == "IEA":
            if not _is_count(seg.el(1), gs_count) or seg.el(2) != isa[12]:
                raise seg.error(
                    f"IEA {seg.el(1)!r}/{seg.el(2)!r} does not match {gs_count} group(s) "
                    f"in interchange {isa[12]!r}"
                )
            iea_seen = True
        elif gs is None:
            raise seg.error("segment outside a functional group (GS/GE)")
        elif sid == "ST":
            if seg.el(1) != "837" or seg.el(3) not in ("", implementation):
                raise seg.error(f"ST {seg.el(1)!r} {seg.el(3)!r} is not an 837 {implementation}")
            st, st_count = seg, st_count + 1
            walker.start(seg, kind)
        elif st is None:
            raise seg.error("segment outside a transaction set (ST/SE)")
        elif sid == "SE":
            count = seg.index - st.index + 1
            if not _is_count(seg.el(1), count) or seg.el(2) != st.el(2):
                raise seg.error(
                    f"SE count/control {seg.el(1)!r}/{seg.el(2)!r} does not match "
                    f"{count} segments in transaction set {st.el(2)!r}"
                )
            walker.close_claim()
            st = None
        else:
            for problem in check_segment(seg) + order.check(seg):
                problems.add(problem)
            walker.feed(seg)
    end = len(segments) + 1
    if st is not None:
        reason = f"transaction set ST02 {st.el(2)!r} (segment {st.index}) is not closed"
        raise X12Error(end, "SE", f"missing SE trailer: {reason}")
    if gs is not None:
        reason = f"functional group GS06 {gs.el(6)!r} (segment {gs.index}) is not closed"
        raise X12Error(end, "GE", f"missing GE trailer: {reason}")
    if not iea_seen:
        raise X12Error(end, "IEA", f"missing IEA trailer: interchange {isa[12]!r} is not closed")
    if kind is None or implementation is None:
        raise X12Error(end, "GS", "interchange holds no functional group")
    problems.raise_if_any()
    return Batch(
        kind=kind,
        sender_id=isa[5].strip(),
        receiver_id=isa[7].strip(),
        interchange_control_number=isa[12],
        implementation=implementation,
        delimiters=delims,
        claims=tuple(walker.claims),
        transaction_type=walker.transaction_type or "CH",
    )


def _is_count(value: str, expected: int) -> bool:
    return value.isdigit() and int(value) == expected


def _npi(seg: Segment) -> str | None:
    return seg.el(9) if seg.el(8) == "XX" and seg.el(9) else None


def _adjustments(seg: Segment) -> list[Adjustment]:
    """CAS01 group, then up to six (reason, amount, quantity) triplets."""
    return [
        Adjustment(seg.el(1), seg.el(n), seg.number(n + 1, "adjustment amount"))
        for n in range(2, 20, 3)
        if seg.el(n)
    ]


class _ClaimWalker:
    """Walks the 837 HL tree (2000A/B/C) and claim loops (2300/2320/2400/2430)."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.claims: list[ParsedClaim] = []
        self.kind = "837P"
        self.claim: dict | None = None
        self.resume_at: tuple[str, ...] = ()
        self.transaction_type: str | None = None  # BHT06: CH chargeable, RP encounter
        # segment id -> its handler, found once (not a getattr per segment)
        self.handlers: dict[str, Any] = {
            name[4:].upper(): getattr(self, name) for name in dir(self) if name.startswith("_on_")
        }

    def start(self, st: Segment, kind: str) -> None:
        self.kind, self.st = kind, st
        self.level: str | None = None
        self.billing_npi: str | None = None
        self.subscribers: dict[str, dict] = {}
        self.sub: dict | None = None
        self.pat: dict | None = None
        self.claim = None

    def feed(self, seg: Segment) -> None:
        if self.resume_at and seg.id not in self.resume_at:
            return
        self.resume_at = ()
        handler = self.handlers.get(seg.id)
        if handler is None:
            return
        try:
            handler(seg)
        except X12Error as exc:
            self.problems.add(exc)
            # Keep reading to find the file's other problems, but never emit this claim;
            # skip what would only repeat the error (the lines of a claim that failed).
            if self.claim is not None:
                self.claim["broken"] = True
            if seg.id == "CLM" or (self.claim is None and seg.id in _LINE_SEGMENTS):
                self.resume_at = ("HL", "CLM")
            elif seg.id in ("LX", "SV1", "SV3"):
                self.resume_at = ("HL", "CLM", "LX")

    def _on_bht(self, seg: Segment) -> None:
        kinds = {self.transaction_type, seg.el(6)} - {None}
        if len(kinds) > 1:
            raise seg.error("BHT06 mixes encounters (RP) and claims (CH) in one file")
        self.transaction_type = seg.el(6) or None

    def _on_ref(self, seg: Segment) -> None:
        c = self.claim
        if c is not None and c["loop"] == "2300" and seg.el(1) == "F8":
            c["payer_claim_number"] = seg.el(2) or None

    def _on_hl(self, seg: Segment) -> None:
        self.close_claim()
        level, parent = seg.el(3), seg.el(2)
        if level == "20":
            self.billing_npi, self.sub = None, None
        elif level == "22":
            if self.level is None:
                raise seg.error("subscriber HL (22) before any billing provider HL (20)")
            self.sub = {"hl": seg.el(1)}
            self.subscribers[seg.el(1)] = self.sub
        elif level == "23":
            if parent not in self.subscribers:
                raise seg.error(f"patient HL (23) parent {parent!r} is not a subscriber HL")
            self.sub = self.subscribers[parent]
        else:
            raise seg.error(f"HL03 level {level!r} is not 20, 22 or 23")
        self.level, self.pat = level, ({} if level == "23" else None)

    def _on_nm1(self, seg: Segment) -> None:
        q, c = seg.el(1), self.claim
        names = {"last_name": seg.el(3) or None, "first_name": seg.el(4) or None}
        if c is None:
            if self.level == "20" and q == "85":
                self.billing_npi = _npi(seg)
            elif self.level == "22" and q == "IL" and self.sub is not None:
                self.sub.update(names, member_id=seg.el(9) or None)
            elif self.level == "22" and q == "PR" and self.sub is not None:
                self.sub.update(payer_name=seg.el(3) or None, payer_id=seg.el(9) or None)
            elif self.level == "23" and q == "QC" and self.pat is not None:
                self.pat.update(names)
        elif c["loop"] == "2300" and q == "82":
            c["rendering_npi"] = _npi(seg)
        elif c["loop"] == "2320" and q == "PR":
            c["other_payers"][-1].update(payer_name=seg.el(3) or None, payer_id=seg.el(9) or None)

    def _on_dmg(self, seg: Segment) -> None:
        target = self.pat if self.level == "23" else self.sub
        if self.claim is None and target is not None and seg.el(2):
            target["dob"] = seg.dates(1, 2)[0]

    def _on_sbr(self, seg: Segment) -> None:
        c = self.claim
        if c is None and self.level == "22" and self.sub is not None:
            self.sub.update(responsibility=seg.el(1), relationship=seg.el(2), group=seg.el(3))
        elif c is not None:
            if c["loop"] not in ("2300", "2320"):
                raise seg.error("other subscriber SBR (loop 2320) after the service lines")
            other = {"responsibility": seg.el(1), "adjustments": []}
            c["loop"] = "2320"
            c["other_payers"].append(other)

    def _on_pat(self, seg: Segment) -> None:
        if self.claim is None and self.pat is not None:
            self.pat["relationship"] = seg.el(1)

    def _on_clm(self, seg: Segment) -> None:
        self.close_claim()
        if self.sub is None or "responsibility" not in self.sub:
            raise seg.error("CLM outside a subscriber (HL 22 with SBR) or patient (HL 23) loop")
        if self.pat is not None and "relationship" not in self.pat:
            raise seg.error("patient HL (23) has no PAT segment before the CLM")
        if not seg.el(1):
            raise seg.error("CLM01 claim number is empty")
        place = seg.comp(5) + ["", "", ""]
        self.claim = {
            "seg": seg,
            "loop": "2300",
            "broken": False,
            "payer_claim_number": None,
            "predetermination": seg.el(19) == "PB",
            "claim_number": seg.el(1),
            "total_charge": seg.number(2, "total charge"),
            "facility_code": place[0],
            "frequency_code": place[2],
            "rendering_npi": None,
            "diagnosis_codes": [],
            "dates": None,
            "other_payers": [],
            "lines": [],
        }

    def _line(self, seg: Segment) -> dict:
        c = self.claim
        if c is None or c["loop"] not in ("2400", "2430"):
            where = "any claim (no CLM)" if c is None else "a service line (no LX)"
            raise seg.error(f"{seg.id} outside {where}")
        return c["lines"][-1]

    def _on_dtp(self, seg: Segment) -> None:
        c = self.claim
        if c is None or seg.el(1) not in ("472", "573"):
            return
        if c["loop"] in ("2400", "2430"):
            line = c["lines"][-1]
            if seg.el(1) == "472":
                line["service_date"], line["service_date_to"] = seg.dates(2, 3)
            elif line["adjudications"]:
                line["adjudications"][-1]["adjudication_date"] = seg.dates(2, 3)[0]
        elif c["loop"] == "2300" and seg.el(1) == "472":
            c["dates"] = seg.dates(2, 3)

    def _on_hi(self, seg: Segment) -> None:
        if self.claim is not None:
            for n in range(1, len(seg.elements)):
                parts = seg.comp(n)
                if len(parts) >= 2 and parts[0] in _DIAGNOSIS_QUALIFIERS:
                    self.claim["diagnosis_codes"].append(parts[1])

    def _on_amt(self, seg: Segment) -> None:
        c = self.claim
        if c is not None and c["loop"] == "2320" and seg.el(1) == "D":
            c["other_payers"][-1]["paid_amount"] = seg.number(2, "payer paid amount")

    def _on_cas(self, seg: Segment) -> None:
        c = self.claim
        if c is not None and c["loop"] == "2320":
            c["other_payers"][-1]["adjustments"].extend(_adjustments(seg))
        elif c is not None and c["loop"] == "2430":
            c["lines"][-1]["adjudications"][-1]["adjustments"].extend(_adjustments(seg))
        else:
            raise seg.error("CAS outside an other-payer loop (2320) or line adjudication (2430)")

    def _on_lx(self, seg: Segment) -> None:
        c = self.claim
        if c is None:
            raise seg.error("service line LX outside any claim (no preceding CLM)")
        expected = str(len(c["lines"]) + 1)
        if seg.el(1) != expected:
            raise seg.error(f"LX01 line number {seg.el(1)!r}, expected {expected}")
        c["loop"] = "2400"
        c["lines"].append({"seg": None, "line_number": int(expected), "teeth": []})

    def _on_sv1(self, seg: Segment) -> None:
        self._service(seg, "837P", units_n=4, place_n=5)

    def _on_sv3(self, seg: Segment) -> None:
        self._service(seg, "837D", units_n=6, place_n=3)

    def _service(self, seg: Segment, kind: str, units_n: int, place_n: int) -> None:
        if self.kind != kind:
            raise seg.error(f"{seg.id} service line in an {self.kind} transaction")
        line = self._line(seg)
        if line["seg"] is not None:
            raise seg.error(f"second service segment for line {line['line_number']}")
        proc = seg.comp(1)
        if len(proc) < 2 or not proc[1]:
            raise seg.error(f"{seg.id}01 procedure {seg.el(1)!r} has no procedure code")
        pointers = seg.comp(7) if kind == "837P" else []
        if not all(p.isdigit() and 1 <= int(p) <= 12 for p in pointers):
            raise seg.error(f"SV107 diagnosis pointers {seg.el(7)!r} are not numbers 1-12")
        if any(int(p) > len(self.claim["diagnosis_codes"]) for p in pointers):
            raise seg.error(f"SV107 diagnosis pointer {seg.el(7)!r} has no HI diagnosis code")
        units = seg.optional_number(units_n, "units")
        if units is None and kind == "837P":
            raise seg.error("SV104 units are missing")
        line.update(
            seg=seg,
            procedure_qualifier=proc[0],
            procedure_code=proc[1],
            modifiers=tuple(m for m in proc[2:6] if m),
            charge=seg.number(2, "line charge"),
            units=units if units is not None else Decimal(1),
            unit_basis=(seg.el(3) or None) if kind == "837P" else None,
            place_of_service=seg.el(place_n) or None,
            diagnosis_pointers=tuple(int(p) for p in pointers),
            service_date=None,
            service_date_to=None,
            adjudications=[],
        )

    def _on_too(self, seg: Segment) -> None:
        line = self._line(seg)
        if not seg.el(2):
            raise seg.error("TOO02 tooth number is empty")
        line["teeth"].append(Tooth(seg.el(2), tuple(s for s in seg.comp(3) if s)))

    def _on_svd(self, seg: Segment) -> None:
        line = self._line(seg)
        if line["seg"] is None:
            raise seg.error("SVD before the line's service segment")
        self.claim["loop"] = "2430"
        line["adjudications"].append(
            {
                "payer_id": seg.el(1),
                "paid_amount": seg.number(2, "paid amount"),
                "procedure_code": (seg.comp(3) + ["", ""])[1] or None,
                "paid_units": seg.optional_number(5, "paid units"),
                "adjustments": [],
                "adjudication_date": None,
            }
        )

    def close_claim(self) -> None:
        c, self.claim = self.claim, None
        if c is None or c["broken"]:
            return
        try:
            self._build(c)
        except X12Error as exc:
            self.problems.add(exc)

    def _build(self, c: dict) -> None:
        clm: Segment = c["seg"]
        if not c["lines"]:
            raise clm.error(f"claim {c['claim_number']!r} has no service lines (LX)")
        lines = []
        for raw in c["lines"]:
            if raw["seg"] is None:
                raise clm.error(f"claim line {raw['line_number']} has no SV1/SV3 segment")
            adjudications = tuple(
                LineAdjudication(**{**a, "adjustments": tuple(a["adjustments"])})
                for a in raw.pop("adjudications")
            )
            raw.pop("seg")
            teeth = tuple(raw.pop("teeth"))
            lines.append(ParsedLine(**raw, teeth=teeth, adjudications=adjudications))
        line_total = sum((line.charge for line in lines), Decimal(0))
        if line_total != c["total_charge"]:
            raise clm.error(
                f"CLM02 total charge {c['total_charge']} of claim {c['claim_number']!r} does "
                f"not equal the sum of its line charges {line_total}"
            )
        line_dates = [d for line in lines for d in (line.service_date, line.service_date_to) if d]
        dates = c["dates"] or ((min(line_dates), max(line_dates)) if line_dates else (None, None))
        sub = self.sub or {}
        resp = sub["responsibility"]
        subscriber = Subscriber(
            member_id=sub.get("member_id"),
            first_name=sub.get("first_name"),
            last_name=sub.get("last_name"),
            dob=sub.get("dob"),
            payer_responsibility=resp,
            cob_order=_COB_ORDER.get(resp),
            relationship=sub.get("relationship") or None,
            group_number=sub.get("group") or None,
        )
        if self.pat is not None:
            pat = self.pat
            names = pat.get("first_name"), pat.get("last_name")
            patient = Patient(*names, pat.get("dob"), pat["relationship"])
        else:
            patient = Patient(subscriber.first_name, subscriber.last_name, subscriber.dob, "18")
        others = tuple(
            OtherPayer(
                responsibility=o["responsibility"],
                cob_order=_COB_ORDER.get(o["responsibility"]),
                payer_name=o.get("payer_name"),
                payer_id=o.get("payer_id"),
                paid_amount=o.get("paid_amount"),
                adjustments=tuple(o["adjustments"]),
            )
            for o in c["other_payers"]
        )
        self.claims.append(
            ParsedClaim(
                claim_number=c["claim_number"],
                total_charge=c["total_charge"],
                facility_code=c["facility_code"],
                frequency_code=c["frequency_code"],
                payer_name=sub.get("payer_name"),
                payer_id=sub.get("payer_id"),
                billing_npi=self.billing_npi,
                rendering_npi=c["rendering_npi"],
                subscriber=subscriber,
                patient=patient,
                diagnosis_codes=tuple(c["diagnosis_codes"]),
                service_date_from=dates[0],
                service_date_to=dates[1],
                other_payers=others,
                lines=tuple(lines),
                payer_claim_number=c["payer_claim_number"],
                predetermination=c["predetermination"],
            )
        )
