"""271 parsing (no database): the public samples' facts (tests/eligibility/samples/README.md),
AAA rejections in words, and malformed files refused with the segment named."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from claims.x12 import X12Error, X12Errors
from eligibility.x12_271 import parse_271

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def refused(text: str) -> list[X12Error]:
    with pytest.raises(X12Error) as caught:
        parse_271(text)
    exc = caught.value
    return exc.errors if isinstance(exc, X12Errors) else [exc]


def test_mixed_members_has_nine_members_subscribers_and_dependents():
    parsed = parse_271(sample("x12sdk-generated-mixed-members.271"))
    names = [(m.level, m.last_name) for m in parsed.members]
    assert len(names) == 9
    assert sorted(n for level, n in names if level == "subscriber") == [
        "BROWN",
        "DAVIS",
        "MOORE",
        "SMITH",
        "WHITE",
        "WHITE",
    ]
    assert sorted(n for level, n in names if level == "dependent") == ["DOE", "HARRIS", "MILLER"]
    assert parsed.rejections == [] and not any(m.rejections for m in parsed.members)
    smith = next(m for m in parsed.members if m.last_name == "SMITH")
    assert (smith.first_name, smith.member_id, smith.date_of_birth) == (
        "DAVID",
        "X677906949",
        dt.date(1965, 7, 12),
    )
    assert smith.payer_id == "790003254" and smith.trace == ""  # TRN*1: not our trace
    # A dependent answers under the subscriber's member id.
    miller = next(m for m in parsed.members if m.last_name == "MILLER")
    assert (miller.member_id, miller.date_of_birth) == ("X965341685", dt.date(2017, 3, 4))


@pytest.mark.parametrize(
    ("name", "members"),
    [
        ("x12sdk-generated-mixed-members.271", 9),
        ("x12sdk-generated-dependent-members.271", 4),
        ("x12sdk-generated-subscriber-members.271", 3),
    ],
)
def test_x12sdk_members_with_benefits_are_active_without_money(name, members):
    parsed = parse_271(sample(name))
    assert len(parsed.members) == members
    answered = [m for m in parsed.members if m.has_information]
    for member in answered:
        result = member.result()
        assert result.status == "active" and result.method == "x12_271"
        assert member.service_types and set(member.service_types) <= {"1", "30", "35"}
        money = (result.copay, result.deductible, result.deductible_remaining)
        assert money == (None, None, None) and result.problems == ()
    # Subscribers the payer answers only about their dependents: no answer of their own.
    for member in parsed.members:
        if not member.has_information:
            assert member.level == "subscriber" and member.dependents == 1


def test_linuxforhealth_demo_smith_john_gold_plan_with_copays():
    parsed = parse_271(sample("linuxforhealth-demo.271"))
    (smith,) = parsed.members
    assert (smith.last_name, smith.first_name, smith.member_id) == ("SMITH", "JOHN", "123456789")
    assert smith.date_of_birth == dt.date(1963, 5, 19)
    assert smith.payer_name == "ABC COMPANY" and smith.payer_id == "841610001"
    assert smith.trace == "93175-012547"
    result = smith.result()
    assert result.status == "active" and result.plan_name == "GOLD 123 PLAN"
    assert result.copay == Decimal("10.00")  # in network (EB12 = Y) first
    copays = [b for b in smith.benefits if b.code == "B"]
    assert [(b.amount, b.in_network) for b in copays] == [
        (Decimal("10.00"), "Y"),
        (Decimal("30.00"), "N"),
    ]
    # Ten service types, split on the ISA's repetition separator (^).
    assert all(len(b.service_types) == 10 for b in copays)
    assert copays[0].service_types[:3] == ("1", "33", "35")
    assert any(b.code == "L" and b.label == "primary care provider" for b in smith.benefits)
    assert result.reference == "93175-012547"


def test_our_aaa_sample_rejection_inactive_and_money():
    garcia, nguyen, patel = parse_271(sample("ours-aaa-rejections.271")).members
    rejected = garcia.result()
    assert rejected.status == "needs_info"
    assert rejected.problems == (
        "AAA 72: the member id is invalid or missing (correct the request and send it again)",
    )
    assert nguyen.result().status == "inactive" and nguyen.result().plan_name == "BASIC DENTAL"
    active = patel.result()
    assert (active.status, active.plan_name, active.group_number) == (
        "active",
        "PREMIER DENTAL PPO",
        "GRP-77",
    )
    assert active.coinsurance_percent == Decimal("20.00")
    assert (active.deductible, active.deductible_remaining) == (Decimal("50.00"), Decimal("20.00"))
    assert active.annual_max_remaining == Decimal("1200.00")
    assert active.copay == Decimal("25.00")
    assert active.reference == "E-3"


def test_an_aaa_about_the_payer_is_a_file_level_rejection():
    text = sample("ours-aaa-rejections.271")
    text = text.replace("PI*555123456~\n", "PI*555123456~\nAAA*N**42*R~\n").replace(
        "SE*28*0001", "SE*29*0001"
    )
    parsed = parse_271(text)
    (rejection,) = parsed.rejections
    assert rejection.about == "payer" and rejection.segment == 7
    assert rejection.text == "AAA 42: the payer cannot answer right now (it may be sent again)"


def test_a_malformed_amount_is_refused_with_the_segment_named():
    text = sample("ours-aaa-rejections.271").replace("*25.00*", "*25,00*")
    (error,) = refused(text)
    assert (error.segment_index, error.segment_id) == (29, "EB")
    assert "EB07 benefit amount '25,00' is not a number" in str(error)


def test_a_wrong_segment_count_is_refused():
    text = sample("linuxforhealth-demo.271").replace("SE*22*4321", "SE*21*4321")
    (error,) = refused(text)
    assert error.segment_id == "SE" and "SE01 says 21 segments, the transaction has 22" in str(
        error
    )


def test_every_problem_is_listed_in_segment_order():
    text = (
        sample("ours-aaa-rejections.271")
        .replace("AAA*N**72*C", "AAA*Q**72*C")
        .replace("DMG*D8*19750630", "DMG*D8*19751330")
    )
    errors = refused(text)
    assert [(e.segment_index, e.segment_id) for e in errors] == [(12, "AAA"), (17, "DMG")]


def test_a_270_is_not_a_271():
    errors = refused(sample("linuxforhealth-demo.270"))
    assert [(e.segment_index, e.segment_id) for e in errors] == [(2, "GS"), (3, "ST")]
    assert "GS01 'HS' / GS08 '005010X279A1' is not a 271" in errors[0].reason


def test_missing_trailers_and_unknown_segments_are_refused():
    text = sample("linuxforhealth-demo.271")
    (error,) = refused(text[: text.index("GE*1*1")])
    assert error.segment_id == "SE" or error.segment_id == "IEA"
    (error,) = refused(text.replace("EB*L~", "XYZ*L~"))
    assert error.segment_id == "XYZ" and "unknown segment id" in error.reason


def test_the_individual_in_network_deductible_is_chosen_over_the_familys():
    text = (
        sample("ours-aaa-rejections.271")
        .replace(
            "EB*C**35***23*50.00*****Y~\n",
            "EB*C*FAM*35***23*150.00*****Y~\nEB*C*IND*35***23*50.00*****N~\n"
            "EB*C*IND*35***23*50.00*****Y~\n",
        )
        .replace("SE*28*0001", "SE*30*0001")
    )
    patel = parse_271(text).members[2]
    assert [b.coverage_level for b in patel.benefits if b.code == "C"] == ["FAM", "IND", "IND", ""]
    assert patel.result().deductible == Decimal("50.00")
    assert patel.result().deductible_remaining == Decimal("20.00")
