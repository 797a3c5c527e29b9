"""Required elements, code lists and segment order of the 837 segments we read.

From the 005010X222A1 (837P) and 005010X224A2 (837D) implementation guides, limited to the
segments ``parse_837`` reads: an element the guide marks required (for every loop that
uses the segment) must be present, and a coded element must hold one of the guide's codes.
Each problem names the segment and the element ("SBR01 'Z' is not ...").
"""

from __future__ import annotations

from dataclasses import dataclass

from claims.x12.tokenizer import Segment, X12Error

PAYER_RESPONSIBILITY = frozenset("ABCDEFGHPSTU")
# Entity identifier codes used by NM101 in the 837P and 837D guides.
ENTITY_CODES = frozenset(
    [
        "40",
        "41",
        "45",
        "71",
        "72",
        "77",
        "82",
        "85",
        "87",
        "DN",
        "DK",
        "DQ",
        "FA",
        "GB",
        "HK",
        "IL",
        "LI",
        "P3",
        "PE",
        "PR",
        "PW",
        "QB",
        "QC",
        "QD",
        "TL",
        "TT",
        "ZZ",
        "2B",
        "36",
        "DD",
        "DE",
        "GW",
    ]
)
CLAIM_FILING = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "AM",
        "BL",
        "CH",
        "CI",
        "DS",
        "FI",
        "HM",
        "LM",
        "MA",
        "MB",
        "MC",
        "OF",
        "TV",
        "VA",
        "WC",
        "ZZ",
    ]
)
PATIENT_RELATIONSHIP = frozenset(["01", "19", "20", "21", "39", "40", "53", "G8"])
FREQUENCY_CODES = frozenset(["1", "6", "7", "8"])
ADJUSTMENT_GROUPS = frozenset(["CO", "CR", "OA", "PI", "PR"])


@dataclass(frozen=True)
class Element:
    position: int
    name: str
    required: bool = True
    codes: frozenset[str] | None = None


def _e(position: int, name: str, required: bool = True, codes: str = "") -> Element:
    return Element(position, name, required, frozenset(codes.split()) if codes else None)


RULES: dict[str, tuple[Element, ...]] = {
    "BHT": (
        _e(1, "hierarchical structure code", codes="0019"),
        _e(2, "transaction set purpose code", codes="00 18"),
        _e(3, "reference identification"),
        _e(4, "creation date"),
        _e(6, "claim or encounter identifier", codes="31 CH RP"),
    ),
    "HL": (
        _e(1, "hierarchical id number"),
        _e(3, "hierarchical level code", codes="20 22 23"),
        _e(4, "hierarchical child code", codes="0 1"),
    ),
    "NM1": (
        _e(1, "entity identifier code"),
        _e(2, "entity type qualifier", codes="1 2"),
    ),
    "SBR": (
        _e(1, "payer responsibility sequence code"),
        _e(9, "claim filing indicator code", required=False),
    ),
    "PAT": (_e(1, "individual relationship code"),),
    "DMG": (
        _e(1, "date time period format qualifier", codes="D8"),
        _e(2, "date of birth"),
        _e(3, "gender code", codes="F M U"),
    ),
    "CLM": (
        _e(1, "patient control number"),
        _e(2, "total claim charge amount"),
        _e(5, "health care service location information"),
        _e(6, "provider signature indicator", codes="N Y"),
        _e(7, "assignment or plan participation code", codes="A B C"),
        _e(8, "benefits assignment certification indicator", codes="N W Y"),
        _e(9, "release of information code", codes="I Y"),
        _e(19, "claim submission reason code", required=False, codes="PB"),
    ),
    "DTP": (
        _e(1, "date time qualifier"),
        _e(2, "date time period format qualifier", codes="D8 RD8 TM"),
        _e(3, "date time period"),
    ),
    "HI": (_e(1, "health care code information"),),
    "LX": (_e(1, "assigned number"),),
    "SV1": (
        _e(1, "composite medical procedure identifier"),
        _e(2, "line item charge amount"),
        _e(3, "unit or basis for measurement code", codes="MJ UN"),
        _e(4, "service unit count"),
    ),
    "SV3": (
        _e(1, "composite medical procedure identifier"),
        _e(2, "line item charge amount"),
    ),
    "TOO": (
        _e(1, "code list qualifier code", codes="JP"),
        _e(2, "tooth code"),
    ),
    "SVD": (
        _e(1, "other payer primary identifier"),
        _e(2, "service line paid amount"),
        _e(3, "composite medical procedure identifier"),
        _e(5, "paid service unit count"),
    ),
    "CAS": (
        _e(1, "claim adjustment group code"),
        _e(2, "adjustment reason code"),
        _e(3, "adjustment amount"),
    ),
    "AMT": (_e(1, "amount qualifier code"), _e(2, "monetary amount")),
    "N3": (_e(1, "address information"),),
    "N4": (_e(1, "city name"),),
}
# Coded elements whose code list is long: named here instead of in RULES.
CODE_LISTS: dict[tuple[str, int], tuple[frozenset[str], str]] = {
    ("NM1", 1): (ENTITY_CODES, "an 837 entity identifier code"),
    ("SBR", 1): (PAYER_RESPONSIBILITY, "a payer responsibility code (A-H, P, S, T or U)"),
    ("SBR", 9): (CLAIM_FILING, "a claim filing indicator code"),
    ("PAT", 1): (
        PATIENT_RELATIONSHIP,
        "a patient relationship code (01, 19, 20, 21, 39, 40, 53 or G8)",
    ),
    ("CAS", 1): (ADJUSTMENT_GROUPS, "a claim adjustment group code (CO, CR, OA, PI, PR)"),
}
# NM1 loops whose name and identifier the guides require in every 837.
NAMED_ENTITIES = frozenset({"40", "41", "85", "IL", "PR", "QC"})
IDENTIFIED_ENTITIES = {"85": "XX", "PR": "PI XV", "IL": "II MI"}


