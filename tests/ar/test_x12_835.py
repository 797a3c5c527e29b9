"""The 835 parser against the shared samples' expected facts (tests/ar/samples/README.md)
and files written here from them: balance checks, PLB, reversals, malformed segments."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ar.x12_835_fast import parse_835
from claims.x12 import X12Error, X12Errors
from tests.ar.conftest import sample

D = Decimal


def adjustments(claim):
    return [(a.group, a.reason_code, a.amount) for a in claim.all_adjustments()]


def test_bundling_denials_facts():
    era = parse_835(sample("x12sdk-generated-bundling-denials.835"))
    assert (era.amount, era.trace, era.payer_id) == (D("1800.00"), "9167024630", "1417776310")
    assert era.payment_date is None  # x12sdk BPRs stop at BPR04
    assert era.method == "CHK" and era.payer_name == "EXAMPLE HEALTH PLAN"
    facts = [(c.patient_control_number, c.charge, c.paid, adjustments(c)) for c in era.claims]
    assert facts == [
        ("PCN000001", D("900.00"), D("600.00"), [("CO", "97", D("300.00"))]),
        ("PCN000002", D("450.00"), D("300.00"), [("CO", "97", D("150.00"))]),
        (
            "PCN000003",
            D("1200.00"),
            D("900.00"),
            [("CO", "45", D("200.00")), ("PR", "2", D("100.00"))],
        ),
    ]
    third = era.claims[2]
    # CLP05 is blank: the patient's share is the sum of the PR adjustments.
    assert third.patient_responsibility_given is None
    assert third.patient_responsibility == D("100.00")
    assert third.allowed == D("1000.00")
    assert [line.procedure_code for line in third.lines] == ["93000"]
    assert third.lines[0].adjustments[0].segment == 22  # line-level CAS after its SVC


def test_mixed_claims_facts():
    era = parse_835(sample("x12sdk-generated-mixed-claims.835"))
    assert (era.amount, era.trace) == (D("15333.95"), "2720817509")
    assert [c.patient_control_number for c in era.claims] == [f"PCN00000{n}" for n in range(1, 9)]
    assert sum(c.paid for c in era.claims) == era.amount
    by_number = {c.patient_control_number: adjustments(c) for c in era.claims}
    assert by_number["PCN000004"] == [("PR", "1", D("468.81"))]
    assert by_number["PCN000005"] == [("CO", "96", D("18.47"))]
    assert by_number["PCN000006"] == [("CO", "45", D("970.77"))]
    assert era.claims[3].patient_responsibility == D("468.81")


def test_paid_in_full_facts():
    era = parse_835(sample("x12sdk-generated-paid-in-full.835"))
    assert (era.amount, era.trace) == (D("250.00"), "0242886304")
    (claim,) = era.claims
    assert (claim.patient_control_number, claim.charge, claim.paid) == (
        "PCN000001",
        D("250.00"),
        D("250.00"),
    )
    assert claim.lines == [] and claim.all_adjustments() == []


def test_broken_cas_is_refused_naming_the_segment():
    with pytest.raises(X12Error) as exc:
        parse_835(sample("linuxforhealth-demo-broken-cas.835"))
    assert (exc.value.segment_index, exc.value.segment_id) == (27, "CAS_CO")
    assert "segment 27 (CAS_CO)" in str(exc.value)


def without_broken_segment() -> str:
    """The LinuxForHealth demo without its malformed segment (ours): then SE01's 25 is right."""
    return sample("linuxforhealth-demo-broken-cas.835").replace("CAS_CO*45*50~", "")


def test_without_the_malformed_segment_the_claim_is_50_out_of_balance():
    with pytest.raises(X12Errors) as exc:
        parse_835(without_broken_segment())
    problems = [(e.segment_index, e.segment_id, e.reason) for e in exc.value.errors]
    assert any(
        sid == "CLP" and "8765432112" in reason and "= 50" in reason for _, sid, reason in problems
    ), problems
    assert any(sid == "SVC" and "93555" in reason for _, sid, reason in problems), problems
    # The first claim balances and is not named.
    assert not any("5554555444" in reason for _, _, reason in problems)


def balanced_demo() -> str:
    """The demo with the malformed segment written as the CAS it meant (ours)."""
    text = sample("linuxforhealth-demo-broken-cas.835")
    return text.replace("CAS_CO*45*50~", "CAS*CO*45*50~").replace("SE*25*", "SE*26*")


