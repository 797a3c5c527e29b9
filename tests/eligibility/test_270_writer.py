"""The 270 writer (no database): a valid 005010X279A1 envelope, read back by the project's
tokenizer, one 2000C per subscriber with its dependents below, our traces on each patient.

pyx12 (a dev dependency) cannot check it: its 4.0 maps hold the 4010 270/271 only
(``Map not found ... vriic=005010X279A1``), so the envelope and loop rules are checked here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from claims.x12.tokenizer import Segment, tokenize
from eligibility.x12_270 import Envelope, Inquiry, Person, clean, write_270

_IDS_270 = "ISA IEA GS GE ST SE BHT HL TRN NM1 REF N3 N4 PRV DMG INS HI DTP EQ"
KNOWN_270 = frozenset(_IDS_270.split(" "))
SAMPLES = Path(__file__).resolve().parent / "samples"
ENV = Envelope(
    control_number=42,
    sender_id="SUNRISE",
    receiver_id="CLEARINGHOUSE",
    originator_id="9000000007",
    created_at=dt.datetime(2026, 12, 1, 9, 5, tzinfo=dt.UTC),
)
DAY = dt.date(2026, 12, 3)
DR = Person("Jones", "Ann")


def inquiry(trace: str, payer: str = "DD1", **kwargs) -> Inquiry:
    values = {
        "trace": trace,
        "payer_name": f"Plan {payer}",
        "payer_id": payer,
        "provider_name": DR,
        "provider_npi": "1234567893",
        "subscriber": Person("Doe", "John", dt.date(1970, 1, 1)),
        "member_id": "M001",
        "service_date": DAY,
        **kwargs,
    }
    return Inquiry(**values)


def check_envelopes(segments: list[Segment], isa: list[str]) -> list[list[Segment]]:
    """Every ISA/GS/ST count and control number agrees; returns the transactions."""
    assert segments[0].id == "ISA" and segments[-1].id == "IEA"
    assert segments[-1].elements[1:] == ("1", isa[12])
    gs, ge = segments[1], segments[-2]
    assert (gs.id, gs.el(1), gs.el(8)) == ("GS", "HS", "005010X279A1")
    transactions: list[list[Segment]] = []
    current: list[Segment] | None = None
    for seg in segments[2:-2]:
        if seg.id == "ST":
            current = [seg]
        else:
            assert current is not None
            current.append(seg)
            if seg.id == "SE":
                transactions.append(current)
                assert seg.el(1) == str(len(current)) and seg.el(2) == current[0].el(2)
                current = None
    assert ge.elements[1:] == (str(len(transactions)), gs.el(6))
    for st in transactions:
        assert (st[0].el(1), st[0].el(3)) == ("270", "005010X279A1")
        check_hierarchy(st)
    return transactions


def check_hierarchy(segments: list[Segment]) -> None:
    """HL ids count up from 1, each parent exists one level up, HL04 says if children follow."""
    levels = {"20": None, "21": "20", "22": "21", "23": "22"}
    seen: dict[str, str] = {}
    hls = [s for s in segments if s.id == "HL"]
    for n, hl in enumerate(hls, start=1):
        assert hl.el(1) == str(n)
        assert seen.get(hl.el(2)) == levels[hl.el(3)]
        seen[hl.el(1)] = hl.el(3)
        has_children = any(other.el(2) == hl.el(1) for other in hls)
        assert hl.el(4) == ("1" if has_children else "0")


def test_one_2000c_per_subscriber_with_dependents_below():
    text = write_270(
        ENV,
        [
            inquiry("E-1"),
            inquiry("E-2", patient=Person("Doe", "Jane", dt.date(2010, 2, 2))),
            inquiry("E-3", patient=Person("Doe", "Jim", dt.date(2012, 3, 3))),
            inquiry("E-4", member_id="M002", subscriber=Person("Roe", "Max", dt.date(1980, 1, 1))),
        ],
    )
    delims, isa, segments = tokenize(text, known=KNOWN_270)
    assert (delims.element, delims.component, delims.segment, delims.repetition) == (
        "*",
        ":",
        "~",
        "^",
    )
    assert isa[12] == "000000042" and isa[5] == "SUNRISE".ljust(15)
    (st,) = check_envelopes(segments, isa)
    subscribers = [s for s in st if s.id == "HL" and s.el(3) == "22"]
    dependents = [s for s in st if s.id == "HL" and s.el(3) == "23"]
    assert len(subscribers) == 2 and len(dependents) == 2
    names = [(s.el(1), s.el(3), s.el(4), s.el(9)) for s in st if s.id == "NM1"]
    assert names == [
        ("PR", "PLAN DD1", "", "DD1"),
        ("1P", "JONES", "ANN", "1234567893"),
        ("IL", "DOE", "JOHN", "M001"),
        ("03", "DOE", "JANE", ""),
        ("03", "DOE", "JIM", ""),
        ("IL", "ROE", "MAX", "M002"),
    ]
    traces = [(s.el(1), s.el(2), s.el(3)) for s in st if s.id == "TRN"]
    assert traces == [("1", t, "9000000007") for t in ("E-1", "E-2", "E-3", "E-4")]
    assert [s.el(3) for s in st if s.id == "DTP"] == ["20261203"] * 4
    assert [s.el(1) for s in st if s.id == "EQ"] == ["30"] * 4


def test_a_subscriber_loop_has_the_shape_of_the_public_sample():
    """Our 2000C for a subscriber patient, segment by segment, as in LinuxForHealth's 270."""
    _d, _isa, theirs = tokenize((SAMPLES / "linuxforhealth-demo.270").read_text(), KNOWN_270)
    text = write_270(ENV, [inquiry("E-9", group_number="0123456789")])
    _d, isa, ours = tokenize(text, known=KNOWN_270)
    check_envelopes(ours, isa)

    def loop_2000c(segments: list[Segment]) -> list[str]:
        start = next(i for i, s in enumerate(segments) if s.id == "HL" and s.el(3) == "22")
        end = next(i for i, s in enumerate(segments) if s.id == "SE")
        return [s.id for s in segments[start:end]]

    assert loop_2000c(ours) == loop_2000c(theirs)
    assert loop_2000c(ours) == ["HL", "TRN", "NM1", "REF", "DMG", "DTP", "EQ"]


