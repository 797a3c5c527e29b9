"""Load the demo: Clearpath Billing serving Sunrise Dental and Maple Family Medicine.

Idempotent: every record is keyed on a natural key, so a second run changes nothing.
``--reset`` first removes the demo practices' work (claims, patients, notifications, their
PHI access log) and the demo users' second factors and passwords, for a clean demo.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pgtrigger
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user
from simple_history.utils import bulk_create_with_history

from claims.choices import OPEN_STATUSES
from claims.models import Claim, Estimate
from demo.access_review import reset_access_reviews, seed_access_reviews
from demo.approvals import seed_write_off_approvals
from demo.claims import seed_claims
from demo.eligibility import reset_eligibility, seed_eligibility
from demo.frontdesk import reset_frontdesk, seed_frontdesk
from demo.kpis import reset_kpis, seed_kpis
from demo.mini_audits import reset_mini_audits, seed_mini_audits
from demo.patient_accounts import reset_patient_accounts, seed_patient_accounts
from demo.payment_plans import reset_payment_plans, seed_payment_plans
from demo.remittances import reset_remittances, seed_remittances
from demo.sops import reset_sops, seed_qa, seed_sops
from practices import services
from practices.choices import (
    ClaimFormat,
    CobOrder,
    PracticeKind,
    Relationship,
    Role,
    ServiceArea,
)
from practices.models import (
    Appointment,
    Coverage,
    Engagement,
    FeeScheduleLine,
    Patient,
    Payer,
    PhiAccessLog,
    Practice,
    Provider,
    Vendor,
    VendorStaff,
)
from work.models import Notification

DEMO_PASSWORD = "demo-pass-123"
PATIENTS_PER_PRACTICE = 200

FIRST = [
    "Ava",
    "Ben",
    "Chloe",
    "Dan",
    "Ella",
    "Finn",
    "Grace",
    "Hugo",
    "Isla",
    "Jack",
    "Kara",
    "Liam",
    "Maya",
    "Noah",
    "Olive",
    "Paul",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Vic",
    "Wes",
    "Xena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Adams",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fox",
    "Garcia",
    "Hill",
    "Ito",
    "Jones",
    "Khan",
    "Lopez",
    "Moore",
    "Nguyen",
    "Ortiz",
    "Patel",
    "Reed",
    "Smith",
    "Taylor",
    "Usman",
    "Vance",
    "Wong",
    "Young",
    "Zimmer",
]

PRACTICES: list[dict[str, Any]] = [
    {
        "slug": "sunrise-dental",
        "name": "Sunrise Dental",
        "kind": PracticeKind.DENTAL,
        "format": ClaimFormat.DENTAL,
        "payers": [
            ("Delta Dental", "DDPA1", 365),
            ("MetLife Dental", "65978", 365),
            ("Cigna Dental", "62308", 180),
            ("Guardian", "64246", 365),
        ],
        "providers": [("Grace", "Hill", "1234567893"), ("Omar", "Reyes", "1245319599")],
        "codes": ["D0120", "D1110", "D0274", "D2392", "D2740", "D4341"],
    },
    {
        "slug": "maple-family-medicine",
        "name": "Maple Family Medicine",
        "kind": PracticeKind.MEDICAL,
        "format": ClaimFormat.PROFESSIONAL,
        "payers": [
            ("Aetna", "60054", 120),
            ("Blue Cross Blue Shield", "BCBS1", 180),
            ("UnitedHealthcare", "87726", 90),
            ("Medicare Part B", "MCRB1", 365),
        ],
        "providers": [("Helen", "Park", "1679576722"), ("Victor", "Stone", "1093817090")],
        "codes": ["99213", "99214", "99395", "36415", "81002", "90686"],
    },
]

USERS = [
    # username, first, last, practice slug or None, role or None
    ("sam.manager", "Sam", "Manager", "sunrise-dental", Role.PRACTICE_MANAGER),
    ("fran.frontdesk", "Fran", "Frontdesk", "sunrise-dental", Role.FRONT_DESK),
    ("bill.biller", "Bill", "Biller", "sunrise-dental", Role.BILLER),
    ("mia.manager", "Mia", "Manager", "maple-family-medicine", Role.PRACTICE_MANAGER),
    ("vera.vendor", "Vera", "Vendor", None, None),
    ("val.vendorlead", "Val", "Vendorlead", None, None),
]


class Command(BaseCommand):
    help = "Load (or refresh) the demo practices, vendor, users, patients and appointments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Remove the demo practices' claims, patients, notifications and access log, "
            "and the demo users' authenticator apps and passwords, then load the demo afresh.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["reset"]:
            self._reset()
        with transaction.atomic():
            users = self._users()
            vendor, _ = Vendor.objects.get_or_create(
                slug="clearpath-billing", defaults={"name": "Clearpath Billing"}
            )
            practices = {spec["slug"]: self._practice(spec) for spec in PRACTICES}
            for username, _f, _l, slug, role in USERS:
                if slug is not None:
                    services.membership_set(
                        actor=None, user=users[username], practice=practices[slug], role=role
                    )
            self._vendor(vendor, practices, users)
            # After memberships and assignments: claim owners must be able to work claims.
            claims = {
                slug: seed_claims(practice, users, random.Random(f"claims-{slug}"))
                for slug, practice in practices.items()
            }
            # The payer's side: 835s, a paper EOB, denials and appeals (once per practice).
            for practice in practices.values():
                seed_remittances(practice, users)
            # The front desk's prior authorizations and the recare lists.
            for practice in practices.values():
                seed_frontdesk(practice, users)
            # Billing functions, SOPs, the payer rule library and escalations.
            for practice in practices.values():
                seed_sops(practice, users)
            seed_qa(practices.values())
            # A mini-audit with root causes, and a denial-proposed rule in the library.
            seed_mini_audits(practices.values())
            # Visits for the next two weeks and their eligibility checks in every state
            # (after the billing functions: the eligibility owner owns the checks).
            for practice in practices.values():
                seed_eligibility(practice, users)
            # Patient balances in every aging bucket, statements, approvals for the manager.
            for practice in practices.values():
                seed_patient_accounts(practice, users)
            # A denial's insurance write-off above the threshold, waiting for the manager.
            for practice in practices.values():
                seed_write_off_approvals(practice, users)
            # Two payment plans a practice: one current, one with a missed installment.
            for practice in practices.values():
                seed_payment_plans(practice, users)
            # This quarter's access review of the vendor accounts, open for the managers.
            seed_access_reviews(practices.values())
            # A year of daily KPI snapshots, so the dashboard shows trends (bulk upserts).
            seed_kpis(practices.values(), users)
        self._print_claims(practices, claims)
        self._print_logins()

    @transaction.atomic
    def _reset(self) -> None:
        """Remove what the demo made and what people did in it. The audit tables are
        append-only (``billing_ops.append_only``): only this demo reset steps past their
        triggers, and only for the demo practices' rows."""
        practices = list(Practice.objects.filter(slug__in=[p["slug"] for p in PRACTICES]))
        User = get_user_model()
        demo_users = list(User.objects.filter(username__in=[u[0] for u in USERS]))
        with pgtrigger.ignore():
            reset_sops(practices)
            reset_access_reviews(practices)
            reset_mini_audits(practices)
            reset_payment_plans(practices)
            reset_patient_accounts(practices)
            reset_remittances(practices)
            Claim.objects.filter(practice__in=practices).delete()
            Estimate.objects.filter(practice__in=practices).delete()
            reset_frontdesk(practices)
            reset_eligibility(practices)
            reset_kpis(practices)
            Notification.objects.filter(practice__in=practices).delete()
            PhiAccessLog.objects.filter(practice__in=practices).delete()
            Patient.objects.filter(practice__in=practices).delete()
        devices = 0
        for user in demo_users:
            for device in devices_for_user(user, confirmed=None):
                device.delete()
                devices += 1
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        self.stdout.write(
            f"Demo reset: {len(practices)} practices emptied, {devices} second factors and "
            f"{len(demo_users)} passwords of demo users reset."
        )

    def _users(self) -> dict[str, Any]:
        User = get_user_model()
        users = {}
        for username, first, last, _slug, _role in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.test",
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            users[username] = user
        return users

    def _practice(self, spec: dict[str, Any]) -> Practice:
        practice, _ = Practice.objects.get_or_create(
            slug=spec["slug"], defaults={"name": spec["name"], "kind": spec["kind"]}
        )
        for name, payer_id, filing in spec["payers"]:
            Payer.objects.get_or_create(
                practice=practice,
                payer_id=payer_id,
                defaults={
                    "name": name,
                    "timely_filing_days": filing,
                    "claim_format": spec["format"],
                    "phone": "800-555-0100",
                },
            )
        for first, last, npi in spec["providers"]:
            Provider.objects.get_or_create(
                practice=practice, npi=npi, defaults={"first_name": first, "last_name": last}
            )
        self._fee_schedule(practice, spec)
        self._patients(practice, spec)
        return practice

    def _fee_schedule(self, practice: Practice, spec: dict[str, Any]) -> None:
        rng = random.Random(f"fees-{practice.slug}")
        start = dt.date(2026, 1, 1)
        for payer in practice.payers.all():
            for code in spec["codes"]:
                FeeScheduleLine.objects.get_or_create(
                    practice=practice,
                    payer=payer,
                    procedure_code=code,
                    modifier="",
                    effective_from=start,
                    defaults={"allowed_amount": Decimal(rng.randrange(4000, 90000)) / 100},
                )

    def _patients(self, practice: Practice, spec: dict[str, Any]) -> None:
        rng = random.Random(f"patients-{practice.slug}")
        payers = list(practice.payers.order_by("payer_id"))
        providers = list(practice.providers.order_by("npi"))
        existing = set(practice.patients.values_list("account_number", flat=True))
        prefix = "SD" if practice.kind == PracticeKind.DENTAL else "MF"
        new = []
        plans = []
        for i in range(1, PATIENTS_PER_PRACTICE + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            dob = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 29000))
            account = f"{prefix}{i:05d}"
            plans.append(
                (
                    account,
                    rng.random(),
                    rng.choice(payers),
                    rng.choice(payers),
                    rng.randrange(1, 30),
                    rng.choice(providers),
                    rng.randrange(8, 17),
                    rng.sample(spec["codes"], 2),
                )
            )
            if account not in existing:
                new.append(
                    Patient(
                        practice=practice,
                        account_number=account,
                        first_name=first,
                        last_name=last,
                        date_of_birth=dob,
                        phone=f"555-01{i:02d}"[:12],
                        email=f"{first.lower()}.{last.lower()}{i}@example.test",
                        city="Springfield",
                        state="IL",
                        postal_code="62701",
                    )
                )
        bulk_create_with_history(new, Patient)
        patients = {p.account_number: p for p in practice.patients.all()}
        coverages, appointments = [], []
        have_cov = set(
            Coverage.objects.filter(practice=practice).values_list("patient_id", "cob_order")
        )
        have_appt = set(
            Appointment.objects.filter(practice=practice).values_list("patient_id", flat=True)
        )
        today = timezone.localdate()
        tz = timezone.get_current_timezone()
        for account, roll, primary, secondary, days_out, provider, hour, codes in plans:
            patient = patients[account]
            if roll > 0.08 and (patient.pk, CobOrder.PRIMARY) not in have_cov:
                coverages.append(self._coverage(practice, patient, primary, CobOrder.PRIMARY, roll))
            if (
                roll > 0.85
                and secondary != primary
                and (patient.pk, CobOrder.SECONDARY) not in have_cov
            ):
                coverages.append(
                    self._coverage(practice, patient, secondary, CobOrder.SECONDARY, roll)
                )
            if patient.pk not in have_appt:
                day = today + dt.timedelta(days=days_out)
                appointments.append(
                    Appointment(
                        practice=practice,
                        patient=patient,
                        provider=provider,
                        starts_at=dt.datetime.combine(day, dt.time(hour, 0), tzinfo=tz),
                        planned_procedures=codes,
                    )
                )
        bulk_create_with_history(coverages, Coverage)
        bulk_create_with_history(appointments, Appointment)

    @staticmethod
    def _coverage(
        practice: Practice, patient: Patient, payer: Payer, order: int, roll: float
    ) -> Coverage:
        return Coverage(
            practice=practice,
            patient=patient,
            payer=payer,
            cob_order=order,
            member_id="" if 0.08 < roll < 0.11 else f"M{patient.pk:06d}{order}",
            group_number=f"G{payer.pk:04d}",
            subscriber_name=f"{patient.first_name} {patient.last_name}",
            subscriber_relationship=Relationship.SELF,
        )

    def _vendor(
        self, vendor: Vendor, practices: dict[str, Practice], users: dict[str, Any]
    ) -> None:
        contacts = {
            "sunrise-dental": users["sam.manager"],
            "maple-family-medicine": users["mia.manager"],
        }
        engagements = {}
        for slug, practice in practices.items():
            existing = Engagement.objects.filter(vendor=vendor, practice=practice).first()
            engagements[slug] = existing or services.engagement_set(
                actor=None,
                vendor=vendor,
                practice=practice,
                service_areas=ServiceArea.values,
                primary_contact=contacts[slug],
                starts_on=dt.date(2026, 1, 1),
            )
        vera, _ = VendorStaff.objects.get_or_create(
            user=users["vera.vendor"], defaults={"vendor": vendor}
        )
        val, _ = VendorStaff.objects.get_or_create(
            user=users["val.vendorlead"], defaults={"vendor": vendor, "is_lead": True}
        )
        services.assignment_set(
            actor=None,
            staff=vera,
            engagement=engagements["sunrise-dental"],
            service_areas=[ServiceArea.INSURANCE_BILLING],
        )
        for engagement in engagements.values():
            services.assignment_set(
                actor=None, staff=val, engagement=engagement, service_areas=ServiceArea.values
            )

    def _print_claims(self, practices: dict[str, Practice], created: dict[str, int]) -> None:
        self.stdout.write("Demo claims:")
        for slug, practice in practices.items():
            claims = Claim.objects.filter(practice=practice)
            total = claims.count()
            open_ = claims.filter(status__in=OPEN_STATUSES).count()
            self.stdout.write(
                f"  {practice.name}: {total:,} claims, {open_:,} open ({created[slug]:,} new)"
            )

    def _print_logins(self) -> None:
        self.stdout.write(
            self.style.SUCCESS("Demo loaded. Sign in with password " + DEMO_PASSWORD + ":")
        )
        for username, _f, _l, slug, role in USERS:
            where = f"{Role(role).label} at {slug}" if role else "Clearpath Billing (vendor)"
            self.stdout.write(f"  {username:16} {where}")
        self.stdout.write("Managers and vendor staff set up an authenticator app at first sign-in.")
