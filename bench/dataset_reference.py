"""The reference rows of dataset L (``bench/dataset.py``), few, made through the services:
practices, users with their memberships and grants, a vendor engagement with assigned
vendor staff, payers, providers and fee schedules."""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.dataset_rows import PracticePlan

PASSWORD = "demo-pass-123"
DENTAL = {
    "payers": [
        ("Delta Dental", "DDPA1", 365, 40),
        ("MetLife Dental", "65978", 365, 25),
        ("Cigna Dental", "62308", 180, 20),
        ("Guardian", "64246", 365, 15),
    ],
    "codes": {
        "D0120": 65, "D1110": 120, "D0274": 85, "D2392": 210,
        "D2740": 1250, "D4341": 260, "D7140": 190, "D5213": 1900,
    },
}  # fmt: skip
MEDICAL = {
    "payers": [
        ("Aetna", "60054", 120, 20),
        ("Blue Cross Blue Shield", "BCBS1", 180, 35),
        ("UnitedHealthcare", "87726", 90, 25),
        ("Medicare Part B", "MCRB1", 365, 20),
    ],
    "codes": {
        "99213": 130, "99214": 190, "99395": 240, "36415": 20,
        "81002": 15, "90686": 45, "93000": 60, "85025": 25,
    },
}  # fmt: skip


def plans_for(practices: int, claims: int, lines: float, seed: int) -> list[PracticePlan]:
    """Practice 1 is the big one (Sunrise Dental, ~12.5 % of the claims, bill.biller owns
    ~40 % of them: 50,000 at a million); the rest share the remainder unevenly."""
    from bench.dataset_rows import BIG_SHARE, PracticePlan

    rng = random.Random(f"dataset-l-{seed}-sizes")
    big = claims if practices == 1 else round(claims * BIG_SHARE)
    weights = [rng.uniform(0.6, 1.4) for _ in range(practices - 1)]
    left, counts = claims - big, []
    for i, w in enumerate(weights):
        n = left if i == len(weights) - 1 else round((claims - big) * w / sum(weights))
        counts.append(n)
        left -= n
    plans = []
    for i, count in enumerate([big, *counts], start=1):
        dental = i % 2 == 1
        if i == 1:
            slug, name = "sunrise-dental", "Sunrise Dental"
        else:
            kind = "Dental" if dental else "Family Medicine"
            slug, name = f"l{i:02d}-{'dental' if dental else 'medical'}", f"Dataset {kind} {i:02d}"
        plans.append(
            PracticePlan(
                index=i, slug=slug, name=name, dental=dental, claims=count, lines=lines, seed=seed
            )
        )
    return plans


def users_for(plan: PracticePlan) -> dict[str, tuple[str, str]]:
    """role key -> (username, first name); the big practice uses the demo's names."""
    if plan.index == 1:
        return {
            "biller": ("bill.biller", "Bill"),
            "biller2": ("bea.biller", "Bea"),
            "manager": ("sam.manager", "Sam"),
            "frontdesk": ("fran.frontdesk", "Fran"),
        }
    n = f"{plan.index:02d}"
    return {
        key: (f"{key}.l{n}", key.title()) for key in ("biller", "biller2", "manager", "frontdesk")
    }