def test_one_transaction_per_payer():
    text = write_270(ENV, [inquiry("E-1"), inquiry("E-2", payer="AE9"), inquiry("E-3")])
    _d, isa, segments = tokenize(text, known=KNOWN_270)
    transactions = check_envelopes(segments, isa)
    assert [st[0].el(2) for st in transactions] == ["0001", "0002"]
    payers = [[s.el(9) for s in st if s.id == "NM1" and s.el(1) == "PR"] for st in transactions]
    assert payers == [["DD1"], ["AE9"]]


def test_values_lose_delimiters_and_fit_their_length():
    assert clean("O'Brien*Smith~Jr:^", 60) == "O'BRIENSMITHJR"
    text = write_270(ENV, [inquiry("E-1", subscriber=Person("Ngu~yen*", "Tô", None))])
    _d, isa, segments = tokenize(text, known=KNOWN_270)
    check_envelopes(segments, isa)
    subscriber = next(s for s in segments if s.id == "NM1" and s.el(1) == "IL")
    assert (subscriber.el(3), subscriber.el(4)) == ("NGUYEN", "T")
    assert not any(s.id == "DMG" for s in segments)  # no date of birth: no DMG


def test_nothing_to_ask_or_a_bad_control_number_is_refused():
    with pytest.raises(ValueError, match="no inquiries"):
        write_270(ENV, [])
    bad = Envelope(0, "S", "R", "9000000001", ENV.created_at)
    with pytest.raises(ValueError, match="control number"):
        write_270(bad, [inquiry("E-1")])
