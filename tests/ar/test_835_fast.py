"""The 835 fast path (``ar.x12_835_fast``) gives the checked walk's result for every file it
accepts, and leaves to the checked walk (``Slow``) every file the walk would refuse or warn
about, so ``parse_835`` says exactly what the walk says."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ar.x12_835 import parse_835_checked
from ar.x12_835_fast import Slow, parse_835, parse_fast
from claims.x12 import X12Error
from tests.ar.conftest import SAMPLES
from tests.ar.test_x12_835 import era

FULL = [
    "N1*PR*EXAMPLE HEALTH PLAN",
    "REF*2U*PAYER2U",
    "N1*PE*SUNRISE DENTAL*XX*1234567893",
    "LX*1",
    "CLP*C1*1*310*200**12*X1",
    "NM1*QC*1*DOE*JANE****MI*M1",
    "MOA***MA01*MA02",
    "DTM*232*20260101",
    "DTM*233*20260102",
    "CAS*OA*23*10",
    "SVC*HC:D1110:AA:BB*150*100**2",
    "DTM*150*20260103",
    "DTM*151*20260104",
    "CAS*CO*45*30*1*253*20",
    "AMT*B6*120",
    "LQ*HE*N130",
    "SVC*AD:D0120*150*100",
    "DTM*472*20260105",
    "CAS*PR*1*50",
    "CLP*C2*22*-50*-50*0*12*X2",
    "MIA*0****MA03",
    "CLP*C3*4*80*0*.5*12*X3",
    "CAS*CO*50*79.50",
    "CAS*PR*3*.5",
    "PLB*1234567890*20261231*L6:INT*-2.50*WO:ABC*10",
]


def test_a_file_with_every_segment_the_parser_reads_is_the_same_both_ways():
    text = era(FULL, "142.50")
    checked = parse_835_checked(text)
    assert parse_fast(text) == checked
    assert parse_835(text) == checked
    claim = checked.claims[0]
    assert (checked.payer_id, claim.lines[0].modifiers, claim.lines[0].units) == (
        "1417776310",
        ["AA", "BB"],
        2,
    )
    crlf = text.replace("~", "~\r\n")
    assert parse_fast(crlf) == parse_835_checked(crlf)


@pytest.mark.parametrize(
    "name",
    [
        "x12sdk-generated-bundling-denials.835",
        "x12sdk-generated-mixed-claims.835",
        "x12sdk-generated-paid-in-full.835",
    ],
)
def test_the_samples_are_the_same_both_ways(name):
    text = (SAMPLES / name).read_text()
    assert parse_fast(text) == parse_835_checked(text)


def test_many_claims_are_the_same_both_ways():
    body = ["N1*PR*EXAMPLE HEALTH PLAN", "LX*1"]
    for n in range(1, 51):
        body += [
            f"CLP*B{n:04d}*1*127.50*89.25*12.75*12*PCN{n}",
            f"NM1*QC*1*PATIENT{n}*ALEX****MI*M{n}",
            "SVC*HC:99213*95.00*66.50**1",
            "DTM*472*20260105",
            "CAS*CO*45*19.00",
            "CAS*PR*2*9.50",
            "SVC*HC:85025*32.50*22.75**1",
            "DTM*472*20260105",
            "CAS*CO*45*6.50",
            "CAS*PR*2*3.25",
        ]
    text = era(body, f"{89.25 * 50:.2f}")
    assert parse_fast(text) == parse_835_checked(text)
    assert len(parse_fast(text).claims) == 50


BROKEN = {
    "a line that does not balance": ("CAS*CO*45*30*1*253*20", "CAS*CO*45*31*1*253*20"),
    "a number Decimal reads": ("AMT*B6*120", "AMT*B6*1.2E2"),
    # Decimal() reads these too, and sums with them raise InvalidOperation, not X12Error:
    "a signalling NaN charge": ("CLP*C3*4*80*0*.5*12*X3", "CLP*C3*4*sNaN*0*.5*12*X3"),
    "an infinite adjustment": ("CAS*CO*45*30*1*253*20", "CAS*CO*45*Infinity*1*253*20"),
    "an underscore in a number": ("AMT*B6*120", "AMT*B6*1_20"),
    "a blank amount": ("CLP*C3*4*80*0*.5*12*X3", "CLP*C3*4**0*.5*12*X3"),
    "a bad date": ("DTM*232*20260101", "DTM*232*20261301"),
    "an unknown segment": ("LQ*HE*N130", "ZZZ*1"),
    "a CAS group": ("CAS*OA*23*10", "CAS*XX*23*10"),
    "an empty CAS": ("CAS*OA*23*10", "CAS*OA"),
    "LQ outside a line": ("MIA*0****MA03", "LQ*HE*N1"),
    "a claim status": ("CLP*C2*22*-50*-50*0*12*X2", "CLP*C2*X*-50*-50*0*12*X2"),
    "a duplicate claim": ("CLP*C2*22*-50*-50*0*12*X2", "CLP*C1*22*-50*-50*0*12*X1"),
    "an SVC without a code": ("SVC*AD:D0120*150*100", "SVC*AD*150*100"),
    "a PLB without an amount": (
        "PLB*1234567890*20261231*L6:INT*-2.50*WO:ABC*10",
        "PLB*1234567890*20261231",
    ),
    "an empty segment": ("LQ*HE*N130", "LQ*HE*N130~"),
    "a control character": ("NM1*QC*1*DOE*JANE****MI*M1", "NM1*QC*1*DO\x01E*JANE****MI*M1"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_what_the_checked_walk_refuses_or_warns_about_is_left_to_it(case):
    old, new = BROKEN[case]
    text = era(FULL, "142.50").replace(old, new, 1)
    assert text != era(FULL, "142.50")
    with pytest.raises(Slow):
        parse_fast(text)
    assert outcome(parse_835, text) == outcome(parse_835_checked, text)


def outcome(parse: Any, text: str) -> object:
    """What a parse says: its result (warnings as positions and reasons), or its errors."""
    try:
        result = parse(text)
    except X12Error as exc:
        return [(e.segment_index, e.reason) for e in getattr(exc, "errors", [exc])]
    warnings = [(w.segment_index, w.reason) for w in result.skipped]
    return warnings, dataclasses.replace(result, skipped=[])


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("SE*", "SE*9", 1),  # SE01 count
        lambda t: t + "junk",  # data after the last terminator
        lambda t: t.replace("GE*", "ST*835*2~GE*"),  # a second transaction set
        lambda t: t.replace("142.50", "142.49"),  # the file does not balance
        lambda t: t.replace("TRN*1*T100*1417776310~", ""),  # no TRN
        lambda t: t[t.index("GS*") :],  # no ISA
    ],
)
def test_envelope_problems_are_left_to_the_checked_walk(change):
    text = change(era(FULL, "142.50"))
    with pytest.raises(Slow):
        parse_fast(text)
    with pytest.raises(X12Error):
        parse_835(text)
