"""The tokenizer's unknown segments: refused at the first one by default (837, 271), or,
for a caller that asks (835, ``skipped=[]``), skipped inside a transaction set with their
position reported, and refused in the envelope, every one named."""

from __future__ import annotations

import pytest

from claims.x12 import X12Error, X12Errors
from claims.x12.tokenizer import tokenize

ISA = (
    "ISA*00*          *00*          *30*SYNTHETICPAYER *30*SYNTHETICPROV  *260101*1200*^*00501*"
    "000000001*0*T*:~"
)
KNOWN = frozenset(["ISA", "IEA", "GS", "GE", "ST", "SE", "BPR", "CLP"])


def interchange(*body: str, before_gs: str = "") -> str:
    return (
        ISA
        + before_gs
        + "GS*HP*A*B*20260101*1200*1*X*005010X221A1~ST*835*0001~"
        + ("".join(f"{s}~" for s in body))
        + "SE*4*0001~GE*1*1~IEA*1*000000001~"
    )


def test_by_default_the_first_unknown_segment_refuses_the_input():
    text = interchange("BPR*I*0", "ZZZ*1", "YYY*2")
    with pytest.raises(X12Error) as exc:
        tokenize(text, known=KNOWN)
    assert not isinstance(exc.value, X12Errors)
    assert (exc.value.segment_index, exc.value.segment_id) == (5, "ZZZ")


def test_unknown_segments_inside_the_transaction_are_skipped_and_reported():
    skipped: list[X12Error] = []
    _d, _isa, segments = tokenize(
        interchange("BPR*I*0", "ZZZ*1", "CLP*A*1"), known=KNOWN, skipped=skipped
    )
    assert [s.id for s in segments] == ["ISA", "GS", "ST", "BPR", "CLP", "SE", "GE", "IEA"]
    # Segment numbers stay positions in the input: SE01 still counts the skipped one.
    assert [s.index for s in segments][4:6] == [6, 7]
    assert [(e.segment_index, e.segment_id) for e in skipped] == [(5, "ZZZ")]
    assert "skipped" in skipped[0].reason


def test_unknown_segments_in_the_envelope_or_malformed_refuse_naming_each():
    skipped: list[X12Error] = []
    text = interchange("BPR*I*0", "CAS_CO*1", before_gs="XYZ*1~")
    with pytest.raises(X12Errors) as exc:
        tokenize(text, known=KNOWN, skipped=skipped)
    assert [(e.segment_index, e.segment_id) for e in exc.value.errors] == [
        (2, "XYZ"),
        (6, "CAS_CO"),
    ]
    assert exc.value.errors[0].reason == "unknown segment id 'XYZ'"
    assert skipped == []