def test_demo_facts_once_the_segment_is_well_formed():
    era = parse_835(balanced_demo())
    assert (era.amount, era.trace, era.payer_name) == (D("945"), "7170066655", "RUSHMORE LIFE")
    assert era.payment_date is None  # its BPR stops at BPR15
    first, second = era.claims
    assert (first.charge, first.paid, first.patient_responsibility) == (
        D("800"),
        D("450"),
        D("300"),
    )
    assert first.adjustments[0].group == "CO" and first.adjustments[0].reason_code == "A2"
    assert (second.charge, second.paid, second.patient_responsibility) == (
        D("1200"),
        D("495"),
        D("600"),
    )
    assert second.lines[0].date_from.isoformat() == "2002-03-10"
    assert second.lines[0].date_to.isoformat() == "2002-03-12"


def test_se_count_is_checked():
    text = balanced_demo().replace("SE*26*", "SE*30*")
    with pytest.raises(X12Errors) as exc:
        parse_835(text)
    assert exc.value.errors[0].segment_id == "SE"
    assert "SE01 says 30" in exc.value.errors[0].reason


HEADER = (
    "ISA*00*          *00*          *30*SYNTHETICPAYER *30*SYNTHETICPROV  *260101*1200*^*00501*"
    "000000001*0*T*:~GS*HP*A*B*20260101*1200*1*X*005010X221A1~ST*835*0001~"
)


def era(body: list[str], amount: str, trace: str = "T100") -> str:
    """A small 835 written for these tests (ours): header, the given segments, trailer."""
    segments = [f"BPR*I*{amount}*C*ACH************20260115", f"TRN*1*{trace}*1417776310", *body]
    count = len(segments) + 2
    return HEADER + "~".join(segments) + f"~SE*{count}*0001~GE*1*1~IEA*1*000000001~"


def test_plb_reduces_the_payment_and_balances_the_file():
    text = era(
        [
            "N1*PR*EXAMPLE HEALTH PLAN",
            "CLP*C1*1*100*100**12*X1",
            "PLB*1234567890*20261231*L6:INT*-2.50*WO:ABC*10",
        ],
        "92.50",
    )
    parsed = parse_835(text)
    assert [(p.reason_code, p.reference, p.amount) for p in parsed.provider_adjustments] == [
        ("L6", "INT", D("-2.50")),
        ("WO", "ABC", D("10")),
    ]
    assert parsed.payment_date.isoformat() == "2026-01-15"


def test_file_that_does_not_balance_names_bpr():
    text = era(["CLP*C1*1*100*100**12*X1"], "90.00")
    with pytest.raises(X12Errors) as exc:
        parse_835(text)
    (error,) = exc.value.errors
    assert (error.segment_index, error.segment_id) == (4, "BPR")
    assert "difference -10.00" in error.reason


def test_reversal_remarks_and_allowed_amounts():
    text = era(
        [
            "CLP*C1*22*-100*-80*-20*12*X1",
            "MOA***MA01",
            "SVC*HC:D1110:XX*-100*-80**1",
            "DTM*472*20260110",
            "CAS*PR*1*-20",
            "AMT*B6*-100",
            "LQ*HE*N130",
        ],
        "-80",
    )
    (claim,) = parse_835(text).claims
    assert claim.is_reversal and claim.paid == D("-80")
    assert claim.patient_responsibility == D("-20")
    (line,) = claim.lines
    assert line.modifiers == ["XX"] and line.allowed == D("-100")
    assert [r.code for r in claim.remarks] == ["MA01"] and [r.code for r in line.remarks] == [
        "N130"
    ]


def test_every_problem_is_listed_with_its_segment():
    text = era(["CLP*C1*1*abc*100**12*X1", "CLP*C2*1*100*90**12*X2", "CAS*XX*1*10"], "190")
    with pytest.raises(X12Errors) as exc:
        parse_835(text)
    where = [(e.segment_index, e.segment_id) for e in exc.value.errors]
    assert (6, "CLP") in where and (8, "CAS") in where
    assert any("C2 does not balance" in e.reason for e in exc.value.errors)


def test_a_claim_twice_in_one_file_is_refused():
    text = era(["CLP*C1*1*100*100**12*X1", "CLP*C1*1*100*100**12*X1"], "200")
    with pytest.raises(X12Errors) as exc:
        parse_835(text)
    assert "appears twice" in exc.value.errors[0].reason
