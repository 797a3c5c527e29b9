"""Tokenizer for X12 005010 interchanges: ISA delimiter detection and segment splitting.

Segments are numbered from 1 (ISA = 1); every problem is raised as ``X12Error`` at the
segment where it was found.

Why not pyx12: pyx12 4.0's ``X12Reader`` was tried first. It tokenizes well-formed files
the same way (``tests/claims/test_x12_837.py`` checks our segments against it), but as an
error checker it fits badly: ``RawX12File`` silently stops reading at an empty segment
(``~~``) and silently drops unterminated bytes after the last terminator, so garbage goes
unnoticed; envelope problems come back as position-less tuples from ``pop_errors()`` (a
missing SE is reported as a GE "Unterminated segment"); it needs a file object that starts
exactly at ``ISA``; and it is not a declared dependency of the project. Wrapping it would
take as much code as this ~150-line tokenizer.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

ISA_LENGTH = 106
# Fixed widths of ISA01..ISA16.
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_D8 = re.compile(r"\d{8}")
# Every segment the 837P (X222A1/A2) and 837D (X224A2/A3) implementation guides define.
_SEGMENT_LIST = """ISA IEA GS GE ST SE BHT NM1 N3 N4 REF PER PRV CUR HL SBR PAT DMG CLM DTP PWK
CN1 AMT K3 NTE CR1 CR2 CRC HI HCP DN1 DN2 LX SV1 SV3 SV5 TOO CR3 MEA PS1 LIN CTP SVD CAS LQ
FRM OI MOA QTY"""
KNOWN_SEGMENTS = frozenset(_SEGMENT_LIST.split())
_WHITESPACE = " \t\r\n\ufeff"


class X12Error(ValueError):
    """Malformed X12 input, located at a segment (1-based index, ISA = 1)."""

    def __init__(self, segment_index: int, segment_id: str, reason: str) -> None:
        self.segment_index = segment_index
        self.segment_id = segment_id
        self.reason = reason
        super().__init__(f"segment {segment_index} ({segment_id}): {reason}")


class X12Errors(X12Error):
    """Every problem found in one input (up to a limit), in segment order; the first one
    is the error's own segment and reason."""

    def __init__(self, errors: list[X12Error], more: int = 0) -> None:
        self.errors = errors
        self.more = more  # problems found past the limit, not listed
        first = errors[0]
        super().__init__(first.segment_index, first.segment_id, first.reason)


@dataclass(frozen=True)
class Delimiters:
    element: str
    component: str
    segment: str
    repetition: str | None


class Segment:
    """One segment; ``elements[0]`` is the segment id.

    A plain class with slots (not a frozen dataclass): an 837 of 10,000 claims has about
    190,000 segments, and a frozen dataclass's ``__init__`` costs four ``object.__setattr__``
    calls each. Compared and hashed by value, as the dataclass was."""

    __slots__ = ("component", "elements", "id", "index")

    def __init__(self, index: int, id: str, elements: tuple[str, ...], component: str) -> None:
        self.index = index
        self.id = id
        self.elements = elements
        self.component = component

    def _key(self) -> tuple[int, str, tuple[str, ...], str]:
        return (self.index, self.id, self.elements, self.component)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Segment:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Segment(index={self.index!r}, id={self.id!r}, elements={self.elements!r}, "
            f"component={self.component!r})"
        )

    def el(self, n: int) -> str:
        return self.elements[n] if n < len(self.elements) else ""

    def comp(self, n: int) -> list[str]:
        value = self.el(n)
        return value.split(self.component) if value else []

    def error(self, reason: str) -> X12Error:
        return X12Error(self.index, self.id, reason)

    def number(self, n: int, label: str) -> Decimal:
        value = self.el(n)
        if not _NUMBER.fullmatch(value):
            raise self.error(f"{self.id}{n:02d} {label} {value!r} is not a number")
        return Decimal(value)

    def optional_number(self, n: int, label: str) -> Decimal | None:
        return self.number(n, label) if self.el(n) else None

    def dates(self, fmt_n: int, value_n: int) -> tuple[dt.date, dt.date]:
        fmt, value = self.el(fmt_n), self.el(value_n)
        parts = value.split("-") if fmt == "RD8" else [value]
        if fmt not in ("D8", "RD8") or len(parts) != (2 if fmt == "RD8" else 1):
            raise self.error(f"date {value!r} with format {fmt!r} is not D8 or RD8")
        try:
            days = [dt.date(int(p[:4]), int(p[4:6]), int(p[6:])) for p in parts if _D8.fullmatch(p)]
        except ValueError:
            days = []
        if len(days) != len(parts):
            raise self.error(f"date {value!r} is not a valid CCYYMMDD date")
        return days[0], days[-1]


# An X12 segment that is not ISA opening the input: a file cut from an interchange.
_ENVELOPE_START = re.compile(r"(GS|ST|BHT)[*|^!>:]")


def detect_x12(text: str) -> bool:
    """True when the content looks like X12: an ISA header, or an envelope without it (then
    parsing says the ISA is missing instead of reading the file as CSV)."""
    body = text.lstrip(_WHITESPACE)
    return body.startswith("ISA") or bool(_ENVELOPE_START.match(body))


