"""837P / 837D parsing (claims.x12): public samples, hand-built samples, malformed input."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest

from claims.x12 import (
    Adjustment,
    Batch,
    Delimiters,
    LineAdjudication,
    OtherPayer,
    ParsedClaim,
    ParsedLine,
    Patient,
    Subscriber,
    Tooth,
    X12Error,
    X12Errors,
    detect_x12,
    parse_837,
)
from claims.x12.tokenizer import tokenize

PUBLIC = Path(__file__).parent / "samples" / "public"
MIXED = PUBLIC / "x12sdk-generated-mixed-patients.837"
COB = PUBLIC / "x12sdk-cob-two-other-payer-referring-providers.837"
SAMPLES = Path(__file__).parent / "samples"
PROFESSIONAL = SAMPLES / "professional_two_claims.837"
DENTAL = SAMPLES / "dental_two_claims.837"

D = Decimal


def read(path: Path) -> str:
    return path.read_text(encoding="ascii")


def raises_x12(text: str) -> X12Error:
    with pytest.raises(X12Error) as info:
        parse_837(text)
    return info.value


# --- (a) public samples -----------------------------------------------------------------


def test_public_mixed_patients_claim_numbers_and_totals() -> None:
    batch = parse_837(read(MIXED))

    assert [c.claim_number for c in batch.claims] == [f"PCN00000{n}" for n in range(1, 7)]
    assert [c.total_charge for c in batch.claims] == [
        D("2472.31"),
        D("489.14"),
        D("2497.84"),
        D("2644.34"),
        D("209.62"),
        D("642.22"),
    ]
    assert all(c.total_charge == sum(line.charge for line in c.lines) for c in batch.claims)


def test_public_mixed_patients_envelope_and_lines() -> None:
    batch = parse_837(read(MIXED))

    assert (batch.kind, batch.implementation) == ("837P", "005010X222A2")
    assert (batch.sender_id, batch.receiver_id) == ("SYNTHETICPROV", "SYNTHETICPAYER")
    assert batch.interchange_control_number == "000000001"
    # The README table says "15 lines", but the file (byte-identical to the upstream x12sdk
    # resource) holds 13 LX/SV1 service lines: 3 + 3 + 2 + 1 + 1 + 3.
    assert sum(len(c.lines) for c in batch.claims) == 13
    assert [len(c.lines) for c in batch.claims] == [3, 3, 2, 1, 1, 3]
    assert [line.procedure_code for line in batch.claims[0].lines] == ["85025", "99213", "99213"]
    charges = [line.charge for line in batch.claims[0].lines]
    assert charges == [D("1825.77"), D("100.70"), D("545.84")]
    assert [line.line_number for line in batch.claims[5].lines] == [1, 2, 3]
    for claim in batch.claims:
        assert claim.billing_npi == "2697436980"
        assert claim.payer_name == "EXAMPLE HEALTH PLAN"
        assert (claim.facility_code, claim.place_of_service, claim.frequency_code) == (
            "11",
            "11",
            "1",
        )
        assert claim.subscriber.payer_responsibility == "P"
        assert claim.subscriber.cob_order == 1
        assert claim.other_payers == ()
        for line in claim.lines:
            assert line.units == 1
            assert line.diagnosis_pointers == (1,)
            assert line.service_date == claim.service_date_from == claim.service_date_to
    assert [c.diagnosis_codes for c in batch.claims] == [
        ("J069",),
        ("Z0000",),
        ("E1165",),
        ("J069",),
        ("J069",),
        ("K219",),
    ]
    assert [c.payer_id for c in batch.claims] == [
        "090253",
        "101380",
        "569860",
        "288181",
        "434302",
        "979506",
    ]
    assert batch.claims[2].service_date_from == dt.date(2025, 8, 4)


def test_public_mixed_patients_subscribers_and_dependents() -> None:
    claims = {c.claim_number: c for c in parse_837(read(MIXED)).claims}

    first = claims["PCN000001"]
    assert first.subscriber == Subscriber(
        member_id="X751966343",
        first_name="JOHN",
        last_name="BROWN",
        dob=dt.date(1937, 6, 27),
        payer_responsibility="P",
        cob_order=1,
        relationship="18",
        group_number=None,
    )
    assert first.patient == Patient("JOHN", "BROWN", dt.date(1937, 6, 27), "18")

    dependent = claims["PCN000004"]
    assert (dependent.subscriber.last_name, dependent.subscriber.first_name) == ("THOMAS", "SUSAN")
    assert dependent.subscriber.member_id == "Z130251451"
    assert dependent.subscriber.dob == dt.date(2004, 11, 7)
    assert dependent.patient == Patient("MARY", "MARTIN", dt.date(2010, 9, 9), "19")

    other = claims["PCN000005"]
    assert other.subscriber.member_id == "W130208343"
    assert other.patient == Patient("MARGARET", "WHITE", dt.date(2012, 4, 26), "19")
    for number in ("PCN000002", "PCN000003", "PCN000006"):
        assert claims[number].patient.relationship == "18"


def test_public_cob_secondary_claim_with_other_payer_adjudication() -> None:
    batch = parse_837(read(COB))

    assert (batch.kind, batch.sender_id, batch.interchange_control_number) == (
        "837P",
        "000000005",
        "000000907",
    )
    (claim,) = batch.claims
    assert claim.claim_number == "101KEN6055"
    assert claim.total_charge == D("120.00")
    assert claim.subscriber.payer_responsibility == "S"
    assert claim.subscriber.cob_order == 2
    assert claim.subscriber.member_id == "102200221B1"
    assert (claim.payer_name, claim.payer_id) == ("MEDICARE", "10234")
    assert claim.billing_npi == "0100000009"
    # 2310B rendering provider; the 2330 other-payer provider loops must not override it.
    assert claim.rendering_npi == "9090909090"
    assert claim.diagnosis_codes == ("71516", "71906")
    assert claim.patient == Patient("WAYNE", "MEDYUM", dt.date(1956, 1, 10), "18")

    (other,) = claim.other_payers
    assert other == OtherPayer(
        responsibility="P",
        cob_order=1,
        payer_name="COMMERCE",
        payer_id="59999",
        paid_amount=D("80.00"),
        adjustments=(),  # this file adjusts at line level (2430), not claim level (2320)
    )

    (line,) = claim.lines
    assert (line.procedure_code, line.modifiers, line.charge, line.units) == (
        "99203",
        ("25",),
        D("120.00"),
        D("1.00"),
    )
    assert line.diagnosis_pointers == (1, 2)
    assert line.service_date == dt.date(2005, 1, 19)
    assert line.adjudications == (
        LineAdjudication(
            payer_id="59999",
            paid_amount=D("80.00"),
            procedure_code="99203",
            paid_units=D("1.00"),
            adjustments=(Adjustment("CO", "42", D("25.00")), Adjustment("PR", "2", D("15.00"))),
            adjudication_date=dt.date(2005, 1, 28),
        ),
    )


@pytest.mark.parametrize("path", [MIXED, COB, PROFESSIONAL, DENTAL], ids=lambda p: p.name)
def test_tokenizer_agrees_with_pyx12(path: Path) -> None:
    x12file = pytest.importorskip("pyx12.x12file")
    text = read(path)
    with x12file.X12Reader(io.StringIO(text)) as reader:
        theirs = [seg.format() for seg in reader]
        assert reader.pop_errors() == []
    _, _, ours = tokenize(text)
    assert [
        "*".join(seg.elements).rstrip("*") + "~" for seg in ours
    ] == theirs  # pyx12 drops trailing empty elements


# --- (b) hand-built samples -------------------------------------------------------------


def test_professional_envelope() -> None:
    batch = parse_837(read(PROFESSIONAL))

    assert batch.kind == "837P"
    assert batch.implementation == "005010X222A1"
    assert (batch.sender_id, batch.receiver_id) == ("BILLINGOPS", "CLEARINGHOUSE")
    assert batch.interchange_control_number == "000000123"
    assert batch.delimiters == Delimiters(element="*", component=":", segment="~", repetition="^")
    assert [c.claim_number for c in batch.claims] == ["MFM-1001", "MFM-1002"]


def test_professional_claim_where_subscriber_is_patient() -> None:
    claim = parse_837(read(PROFESSIONAL)).claims[0]

    jane = Subscriber(
        member_id="W123456789",
        first_name="JANE",
        last_name="DOE",
        dob=dt.date(1980, 2, 15),
        payer_responsibility="P",
        cob_order=1,
        relationship="18",
        group_number="GRP7788",
    )
    day = dt.date(2026, 1, 10)
    assert claim == ParsedClaim(
        claim_number="MFM-1001",
        total_charge=D("250.00"),
        facility_code="11",
        frequency_code="1",
        payer_name="ACME HEALTH",
        payer_id="60054",
        billing_npi="1234567893",
        rendering_npi="1987654325",
        subscriber=jane,
        patient=Patient("JANE", "DOE", dt.date(1980, 2, 15), "18"),
        diagnosis_codes=("J069", "R509"),
        service_date_from=day,
        service_date_to=day,
        other_payers=(),
        lines=(
            ParsedLine(
                line_number=1,
                procedure_qualifier="HC",
                procedure_code="99214",
                modifiers=("25",),
                charge=D("175.00"),
                units=D("1"),
                place_of_service=None,
                diagnosis_pointers=(1, 2),
                teeth=(),
                service_date=day,
                service_date_to=day,
                adjudications=(),
                unit_basis="UN",
            ),
            ParsedLine(
                line_number=2,
                procedure_qualifier="HC",
                procedure_code="87880",
                modifiers=(),
                charge=D("75.00"),
                units=D("1"),
                place_of_service=None,
                diagnosis_pointers=(1,),
                teeth=(),
                service_date=day,
                service_date_to=day,
                adjudications=(),
                unit_basis="UN",
            ),
        ),
    )


def test_professional_claim_for_dependent_patient() -> None:
    claim = parse_837(read(PROFESSIONAL)).claims[1]

    assert claim.claim_number == "MFM-1002"
    assert claim.total_charge == D("360.50")
    assert claim.frequency_code == "7"  # replacement claim
    assert (claim.payer_name, claim.payer_id) == ("BLUE PLAN", "00431")
    assert claim.billing_npi == "1234567893"
    assert claim.rendering_npi is None
    assert claim.subscriber == Subscriber(
        member_id="XYZ987654",
        first_name="RICHARD",
        last_name="ROE",
        dob=dt.date(1975, 5, 30),
        payer_responsibility="P",
        cob_order=1,
        relationship=None,
        group_number="GRP5500",
    )
    assert claim.patient == Patient("TIMMY", "ROE", dt.date(2015, 7, 4), "19")
    assert claim.diagnosis_codes == ("S93401A",)
    assert (claim.service_date_from, claim.service_date_to) == (
        dt.date(2026, 1, 11),
        dt.date(2026, 1, 12),
    )
    office, xray = claim.lines
    assert (office.procedure_code, office.modifiers, office.charge) == ("99203", (), D("160.50"))
    assert office.place_of_service == "11"
    assert xray.procedure_code == "73610"
    assert xray.modifiers == ("RT", "59")
    assert (xray.charge, xray.units, xray.diagnosis_pointers) == (D("200.00"), D("2"), (1,))
    assert (xray.service_date, xray.service_date_to) == (dt.date(2026, 1, 11), dt.date(2026, 1, 12))


def test_dental_envelope() -> None:
    batch = parse_837(read(DENTAL))

    assert batch.kind == "837D"
    assert batch.implementation == "005010X224A2"
    assert (batch.sender_id, batch.receiver_id) == ("SUNRISEDENTAL", "DENTALCH")
    assert batch.interchange_control_number == "000000777"
    assert [c.claim_number for c in batch.claims] == ["SD-2001", "SD-2002"]


def test_dental_claim_with_tooth_and_surfaces() -> None:
    claim = parse_837(read(DENTAL)).claims[0]

    assert claim.claim_number == "SD-2001"
    assert claim.total_charge == D("285.00")
    assert (claim.facility_code, claim.frequency_code) == ("11", "1")
    assert (claim.payer_name, claim.payer_id) == ("DELTA TEETH", "DT001")
    assert (claim.billing_npi, claim.rendering_npi) == ("1730000008", "1649999995")
    assert claim.subscriber.member_id == "DEN445566"
    assert claim.subscriber.group_number == "DG100"
    assert claim.patient == Patient("MORGAN", "LEE", dt.date(1990, 3, 12), "18")
    assert claim.diagnosis_codes == ()
    assert claim.service_date_from == claim.service_date_to == dt.date(2026, 1, 5)
    filling, cleaning = claim.lines
    assert filling == ParsedLine(
        line_number=1,
        procedure_qualifier="AD",
        procedure_code="D2392",
        modifiers=(),
        charge=D("190.00"),
        units=D("1"),
        place_of_service=None,
        diagnosis_pointers=(),
        teeth=(Tooth("14", ("M", "O")),),
        service_date=None,  # the date is on the claim (2300 DTP*472), not the line
        service_date_to=None,
        adjudications=(),
    )
    assert (filling.tooth_number, filling.surfaces) == ("14", ("M", "O"))
    assert (cleaning.procedure_code, cleaning.charge, cleaning.units) == ("D1110", D("95.00"), 1)
    assert (cleaning.tooth_number, cleaning.surfaces) == (None, ())


def test_dental_secondary_claim_with_claim_level_adjudication() -> None:
    claim = parse_837(read(DENTAL)).claims[1]

    assert claim.claim_number == "SD-2002"
    assert claim.total_charge == D("170.00")
    assert claim.subscriber.payer_responsibility == "S"
    assert claim.subscriber.cob_order == 2
    assert (claim.subscriber.first_name, claim.subscriber.member_id) == ("PRIYA", "DEN990011")
    assert claim.patient == Patient("ARJUN", "PATEL", dt.date(2014, 9, 9), "19")
    assert claim.diagnosis_codes == ("K0251",)
    assert claim.rendering_npi == "1649999995"  # not replaced by the 2330D NM1*82
    assert claim.other_payers == (
        OtherPayer(
            responsibility="P",
            cob_order=1,
            payer_name="GUARDIAN DENTAL",
            payer_id="GD555",
            paid_amount=D("110.00"),
            adjustments=(
                Adjustment("CO", "45", D("40.00")),
                Adjustment("CO", "253", D("2.00")),
                Adjustment("PR", "3", D("18.00")),
            ),
        ),
    )
    assert [line.procedure_code for line in claim.lines] == ["D0120", "D0220", "D2160"]
    assert [line.units for line in claim.lines] == [1, 2, 1]
    assert claim.lines[2].teeth == (Tooth("3", ("M", "O", "D")),)
    assert (claim.service_date_from, claim.service_date_to) == (
        dt.date(2026, 1, 8),
        dt.date(2026, 1, 9),
    )
    assert all(line.adjudications == () for line in claim.lines)


def test_parsed_objects_are_frozen() -> None:
    claim = parse_837(read(PROFESSIONAL)).claims[0]

    with pytest.raises(AttributeError):
        claim.total_charge = D("1")  # type: ignore[misc]
    assert hash(claim) == hash(parse_837(read(PROFESSIONAL)).claims[0])


# --- (c) malformed input ----------------------------------------------------------------


def test_error_is_a_value_error_with_a_readable_message() -> None:
    text = read(PROFESSIONAL).replace("CLM*MFM-1001*250.00", "CLM*MFM-1001*abc")

    error = raises_x12(text)

    assert isinstance(error, ValueError)
    assert (error.segment_index, error.segment_id) == (21, "CLM")
    assert str(error) == "segment 21 (CLM): CLM02 total charge 'abc' is not a number"


@pytest.mark.parametrize("text", ["", "   \n", "hello world", "GS*HC*X~"])
def test_input_not_starting_with_isa(text: str) -> None:
    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (1, "ISA")
    assert "does not start with an ISA header" in error.reason


def test_wrong_isa_length() -> None:
    text = read(PROFESSIONAL).replace("*BILLINGOPS     *", "*BILLINGOPS    *", 1)

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (1, "ISA")
    assert error.reason.startswith("ISA06 is 14 characters, expected 15")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ISA*00*          *00*", "the ISA header ends at ISA04"),
        ("ISA000*          *00*", "cannot detect the element separator"),
        ("ISA*00*" + " " * 10 + "*00*" + " " * 10 + "*ZZ*SHORT", "the ISA header ends at ISA06"),
    ],
)
def test_delimiters_cannot_be_detected(text: str, reason: str) -> None:
    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (1, "ISA")
    assert reason in error.reason


def test_segment_terminator_must_differ_from_other_delimiters() -> None:
    text = read(PROFESSIONAL)
    text = text[:105] + ":" + text[106:]  # terminator == component separator

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (1, "ISA")
    assert "must be distinct" in error.reason


def test_missing_iea_trailer() -> None:
    text = read(PROFESSIONAL).replace("IEA*1*000000123~\n", "")

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (56, "IEA")
    assert error.reason == "missing IEA trailer: interchange '000000123' is not closed"


def test_missing_ge_trailer() -> None:
    text = read(PROFESSIONAL).replace("GE*1*42~\n", "")

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (55, "IEA")
    assert "missing GE trailer" in error.reason


def test_missing_se_trailer() -> None:
    text = read(PROFESSIONAL).replace("SE*52*0001~\n", "")

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (54, "GE")
    assert "missing SE trailer" in error.reason


def test_truncated_file_reports_the_innermost_missing_trailer() -> None:
    text = read(PROFESSIONAL)
    text = text[: text.index("SE*52")]

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (54, "SE")
    assert "missing SE trailer" in error.reason


def test_se_segment_count_mismatch() -> None:
    text = read(PROFESSIONAL).replace("SE*52*0001~", "SE*51*0001~")

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (54, "SE")
    assert "does not match 52 segments" in error.reason


def test_ge_count_mismatch() -> None:
    error = raises_x12(read(PROFESSIONAL).replace("GE*1*42~", "GE*2*42~"))

    assert (error.segment_index, error.segment_id) == (55, "GE")


@pytest.mark.parametrize("version", ["005010X221A1", "005010X223A2", "004010X098A1"])
def test_gs08_not_an_837p_or_837d_version(version: str) -> None:
    text = read(PROFESSIONAL).replace("*X*005010X222A1~", f"*X*{version}~", 1)

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (2, "GS")
    assert f"GS08 '{version}'" in error.reason
    assert "is not an 837P/837D version" in error.reason


def test_st_version_must_match_gs08() -> None:
    text = read(PROFESSIONAL).replace("ST*837*0001*005010X222A1~", "ST*837*0001*005010X224A2~")

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (3, "ST")


def test_clm_with_non_numeric_charge() -> None:
    text = read(DENTAL).replace("CLM*SD-2002*170.00", "CLM*SD-2002*1E5")

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (42, "CLM")
    assert error.reason == "CLM02 total charge '1E5' is not a number"


def test_claim_total_not_equal_to_sum_of_lines() -> None:
    text = read(PROFESSIONAL).replace("SV1*HC:87880*75.00", "SV1*HC:87880*70.00")

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (21, "CLM")
    assert error.reason == (
        "CLM02 total charge 250.00 of claim 'MFM-1001' does not equal the sum of its "
        "line charges 245.00"
    )


def test_service_line_outside_any_claim() -> None:
    text = read(PROFESSIONAL).replace(
        "NM1*PR*2*ACME HEALTH*****PI*60054~\n",
        "NM1*PR*2*ACME HEALTH*****PI*60054~\nLX*1~\nSV1*HC:99213*1.00*UN*1~\n",
    )
    # the SE count must stay right so the line itself is what fails
    text = text.replace("SE*52*0001~", "SE*54*0001~")

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (21, "LX")
    assert "outside any claim" in error.reason


def test_second_service_segment_without_lx() -> None:
    text = read(DENTAL).replace("LX*2~\nSV3*AD:D1110", "SV3*AD:D1110").replace("SE*64", "SE*63")

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (27, "SV3")
    assert "second service segment for line 1" in error.reason


def test_diagnosis_pointer_without_diagnosis() -> None:
    text = read(PROFESSIONAL).replace("*UN*1***1:2~", "*UN*1***1:3~")

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (27, "SV1")
    assert "has no HI diagnosis code" in error.reason


def test_professional_service_line_in_dental_file() -> None:
    text = read(DENTAL).replace("SV3*AD:D1110*95.00", "SV1*HC:99213*95.00*UN*1")

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (28, "SV1")
    assert "in an 837D transaction" in error.reason


@pytest.mark.parametrize(
    ("old", "new", "index", "segment_id", "reason"),
    [
        ("N3*12 ELM ST~", "N3*12 \x00\x01 ST~", 17, "N3", "unexpected character '\\x00'"),
        ("N3*12 ELM ST~", "N3*12 \ufffd ST~", 17, "N3", "unexpected character"),
        ("N3*12 ELM ST~", "FOO*12 ELM ST~", 17, "FOO", "unknown segment id 'FOO'"),
        ("N3*12 ELM ST~", "n3*12 ELM ST~", 17, "n3", "unknown segment id 'n3'"),
        ("N3*12 ELM ST~", "~", 17, "", "empty segment"),
        ("IEA*1*000000123~\n", "IEA*1*000000123~\nGARBAGE", 57, "GAR", "data after the last"),
        ("IEA*1*000000123~\n", "IEA*1*000000123~\nNTE*1~", 57, "NTE", "after the IEA"),
    ],
)
def test_garbage_bytes(old: str, new: str, index: int, segment_id: str, reason: str) -> None:
    text = read(PROFESSIONAL).replace(old, new, 1)

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (index, segment_id)
    assert reason in error.reason


def test_bad_date_is_reported() -> None:
    error = raises_x12(read(PROFESSIONAL).replace("DMG*D8*19800215", "DMG*D8*19801315"))

    assert (error.segment_index, error.segment_id) == (19, "DMG")
    assert error.reason == "date '19801315' is not a valid CCYYMMDD date"


# --- (d) line endings and delimiters ----------------------------------------------------


@pytest.mark.parametrize("path", [MIXED, COB, PROFESSIONAL, DENTAL], ids=lambda p: p.name)
def test_windows_line_endings_and_no_newlines_parse_the_same(path: Path) -> None:
    text = read(path)
    expected = parse_837(text)

    assert parse_837(text.replace("\n", "\r\n")) == expected
    assert parse_837(text.replace("\n", "")) == expected
    assert parse_837("\ufeff \r\n" + text.replace("~\n", "~\r\n\r\n") + "\r\n\r\n") == expected


def test_delimiters_are_read_from_the_isa_header() -> None:
    text = read(PROFESSIONAL)
    expected = parse_837(text)
    other = text.replace("*", "|").replace(":", ">").replace("^", "!").replace("~", "")

    batch = parse_837(other)  # segments now end with the newline ISA[105] names

    assert batch.delimiters == Delimiters(element="|", component=">", segment="\n", repetition="!")
    assert batch.claims == expected.claims
    assert batch.claims[0].lines[0].diagnosis_pointers == (1, 2)
    assert batch.claims[1].lines[1].modifiers == ("RT", "59")


def test_repetition_separator_is_optional_for_old_style_isa11() -> None:
    text = read(DENTAL).replace("*1415*^*00501*", "*1415*U*00501*", 1)

    assert parse_837(text).delimiters.repetition is None


def test_detect_x12() -> None:
    assert detect_x12(read(COB))
    assert detect_x12("\r\n  \tISA*00*")
    assert not detect_x12("")
    assert not detect_x12("claim_number,total\nPCN1,10.00\n")
    assert not detect_x12("ST,name\n1,2\n")  # a CSV header, not an envelope
    # An interchange cut after its ISA is X12 still, so parsing says the ISA is missing.
    assert detect_x12("GS*HC*")


def test_batch_type() -> None:
    assert isinstance(parse_837(read(DENTAL)), Batch)


def test_two_transaction_sets_in_one_group() -> None:
    text = read(PROFESSIONAL)
    body = text[text.index("ST*837") : text.index("GE*")]
    second = body.replace("ST*837*0001*", "ST*837*0002*").replace("SE*52*0001", "SE*52*0002")
    text = text.replace("GE*1*42~", second + "GE*2*42~")

    batch = parse_837(text)

    assert [c.claim_number for c in batch.claims] == ["MFM-1001", "MFM-1002"] * 2
    assert batch.claims[2] == batch.claims[0]


def test_claim_outside_a_subscriber_loop() -> None:
    text = read(PROFESSIONAL).replace("HL*2*1*22*0~", "HL*2*1*20*0~")

    error = raises_x12(text)

    assert (error.segment_index, error.segment_id) == (21, "CLM")
    assert "CLM outside a subscriber" in error.reason


# --- (e) issue 7: every fact kept, every problem reported ---------------------------------

FILES = Path(__file__).parent / "import_files"


def test_teeth_unit_basis_ranges_and_replacement_reference() -> None:
    dental = parse_837(read(FILES / "d_five_teeth.837")).claims[0]
    assert [t.number for t in dental.lines[0].teeth] == ["31", "30", "21", "19", "18"]
    assert dental.lines[0].teeth[4] == Tooth("18", ("D", "O", "L"))

    replacement = parse_837(read(FILES / "p_replacement.837")).claims[0]
    assert (replacement.frequency_code, replacement.payer_claim_number) == ("7", "PAYERICN900")
    minutes, therapy = replacement.lines
    assert (minutes.unit_basis, minutes.units) == ("MJ", D("45"))
    assert (therapy.service_date, therapy.service_date_to) == (
        dt.date(2026, 1, 10),
        dt.date(2026, 1, 12),
    )


def test_encounter_files_are_told_apart() -> None:
    assert parse_837(read(FILES / "p_encounter.837")).transaction_type == "RP"
    assert parse_837(read(FILES / "p_original.837")).transaction_type == "CH"


def test_every_problem_is_listed_in_segment_order() -> None:
    error = raises_x12(read(FILES / "p_many_problems.837"))

    assert isinstance(error, X12Errors)
    assert [(e.segment_index, e.segment_id) for e in error.errors] == [
        (7, "NM1"),
        (14, "SBR"),
        (15, "NM1"),
        (16, "N4"),
        (17, "N3"),
        (20, "CLM"),
    ]
    assert (error.segment_index, error.segment_id) == (7, "NM1")  # the first one


def test_problems_inside_claims_do_not_stop_the_reading() -> None:
    text = read(PROFESSIONAL)
    text = text.replace("CLM*MFM-1001*250.00", "CLM*MFM-1001*abc")  # claim 1 unreadable
    text = text.replace("SV1*HC:73610:RT:59*200.00*UN*2", "SV1*HC:73610:RT:59*200.00*XX*2")

    error = raises_x12(text)

    assert isinstance(error, X12Errors)
    assert [str(e) for e in error.errors] == [
        "segment 21 (CLM): CLM02 total charge 'abc' is not a number",
        "segment 52 (SV1): SV103 (unit or basis for measurement code) 'XX' is not one of MJ, UN",
    ]


def test_problems_are_capped() -> None:
    text = read(PROFESSIONAL).replace("SBR*P*", "SBR*Z*")

    error = raises_x12(text)
    assert isinstance(error, X12Errors) and len(error.errors) == 2

    with pytest.raises(X12Errors) as info:
        parse_837(text, max_problems=1)
    assert (len(info.value.errors), info.value.more) == (1, 1)


def test_input_starting_with_gs_says_missing_isa() -> None:
    error = raises_x12(read(FILES / "gs_first.837"))

    assert (error.segment_index, error.segment_id) == (1, "ISA")
    assert error.reason.startswith("missing ISA: the input does not start with an ISA header")
    assert "segment 1 (character 1) is GS" in error.reason


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "CLM*MFM-1001*250.00***11:B:1",
            "CLM*MFM-1001*250.00***11:B:5",
            "CLM05-3 (claim frequency",
        ),
        ("PAT*19~", "PAT*77~", "PAT01 (individual relationship code) '77' is not"),
        ("DMG*D8*19800215*F", "DMG*D8*19800215*X", "DMG03 (gender code) 'X' is not one of F, M, U"),
        ("NM1*PR*2*ACME HEALTH*****PI*60054", "NM1*PR*2*ACME HEALTH", "NM108"),
        ("NM1*85*2*MAPLE FAMILY MEDICINE", "NM1*85*2*", "NM103 (name) is required for NM1*85"),
    ],
)
def test_code_lists_and_required_elements(old: str, new: str, message: str) -> None:
    assert old in read(PROFESSIONAL)
    error = raises_x12(read(PROFESSIONAL).replace(old, new, 1))

    assert any(message in e.reason for e in error.errors), [str(e) for e in error.errors]  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", [MIXED, COB, PROFESSIONAL, DENTAL], ids=lambda p: p.name)
def test_good_samples_pass_the_element_rules(path: Path) -> None:
    assert parse_837(read(path)).claims


def test_predetermination_has_no_service_date() -> None:
    (claim,) = parse_837(read(FILES / "d_predetermination.837")).claims
    assert claim.predetermination
    assert (claim.service_date_from, claim.service_date_to) == (None, None)
    assert not parse_837(read(DENTAL)).claims[0].predetermination