# Per segment id: (position, label, required, codes, what the codes are), built once.
_Checked = tuple[int, str, bool, frozenset[str] | None, str]
_COMPILED: dict[str, tuple[_Checked, ...]] = {}
for _seg_id, _elements in RULES.items():
    _rows: list[_Checked] = []
    for _element in _elements:
        _listed = CODE_LISTS.get((_seg_id, _element.position))
        _codes, _what = (
            _listed
            if _listed
            else (_element.codes, "one of " + ", ".join(sorted(_element.codes or ())))
        )
        _label = f"{_seg_id}{_element.position:02d} ({_element.name})"
        _rows.append((_element.position, _label, _element.required, _codes, _what))
    _COMPILED[_seg_id] = tuple(_rows)


def check_segment(seg: Segment) -> list[X12Error]:
    """The problems of one segment on its own: required elements and code values."""
    problems = []
    elements = seg.elements
    count = len(elements)
    for position, label, required, codes, what in _COMPILED.get(seg.id, ()):
        value = elements[position] if position < count else ""
        if not value:
            if required:
                problems.append(seg.error(f"{label} is required but empty"))
            continue
        if codes is not None and value not in codes:
            problems.append(seg.error(f"{label} {value!r} is not {what}"))
    if seg.id == "NM1":
        problems += _check_nm1(seg)
    if seg.id == "CLM" and seg.el(5):
        problems += _check_clm05(seg)
    return problems


def _check_nm1(seg: Segment) -> list[X12Error]:
    entity, problems = seg.el(1), []
    if entity in NAMED_ENTITIES and not seg.el(3):
        problems.append(seg.error(f"NM103 (name) is required for NM1*{entity} but empty"))
    qualifiers = IDENTIFIED_ENTITIES.get(entity)
    if qualifiers is not None:
        if seg.el(8) not in qualifiers.split():
            problems.append(
                seg.error(
                    f"NM108 (identification code qualifier) {seg.el(8)!r} of NM1*{entity} is "
                    f"not {' or '.join(qualifiers.split())}"
                )
            )
        elif not seg.el(9):
            problems.append(seg.error(f"NM109 (identification code) of NM1*{entity} is empty"))
    elif bool(seg.el(8)) != bool(seg.el(9)):
        problems.append(seg.error("NM108 and NM109 (identification code) go together"))
    return problems


def _check_clm05(seg: Segment) -> list[X12Error]:
    parts = seg.comp(5) + ["", "", ""]
    problems = []
    if not parts[0]:
        problems.append(seg.error("CLM05-1 (place of service / facility code) is required"))
    if parts[1] not in ("A", "B"):
        problems.append(seg.error(f"CLM05-2 (facility code qualifier) {parts[1]!r} is not A or B"))
    if parts[2] not in FREQUENCY_CODES:
        problems.append(
            seg.error(
                f"CLM05-3 (claim frequency code) {parts[2]!r} is not 1 (original), "
                "6 (corrected), 7 (replacement) or 8 (void)"
            )
        )
    return problems


class OrderCheck:
    """Segments out of their place inside a loop, as far as the segments we read go."""

    def __init__(self) -> None:
        self.previous: Segment | None = None

    def check(self, seg: Segment) -> list[X12Error]:
        prev, self.previous = self.previous, seg
        prev_id = prev.id if prev is not None else ""
        if seg.id == "N4" and prev_id != "N3":
            reason = f"N4 is out of order: it must follow the N3 of its loop, not {prev_id}"
            return [seg.error(reason)]
        if prev is not None and prev_id == "N3" and seg.id != "N4":
            reason = f"N3 is out of order: the N4 of its loop must follow it, not {seg.id}"
            return [prev.error(reason)]
        if prev is not None and prev_id == "HL":
            wanted = {"22": "SBR", "23": "PAT"}.get(prev.el(3))
            if wanted and seg.id != wanted:
                return [
                    seg.error(
                        f"{seg.id} is out of order: HL*{prev.el(3)} (segment {prev.index}) must "
                        f"be followed by its {wanted}"
                    )
                ]
        return []
