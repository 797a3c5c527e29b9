"""`manage.py seed_demo`: the demo facts, and a second run that changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Model
from django.utils import timezone

from claims.choices import ClaimStatus
from claims.models import Claim, ClaimActivity, ClaimLine
from practices import permissions as perms
from practices.choices import ServiceArea
from practices.models import (
    Appointment,
    Assignment,
    Coverage,
    Engagement,
    FeeScheduleLine,
    Membership,
    Patient,
    Payer,
    Practice,
    PracticeUserPermission,
    Provider,
    Vendor,
    VendorStaff,
)
from practices.selectors import mfa_required

User = get_user_model()
DEMO_USERS = [
    "sam.manager",
    "fran.frontdesk",
    "bill.biller",
    "mia.manager",
    "vera.vendor",
    "val.vendorlead",
]
COUNTED: list[type[Model]] = [
    Practice,
    Patient,
    Coverage,
    Appointment,
    Payer,
    Provider,
    Membership,
    Assignment,
    Engagement,
    Vendor,
    VendorStaff,
    FeeScheduleLine,
    PracticeUserPermission,
    User,
    Claim,
    ClaimLine,
    ClaimActivity,
]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, Any]:
    """Row counts of every demo table and its history, the patients' identities, the
    claims' status distribution and identities."""
    history = [m for m in apps.get_models() if m.__name__.startswith("Historical")]
    counts = {m._meta.label: m._default_manager.count() for m in [*COUNTED, *history]}
    members: dict[int, list[str]] = {}
    for patient_id, member_id in Coverage.objects.values_list("patient_id", "member_id"):
        members.setdefault(patient_id, []).append(member_id)
    patients = sorted(
        (p.practice.slug, p.account_number, p.last_name, tuple(sorted(members.get(p.pk, []))))
        for p in Patient.objects.select_related("practice")
    )
    permissions = sorted(
        PracticeUserPermission.objects.values_list(
            "user__username", "content_object__slug", "permission__codename"
        )
    )
    statuses = sorted(Claim.objects.values_list("practice__slug", "status").annotate(n=Count("pk")))
    claims = sorted(
        Claim.objects.values_list(
            "practice__slug",
            "pms_claim_number",
            "patient__account_number",
            "payer__payer_id",
            "status",
            "owner__username",
            "total_billed",
            "total_paid",
        )
    )
    return {
        "counts": counts,
        "patients": patients,
        "permissions": permissions,
        "statuses": statuses,
        "claims": claims,
    }


def codenames(username: str, practice: Practice) -> set[str]:
    return set(
        PracticeUserPermission.objects.filter(
            user__username=username, content_object=practice
        ).values_list("permission__codename", flat=True)
    )


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """Seed once for the module (the demo now has 3,000 claims), inside a transaction
    rolled back after its last test; each test runs in a savepoint of it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(demo: str, db: Any) -> str:
    return demo


def test_second_run_changes_nothing(seeded: str) -> None:
    first = snapshot()
    assert first["counts"]["practices.HistoricalPatient"] == first["counts"]["practices.Patient"]
    assert first["counts"]["practices.HistoricalMembership"] > 0
    assert first["counts"]["claims.Claim"] == 3000
    # One creation row per claim; the demo's postings (demo.remittances) add change rows.
    assert Claim.history.filter(history_type="+").count() == first["counts"]["claims.Claim"]
    assert first["counts"]["claims.HistoricalClaimLine"] == first["counts"]["claims.ClaimLine"]
    assert first["counts"]["claims.ClaimLine"] >= 3000
    assert first["counts"]["claims.ClaimActivity"] >= 2 * 3000
    assert {status for _slug, status, _n in first["statuses"]} == set(ClaimStatus.values)

    second = seed()

    assert snapshot() == first
    assert "(0 new)" in second and "(1,500 new)" not in second


def test_demo_practices_vendor_and_patients(seeded: str) -> None:
    assert "Demo loaded" in seeded
    assert "Sunrise Dental: 1,500 claims" in seeded
    assert "(1,500 new)" in seeded
    assert sorted(Practice.objects.values_list("name", flat=True)) == [
        "Maple Family Medicine",
        "Sunrise Dental",
    ]
    assert list(Vendor.objects.values_list("name", flat=True)) == ["Clearpath Billing"]
    for practice in Practice.objects.all():
        assert practice.patients.count() == 200
        assert Engagement.objects.filter(practice=practice, vendor__name="Clearpath Billing")
        assert Coverage.objects.filter(practice=practice).count() > 150
    # Every coverage and appointment stays inside its patient's practice.
    assert not Coverage.objects.exclude(practice=F("patient__practice")).exists()
    assert not Appointment.objects.exclude(practice=F("patient__practice")).exists()


def test_upcoming_appointments_exist(seeded: str) -> None:
    now = timezone.now()
    for practice in Practice.objects.all():
        assert Appointment.objects.filter(practice=practice, starts_at__gt=now).count() > 100


def test_demo_users_sign_in_with_the_demo_password(seeded: str) -> None:
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERS)}
    assert sorted(users) == sorted(DEMO_USERS)
    for user in users.values():
        assert user.is_active
        assert user.check_password("demo-pass-123"), user.username
        assert not user.check_password("wrong-pass-123")


def test_vendor_access_follows_assignments(seeded: str) -> None:
    sunrise = Practice.objects.get(name="Sunrise Dental")
    maple = Practice.objects.get(name="Maple Family Medicine")

    assert codenames("vera.vendor", sunrise) == set(
        perms.SERVICE_AREA_PERMISSIONS[ServiceArea.INSURANCE_BILLING]
    )
    assert codenames("vera.vendor", maple) == set()

    lead = set().union(*perms.SERVICE_AREA_PERMISSIONS.values()) | perms.VENDOR_LEAD_EXTRA
    lead -= perms.NEVER_FOR_VENDORS
    assert codenames("val.vendorlead", sunrise) == lead
    assert codenames("val.vendorlead", maple) == lead
    for username in ("vera.vendor", "val.vendorlead"):
        assert not Membership.objects.filter(user__username=username).exists()


def test_in_house_access_follows_memberships(seeded: str) -> None:
    sunrise = Practice.objects.get(name="Sunrise Dental")
    maple = Practice.objects.get(name="Maple Family Medicine")
    assert perms.MANAGE_ACCESS in codenames("sam.manager", sunrise)
    assert codenames("sam.manager", maple) == set()
    assert perms.MANAGE_ACCESS in codenames("mia.manager", maple)
    assert codenames("mia.manager", sunrise) == set()
    assert perms.MANAGE_ACCESS not in codenames("fran.frontdesk", sunrise)
    assert perms.WORK_CLAIMS in codenames("bill.biller", sunrise)


def test_mfa_required_for_managers_and_vendors_only(seeded: str) -> None:
    required = {u.username: mfa_required(u) for u in User.objects.filter(username__in=DEMO_USERS)}
    assert required == {
        "sam.manager": True,
        "mia.manager": True,
        "vera.vendor": True,
        "val.vendorlead": True,
        "fran.frontdesk": False,
        "bill.biller": False,
    }