def reference(plans: list[PracticePlan], rng: random.Random) -> None:
    """Practices, users, memberships and grants, the vendor engagement (every third
    practice) with one assigned vendor biller each, payers, providers and fee schedules;
    fills each plan's ids."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from simple_history.utils import bulk_create_with_history

    from practices import services
    from practices.choices import ClaimFormat, PracticeKind, Role, ServiceArea
    from practices.models import FeeScheduleLine, Practice, Vendor, VendorStaff
    from practices.reference_services import payer_save, provider_save

    User = get_user_model()
    password = make_password(PASSWORD)  # one hash for every account (fast to create)
    roles = {
        "biller": Role.BILLER,
        "biller2": Role.BILLER,
        "manager": Role.PRACTICE_MANAGER,
        "frontdesk": Role.FRONT_DESK,
    }
    start = dt.date(2025, 1, 1)
    with transaction.atomic():
        vendor, _ = Vendor.objects.get_or_create(
            slug="dataset-l-billing", defaults={"name": "Dataset L Billing"}
        )
        for plan in plans:
            spec = DENTAL if plan.dental else MEDICAL
            practice = Practice.objects.create(
                slug=plan.slug,
                name=plan.name,
                kind=PracticeKind.DENTAL if plan.dental else PracticeKind.MEDICAL,
            )
            plan.practice_id = practice.pk
            users = {}
            for key, (username, first) in users_for(plan).items():
                user = User.objects.create(
                    username=username,
                    first_name=first,
                    last_name=plan.name.split()[0] if plan.index > 1 else key.title(),
                    email=f"{username}@example.test",
                    password=password,
                )
                services.membership_set(actor=None, user=user, practice=practice, role=roles[key])
                users[key] = user
            manager = users["manager"]
            owners = {"biller": 40, "biller2": 30, "manager": 10}
            if plan.index % 3 == 1:  # a vendor engaged for insurance billing
                engagement = services.engagement_set(
                    actor=None,
                    vendor=vendor,
                    practice=practice,
                    service_areas=[ServiceArea.INSURANCE_BILLING],
                    primary_contact=manager,
                    starts_on=start,
                )
                staff_user = User.objects.create(
                    username=f"vendor.l{plan.index:02d}",
                    first_name="Vic",
                    last_name="Vendor",
                    email=f"vendor.l{plan.index:02d}@example.test",
                    password=password,
                )
                staff = VendorStaff.objects.create(user=staff_user, vendor=vendor)
                services.assignment_set(
                    actor=None,
                    staff=staff,
                    engagement=engagement,
                    service_areas=[ServiceArea.INSURANCE_BILLING],
                )
                users["vendor"] = staff_user
                owners = {"biller": 40, "biller2": 25, "manager": 10, "vendor": 25}
            plan.owners = [(users[k].pk, w) for k, w in owners.items()]
            plan.importer_id = users["biller"].pk
            fmt = ClaimFormat.DENTAL if plan.dental else ClaimFormat.PROFESSIONAL
            for name, payer_id, filing, weight in spec["payers"]:
                payer = payer_save(
                    actor=manager,
                    practice=practice,
                    name=name,
                    payer_id=payer_id,
                    timely_filing_days=filing,
                    claim_format=fmt,
                    phone="800-555-0100",
                )
                plan.payers.append((payer.pk, filing, weight, fmt, payer_id))
            for k in range(2 if plan.index > 1 else 3):
                provider = provider_save(
                    actor=manager,
                    practice=practice,
                    first_name=rng.choice(["Grace", "Omar", "Helen", "Victor", "Lena"]),
                    last_name=rng.choice(["Hill", "Reyes", "Park", "Stone", "Okafor"]),
                    npi=f"1{plan.index:03d}{k:02d}{rng.randrange(10000):04d}",
                )
                plan.provider_ids.append(provider.pk)
            fees = []
            for payer_pk, _f, _w, _fmt, _id in plan.payers:
                for code, usual in spec["codes"].items():
                    allowed = (Decimal(usual) * Decimal(rng.randrange(55, 86)) / 100).quantize(
                        Decimal("0.01")
                    )
                    plan.fees[(payer_pk, code)] = allowed
                    fees.append(
                        FeeScheduleLine(
                            practice=practice,
                            payer_id=payer_pk,
                            procedure_code=code,
                            allowed_amount=allowed,
                            effective_from=start,
                        )
                    )
            bulk_create_with_history(fees, FeeScheduleLine, default_user=manager)
            plan.codes = {code: Decimal(usual) for code, usual in spec["codes"].items()}
