"""The 277CA parser on the two imsweb samples as they are (one with `|` as its component
separator, one without a final newline) and on files written here: a malformed STC, an
835 given as a 277CA."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ar.x12_277 import parse_277ca
from claims.x12 import X12Errors
from tests.ar.conftest import sample

ACCEPTED = "imsweb-277ca-accepted.txt"
REJECTED = "imsweb-277ca-rejected.txt"


def test_accepted_sample_facts():
    parsed = parse_277ca(sample(ACCEPTED))
    assert (parsed.payer_name, parsed.payer_id, parsed.trace) == (
        "NYSDOH",
        "141797357",
        "000014420",
    )
    assert [s.codes for s in parsed.receiver_statuses] == ["A1:20"]
    [claim] = parsed.claims
    assert claim.patient_control_number == "5781"
    assert claim.payer_claim_number == "1107000000014420"
    assert claim.codes == "A2:20"
    assert claim.amount == Decimal("125")
    assert claim.status_date == dt.date(2011, 3, 11)
    assert (claim.accepted, claim.rejected) == (True, False)
    assert claim.patient_last_name == "TPATIENT"


def test_rejected_sample_with_pipe_component_separator():
    parsed = parse_277ca(sample(REJECTED))
    [claim] = parsed.claims
    assert claim.patient_control_number == "3920394930203"
    assert claim.payer_claim_number == "1107000000001120"
    status = claim.deciding
    assert status is not None
    assert (status.category, status.status, status.entity) == ("A7", "562", "85")
    assert claim.amount == Decimal("199.14")
    assert (claim.accepted, claim.rejected) == (False, True)
    # The codes with our own wording: what the Rejections queue shows.
    assert claim.reason.startswith("A7:562:85 rejected: something is invalid")
    assert "billing provider NPI" in claim.reason


def test_malformed_stc_is_refused_with_its_segment():
    text = sample(ACCEPTED).replace("STC*A2:20*", "STC*:20*")
    with pytest.raises(X12Errors) as caught:
        parse_277ca(text)
    assert (caught.value.segment_index, caught.value.segment_id) == (22, "STC")
    assert "is not a status category" in caught.value.reason


def test_stc_without_status_code_and_bad_date_are_both_listed():
    text = sample(ACCEPTED).replace("STC*A2:20*20110311", "STC*A2*20111399")
    with pytest.raises(X12Errors) as caught:
        parse_277ca(text)
    reasons = [e.reason for e in caught.value.errors]
    assert len(reasons) == 1 and "not a CCYYMMDD date" in reasons[0]
    text = sample(ACCEPTED).replace("STC*A2:20*", "STC*A2*")
    with pytest.raises(X12Errors, match="has no status code"):
        parse_277ca(text)


def test_wrong_segment_count_and_transaction_type_are_refused():
    with pytest.raises(X12Errors, match="SE01 says 23 segments, the transaction has 22"):
        parse_277ca(sample(ACCEPTED).replace("REF*1K*1107000000014420~", ""))
    with pytest.raises(X12Errors, match="ST01 '835' is not 277") as caught:
        parse_277ca(sample(ACCEPTED).replace("ST*277*", "ST*835*"))
    assert [e.segment_index for e in caught.value.errors] == [3]