def _read_delimiters(body: str) -> tuple[Delimiters, list[str]]:
    """Read the fixed-width ISA header; returns the delimiters and ISA01..ISA16."""
    if not body.startswith("ISA"):
        start = _ENVELOPE_START.match(body)
        if start:
            found = start.group(1)
            raise X12Error(
                1,
                "ISA",
                f"missing ISA: the input does not start with an ISA header; segment 1 "
                f"(character 1) is {found}, so the interchange header was cut off",
            )
        found = body[:3]
        raise X12Error(1, "ISA", f"input does not start with an ISA header (found {found!r})")
    element = body[3] if len(body) > 3 else ""
    if not element or element.isalnum() or element.isspace():
        raise X12Error(1, "ISA", f"cannot detect the element separator from ISA[3] {element!r}")
    values: list[str] = []
    pos = 4
    for n, width in enumerate(_ISA_WIDTHS[:-1], start=1):
        end = body.find(element, pos)
        if end == -1:
            raise X12Error(1, "ISA", f"cannot detect delimiters: the ISA header ends at ISA{n:02d}")
        if end - pos != width:
            raise X12Error(
                1,
                "ISA",
                f"ISA{n:02d} is {end - pos} characters, expected {width}: the ISA header "
                f"is fixed width ({ISA_LENGTH} characters)",
            )
        values.append(body[pos:end])
        pos = end + 1
    if len(body) < ISA_LENGTH:
        raise X12Error(1, "ISA", f"ISA header is truncated ({len(body)} characters)")
    component, segment = body[104], body[105]
    repetition = values[10] if not values[10].isalnum() else None
    values.append(component)
    used = [element, segment, component] + ([repetition] if repetition else [])
    if segment.isalnum() or component.isalnum() or len(set(used)) != len(used):
        raise X12Error(
            1,
            "ISA",
            f"cannot detect delimiters: element {element!r}, component {component!r}, "
            f"segment {segment!r}, repetition {repetition!r} must be distinct non-alphanumerics",
        )
    if values[11] != "00501":
        raise X12Error(1, "ISA", f"ISA12 version {values[11]!r} is not 00501 (5010)")
    return Delimiters(element, component, segment, repetition), values


@functools.cache
def _valid_ids(known: frozenset[str]) -> frozenset[str]:
    """The ids of ``known`` that are well-formed segment ids (all of them, in practice):
    one set lookup per segment instead of a regular expression and a lookup."""
    return frozenset(seg_id for seg_id in known if _SEGMENT_ID.fullmatch(seg_id))


def _without(
    numbered: Iterable[tuple[int, str]], drop: Sequence[tuple[int, int]]
) -> Iterator[tuple[int, str]]:
    """``numbered`` pieces without those whose positions fall in a ``drop`` range."""
    ranges = iter(sorted(drop))
    low, high = next(ranges, (0, -1))
    for index, raw in numbered:
        while index > high and high >= low:
            low, high = next(ranges, (0, -1))
        if low <= index <= high:
            continue
        yield index, raw


def tokenize(
    text: str,
    known: frozenset[str] = KNOWN_SEGMENTS,
    skipped: list[X12Error] | None = None,
    drop: Sequence[tuple[int, int]] = (),
) -> tuple[Delimiters, list[str], list[Segment]]:
    """Split an interchange into segments; returns delimiters, ISA01..ISA16, segments.

    ``known``: the segment ids the transaction's guide defines (the 837's by default).

    ``skipped``: without it, the first unknown segment id refuses the input. With it (a
    list to fill), a well-formed segment id the guide does not define, inside a transaction
    set (between ST and SE), is skipped and reported there with its position: a receiver
    may ignore segments it does not use, and SE01 still counts it (segment numbers are
    positions in the input). An unknown id in the envelope (outside ST..SE) or a malformed
    id still refuses the input; every such segment is named (``X12Errors``).

    ``drop``: (first, last) positions of segments not to read at all (claims an importer
    already knows, ``claims.x12.spans``); the others keep their positions."""
    body = text.lstrip(_WHITESPACE)
    delims, isa = _read_delimiters(body)
    pieces = body.split(delims.segment)
    segments: list[Segment] = []
    refused: list[X12Error] = []
    inside = False
    valid = _valid_ids(known)
    element, component = delims.element, delims.component
    append = segments.append
    numbered: Iterable[tuple[int, str]] = enumerate(pieces[:-1], start=1)
    if drop:
        numbered = _without(numbered, drop)
    for index, raw in numbered:
        piece = raw.strip("\r\n")
        if not piece:
            raise X12Error(index, "", "empty segment (two segment terminators in a row)")
        elements = piece.split(element)
        seg_id = elements[0]
        # str.isprintable() runs in C; the character loop only for a segment that fails it.
        if not piece.isprintable() or "\ufffd" in piece:
            bad = next((c for c in piece if not c.isprintable() or c == "\ufffd"), None)
            if bad is not None:
                raise X12Error(index, seg_id[:10], f"unexpected character {bad!r} (binary data?)")
        if seg_id not in valid:
            reason = f"unknown segment id {seg_id[:10]!r}"
            if skipped is None:
                raise X12Error(index, seg_id[:10], reason)
            if inside and _SEGMENT_ID.fullmatch(seg_id):
                reason += ": not in the implementation guide, skipped"
                skipped.append(X12Error(index, seg_id[:10], reason))
            else:
                refused.append(X12Error(index, seg_id[:10], reason))
            continue
        inside = seg_id == "ST" or (inside and seg_id != "SE")
        append(Segment(index, seg_id, tuple(elements), component))
    if refused:
        raise X12Errors(refused)
    tail = pieces[-1].strip(_WHITESPACE)
    if tail:
        raise X12Error(
            len(pieces), tail[:3], f"data after the last segment terminator: {tail[:20]!r}"
        )
    return delims, isa, segments
