"""The 270 batch of a practice's day (service and ``manage.py export_270``): the open checks
of that day only, one 2000C per subscriber, unique stored control numbers, and a 271
answering our traces finds the checks again."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from claims.x12.tokenizer import tokenize
from eligibility.choices import CheckOutcome
from eligibility.response_export import export_270
from eligibility.response_models import Eligibility270Export
from eligibility.responses import response_import
from practices.choices import Relationship
from tests.eligibility import x12_fixtures
from tests.eligibility.test_270_writer import KNOWN_270, check_envelopes

make_check = x12_fixtures.make_check  # the fixture


def day_of(check: Any) -> dt.date:
    return timezone.localtime(check.appointment.starts_at).date()


@pytest.mark.django_db
def test_the_days_open_checks_one_2000c_per_subscriber(world, make_check):
    john = make_check("DD1", "Doe", "John", dt.date(1970, 1, 1), "M001")
    jane = make_check(
        "DD1", "Doe", "Jane", dt.date(2010, 2, 2), "M001", Relationship.CHILD, "John Doe"
    )
    later = make_check("DD1", "Roe", "Max", dt.date(1980, 1, 1), "M002", days=2)
    day = day_of(john)
    batch = export_270(actor=world.fran, practice=world.sunrise, day=day)
    assert batch.inquiry_count == 2 and set(batch.check_ids) == {john.pk, jane.pk}
    assert later.pk not in batch.check_ids
    _d, isa, segments = tokenize(batch.content, known=KNOWN_270)
    (st,) = check_envelopes(segments, isa)
    assert int(isa[12]) == batch.control_number == batch.pk
    hls = [s.el(3) for s in st if s.id == "HL"]
    assert hls == ["20", "21", "22", "23"]  # John, and Jane below him
    traces = [s.el(2) for s in st if s.id == "TRN"]
    assert traces == [john.number, jane.number]
    assert [s.el(1) for s in st if s.id == "EQ"] == ["35", "35"]  # a dental practice
    assert [s.el(3) for s in st if s.id == "DTP"] == [f"{day:%Y%m%d}"] * 2


@pytest.mark.django_db
def test_control_numbers_are_unique_per_batch(world, make_check):
    check = make_check("DD1", "Doe", "John", dt.date(1970, 1, 1), "M001")
    first = export_270(actor=world.fran, practice=world.sunrise, day=day_of(check))
    second = export_270(actor=None, practice=world.sunrise, day=day_of(check))
    numbers = [tokenize(b.content, known=KNOWN_270)[1][12] for b in (first, second)]
    assert numbers[0] != numbers[1]
    assert Eligibility270Export.objects.count() == 2


@pytest.mark.django_db
def test_nothing_to_ask_and_no_permission_are_refused(world, make_check):
    check = make_check("DD1", "Doe", "John", dt.date(1970, 1, 1), "M001")
    with pytest.raises(ValidationError, match="No open eligibility checks"):
        export_270(actor=world.fran, practice=world.sunrise, day=day_of(check) + dt.timedelta(9))
    for user in (world.vera, world.mia):
        with pytest.raises(PermissionDenied):
            export_270(actor=user, practice=world.sunrise, day=day_of(check))
    assert not Eligibility270Export.objects.exists()


@pytest.mark.django_db
def test_a_271_answering_our_traces_finds_each_check(world, make_check):
    """Two visits of the same patient: the trace in the 271 picks the one asked about."""
    first = make_check("DD1", "Doe", "John", dt.date(1970, 1, 1), "M001")
    batch = export_270(actor=world.fran, practice=world.sunrise, day=day_of(first))
    second = make_check("DD1", "Doe", "John", dt.date(1970, 1, 1), "M001", days=2)
    answer = _answer_271(batch.content, first.number)
    result = response_import(
        actor=world.fran, practice=world.sunrise, content=answer.encode(), filename="a.271"
    )
    assert result.applied_count == 1, result.entries
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == CheckOutcome.ACTIVE and second.status == CheckOutcome.NOT_DONE


def _answer_271(request: str, trace: str) -> str:
    """The payer's answer to our 270: the same loops, TRN*2 and an active EB."""
    lines = []
    for line in request.splitlines():
        segment = line.rstrip("~")
        if segment.startswith("GS*HS"):
            segment = segment.replace("GS*HS", "GS*HB", 1)
        elif segment.startswith("ST*270"):
            segment = segment.replace("ST*270", "ST*271", 1)
        elif segment.startswith("BHT*0022*13"):
            segment = segment.replace("BHT*0022*13", "BHT*0022*11", 1)
        elif segment.startswith("TRN*1*"):
            segment = segment.replace("TRN*1*", "TRN*2*", 1)
        elif segment.startswith("EQ*"):
            segment = "EB*1**35**BASIC DENTAL"
        elif segment.startswith("DTP*291") or segment.startswith("SE*"):
            continue
        lines.append(segment)
    st = next(i for i, s in enumerate(lines) if s.startswith("ST*"))
    se = next(i for i, s in enumerate(lines) if s.startswith("GE*"))
    lines.insert(se, f"SE*{se - st + 1}*0001")
    assert f"TRN*2*{trace}*" in "\n".join(lines)
    return "".join(f"{s}~\n" for s in lines)


@pytest.mark.django_db
def test_export_command_writes_the_file_or_says_there_is_nothing(world, make_check, tmp_path):
    check = make_check("DD1", "Doe", "John", dt.date(1970, 1, 1), "M001")
    target = tmp_path / "day.270"
    err = StringIO()
    day = f"{day_of(check):%Y-%m-%d}"
    call_command(
        "export_270", "--practice", "sunrise", "--date", day, "-o", str(target), stderr=err
    )
    text = target.read_text()
    _d, isa, segments = tokenize(text, known=KNOWN_270)
    check_envelopes(segments, isa)
    assert f"TRN*1*{check.number}*" in text and "1 inquiries" in err.getvalue()
    out = StringIO()
    call_command("export_270", "--practice", str(world.sunrise.pk), "--date", day, stdout=out)
    assert out.getvalue().startswith("ISA*00*") and Eligibility270Export.objects.count() == 2
    err = StringIO()
    call_command("export_270", "--practice", "sunrise", "--date", "2020-01-01", stderr=err)
    assert "nothing written" in err.getvalue() and Eligibility270Export.objects.count() == 2
    with pytest.raises(CommandError, match="not YYYY-MM-DD"):
        call_command("export_270", "--practice", "sunrise", "--date", "tomorrow")
