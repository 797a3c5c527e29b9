"""271 import into a practice: each sample's members reach the matching open checks through
the check service; unmatched members are reported; AAA rejections ask the patient; a
malformed file changes nothing; the same file twice changes nothing the second time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError

from eligibility.choices import CheckOutcome, NextAction
from eligibility.models import CheckActivity, EligibilityCheck
from eligibility.response_models import (
    EligibilityResponseImport,
    EligibilityResponseMember,
    MemberOutcome,
    ResponseStatus,
)
from eligibility.responses import response_import
from practices.choices import Relationship
from tests.eligibility import x12_fixtures

SAMPLES = Path(__file__).resolve().parent / "samples"


def content(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


make_check = x12_fixtures.make_check  # the fixture


def state(check: EligibilityCheck) -> tuple[Any, ...]:
    check.refresh_from_db()
    activities = CheckActivity.objects.filter(check_item=check).count()
    return (check.status, check.version, check.closed_at, check.next_action, activities)


@pytest.mark.django_db
def test_linuxforhealth_demo_verifies_smith_john(world, make_check):
    check = make_check("841610001", "Smith", "John", dt.date(1963, 5, 19), "123456789")
    batch = response_import(
        actor=world.fran,
        practice=world.sunrise,
        content=content("linuxforhealth-demo.271"),
        filename="demo.271",
    )
    assert (batch.status, batch.member_count, batch.applied_count) == ("applied", 1, 1)
    assert batch.unmatched_count == 0 and batch.payer_name == "ABC COMPANY"
    check.refresh_from_db()
    assert check.status == CheckOutcome.ACTIVE and check.closed_at is not None
    assert (check.plan_name, check.copay, check.method) == (
        "GOLD 123 PLAN",
        Decimal("10.00"),
        "x12_271",
    )
    assert check.reference == "93175-012547" and check.verified_by == world.fran
    assert "10.00" in str(check.raw["benefits"]) and "30.00" in str(check.raw["benefits"])
    (row,) = batch.members.all()
    assert (row.check_item, row.outcome, row.applied) == (check, MemberOutcome.APPLIED, True)


@pytest.mark.django_db
def test_mixed_members_matches_by_member_id_then_name_and_reports_the_rest(world, make_check):
    smith = make_check("790003254", "Smith", "David", dt.date(1965, 7, 12), "X677906949")
    # A dependent: the subscriber's member id, the patient's own name and birth date.
    miller = make_check(
        "790003254",
        "Miller",
        "John",
        dt.date(2017, 3, 4),
        "X965341685",
        relationship=Relationship.CHILD,
        subscriber="Michael Moore",
    )
    # No member id on file: found by name and date of birth.
    brown = make_check("790003254", "Brown", "Barbara", dt.date(1984, 5, 27))
    # Same name, another birth date: not this member.
    other = make_check("790003254", "White", "James", dt.date(2003, 8, 19))
    before = state(other)
    batch = response_import(
        actor=world.vic,
        practice=world.sunrise,
        content=content("x12sdk-generated-mixed-members.271"),
        filename="mixed.271",
    )
    assert batch.member_count == 9
    assert (batch.applied_count, batch.unmatched_count, batch.other_count) == (3, 3, 3)
    for check in (smith, miller, brown):
        check.refresh_from_db()
        assert check.status == CheckOutcome.ACTIVE and check.closed_at is not None
        assert check.verified_by == world.vic
    assert state(other) == before
    unmatched = [e["message"] for e in batch.entries if e["level"] == "conflict"]
    assert len(unmatched) == 3
    assert any("DOE, JAMES" in m for m in unmatched)
    assert any("WHITE, JAMES (W234911541, born 08/18/2003)" in m for m in unmatched)
    assert all("matches no open eligibility check" in m for m in unmatched)
    outcomes = sorted(batch.members.values_list("last_name", "outcome"))
    assert ("MOORE", MemberOutcome.NO_INFO) in outcomes
    assert ("HARRIS", MemberOutcome.UNMATCHED) in outcomes


@pytest.mark.django_db
def test_aaa_rejection_and_inactive_ask_the_patient_active_closes(world, make_check):
    garcia = make_check("555123456", "Garcia", "Maria", dt.date(1980, 2, 14), "BAD00001")
    nguyen = make_check("555123456", "Nguyen", "Tom", dt.date(1975, 6, 30), "DX500002")
    patel = make_check("555123456", "Patel", "Anika", dt.date(1990, 1, 1), "DX500003")
    batch = response_import(
        actor=world.fran,
        practice=world.sunrise,
        content=content("ours-aaa-rejections.271"),
        filename="aaa.271",
    )
    assert (batch.applied_count, batch.problem_count, batch.unmatched_count) == (3, 2, 0)
    garcia.refresh_from_db()
    assert garcia.status == CheckOutcome.NEEDS_INFO and garcia.closed_at is None
    assert garcia.next_action == NextAction.REQUEST_INFO_PATIENT
    assert garcia.problems == [
        "AAA 72: the member id is invalid or missing (correct the request and send it again)"
    ]
    nguyen.refresh_from_db()
    assert nguyen.status == CheckOutcome.INACTIVE and nguyen.flags_appointment
    patel.refresh_from_db()
    assert patel.status == CheckOutcome.ACTIVE and patel.closed_at is not None
    assert (patel.coinsurance_percent, patel.deductible, patel.deductible_remaining) == (
        Decimal("20.00"),
        Decimal("50.00"),
        Decimal("20.00"),
    )
    assert (patel.annual_max_remaining, patel.group_number) == (Decimal("1200.00"), "GRP-77")


@pytest.mark.django_db
def test_the_same_file_twice_changes_nothing_the_second_time(world, make_check):
    checks = [
        make_check("555123456", "Garcia", "Maria", dt.date(1980, 2, 14), "BAD00001"),
        make_check("555123456", "Nguyen", "Tom", dt.date(1975, 6, 30), "DX500002"),
        make_check("555123456", "Patel", "Anika", dt.date(1990, 1, 1), "DX500003"),
    ]
    first = response_import(
        actor=world.fran, practice=world.sunrise, content=content("ours-aaa-rejections.271"),
        filename="a.271",
    )  # fmt: skip
    assert first.applied_count == 3
    after_first = [state(c) for c in checks]
    second = response_import(
        actor=world.fran, practice=world.sunrise, content=content("ours-aaa-rejections.271"),
        filename="b.271",
    )  # fmt: skip
    assert (second.applied_count, second.already_count, second.unmatched_count) == (0, 3, 0)
    assert [state(c) for c in checks] == after_first
    assert EligibilityResponseMember.objects.filter(applied=True).count() == 3


@pytest.mark.django_db
def test_a_malformed_file_is_refused_with_the_segment_and_nothing_changes(world, make_check):
    check = make_check("555123456", "Patel", "Anika", dt.date(1990, 1, 1), "DX500003")
    before = state(check)
    broken = content("ours-aaa-rejections.271").replace(b"*25.00*", b"*25,00*")
    batch = response_import(
        actor=world.fran, practice=world.sunrise, content=broken, filename="broken.271"
    )
    assert batch.status == ResponseStatus.REFUSED and batch.applied_count == 0
    (entry,) = batch.entries
    assert (entry["segment"], entry["segment_id"], entry["level"]) == (29, "EB", "error")
    assert "'25,00' is not a number" in entry["message"]
    assert state(check) == before and not batch.members.exists()


@pytest.mark.django_db
def test_only_people_who_verify_eligibility_at_the_practice_import(world, make_check):
    make_check("841610001", "Smith", "John", dt.date(1963, 5, 19), "123456789")
    for user in (world.vera, world.mia):  # insurance billing only; another practice
        with pytest.raises(PermissionDenied):
            response_import(
                actor=user,
                practice=world.sunrise,
                content=content("linuxforhealth-demo.271"),
                filename="x.271",
            )
    assert not EligibilityResponseImport.objects.exists()


@pytest.mark.django_db
def test_another_practices_checks_are_never_matched(world, make_check):
    theirs = make_check(
        "841610001", "Smith", "John", dt.date(1963, 5, 19), "123456789", practice=world.maple
    )
    before = state(theirs)
    batch = response_import(
        actor=world.fran,
        practice=world.sunrise,
        content=content("linuxforhealth-demo.271"),
        filename="demo.271",
    )
    assert (batch.applied_count, batch.unmatched_count) == (0, 1)
    assert state(theirs) == before


@pytest.mark.django_db
def test_import_command_says_what_and_exits_non_zero_on_unmatched_or_refused(world, make_check):
    check = make_check("841610001", "Smith", "John", dt.date(1963, 5, 19), "123456789")
    out = StringIO()
    path = str(SAMPLES / "linuxforhealth-demo.271")
    call_command("import_eligibility", path, "--practice", "sunrise", stdout=out)
    assert "applied 1" in out.getvalue() and "unmatched 0" in out.getvalue()
    check.refresh_from_db()
    assert check.status == CheckOutcome.ACTIVE
    out = StringIO()
    mixed = str(SAMPLES / "x12sdk-generated-mixed-members.271")
    with pytest.raises(CommandError, match="6 member\\(s\\) matched no open eligibility check"):
        call_command("import_eligibility", mixed, "--practice", str(world.sunrise.pk), stdout=out)
    assert "SMITH, DAVID" in out.getvalue()
    with pytest.raises(CommandError, match="was refused"):
        call_command(
            "import_eligibility",
            str(SAMPLES / "linuxforhealth-demo.270"),
            "--practice",
            "sunrise",
            stdout=StringIO(),
        )
    assert EligibilityResponseImport.objects.filter(status=ResponseStatus.REFUSED).count() == 1
