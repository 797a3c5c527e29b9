"""Dataset L's generator (bench/dataset.py): a small dataset written with the same code
into the test database keeps every rule the services keep (bench/invariants.py), puts
the indexes and constraints back as they were, is the same for the same seed, and the
app works on it (the generated biller's queue and claim pages)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from bench.dataset import BULK_TABLES, generate
from bench.dataset_reference import plans_for
from bench.dataset_rows import ClaimRows
from bench.invariants import check
from claims.choices import OPEN_STATUSES
from claims.models import Claim, ClaimActivity, ClaimLine
from practices.models import Patient
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db

User = get_user_model()


def _quiet(_text: str) -> None:
    return None


def _schema() -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "ORDER BY 1, 2",
            [BULK_TABLES],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
            [BULK_TABLES],
        )
        return indexes + cursor.fetchall()


def test_fast_path_keeps_every_rule_and_the_app_works_on_it(client: Any) -> None:
    before = _schema()
    report = generate(None, practices=3, claims=900, seed=3, fast=True, vacuum=False, say=_quiet)

    assert report.freeze  # the bulk tables were empty: truncated, COPY WITH (FREEZE)
    assert _schema() == before  # indexes and constraints recreated as they were
    rows = report.rows
    assert rows["claims"] == Claim.objects.count() == 900
    assert 2.2 < rows["lines"] / rows["claims"] < 2.8
    assert rows["claim history"] == 900 and rows["line history"] == rows["lines"]
    assert check(report.practice_ids) == []
    claims = Claim.objects.filter(practice_id__in=report.practice_ids)
    statuses = set(claims.values_list("status", flat=True))
    assert {"draft", "submitted", "in_adjudication", "denied", "closed"} <= statuses
    assert ClaimLine.objects.exclude(teeth=[]).exists()  # dental lines with teeth
    assert ClaimLine.objects.filter(teeth__1__isnull=False).exists()  # several on one line

    biller = User.objects.get(username=report.big_biller)
    mine = claims.filter(practice__slug=report.big_practice, owner=biller)
    share = mine.count() / claims.filter(practice__slug=report.big_practice).count()
    assert 0.3 < share < 0.5
    login(client, biller)
    claim = mine.filter(status__in=OPEN_STATUSES).order_by("-priority", "-pk").first()
    assert claim is not None
    page = client.get("/queues/payer-ar/")
    assert page.status_code == 200
    page = client.get("/queues/my-day/")
    assert page.status_code == 200
    detail = client.get(f"/claims/{claim.pk}/")
    assert detail.status_code == 200
    assert claim.pms_claim_number in detail.content.decode()
    assert ClaimActivity.objects.filter(claim=claim, kind="created").exists()


def test_plain_path_checks_the_deferred_constraints() -> None:
    other = factories.PatientFactory()  # a bulk table holds rows: no TRUNCATE, no FREEZE
    report = generate(None, practices=2, claims=120, seed=5, fast=False, vacuum=False, say=_quiet)
    assert not report.freeze
    assert Patient.objects.filter(pk=other.pk).exists()
    assert report.rows["claims"] == 120
    assert [s.name for s in report.steps][-1] == "check deferred constraints"
    assert check(report.practice_ids) == []


def test_checker_names_a_broken_rule() -> None:
    report = generate(None, practices=1, claims=60, seed=7, fast=False, vacuum=False, say=_quiet)
    claim = Claim.objects.filter(status="in_adjudication").first()
    assert claim is not None
    Claim.objects.filter(pk=claim.pk).update(next_action="", priority=claim.priority + 1)
    problems = check(report.practice_ids, sample=60)
    assert any(p.startswith("open claim without next action") for p in problems)
    assert any(f"claim {claim.pk}: stored priority" in p for p in problems)


def test_same_seed_same_rows() -> None:
    def text(seed: int) -> list[tuple[str, str, str, int]]:
        plans = plans_for(2, 200, 2.5, seed)
        for n, plan in enumerate(plans):
            plan.practice_id, plan.importer_id = 10 + n, 20 + n
            plan.owners = [(20 + n, 60), (30 + n, 40)]
            plan.payers = [(40 + n, 90, 1, "837D", "P1"), (50 + n, 180, 2, "837D", "P2")]
            plan.provider_ids = [60 + n]
            plan.codes = {"D0120": Decimal("65"), "D2392": Decimal("210")}
            plan.people(dt.date(2026, 12, 1))
        rows = ClaimRows(plans, dt.date(2026, 12, 1), now, seed)
        rows.first_id["claims_claim"] = 1
        return list(rows.chunks(size=50))

    now = timezone.now()
    assert text(1) == text(1)
    assert text(1) != text(2)


# Every column that matters, by natural keys (ids differ between the two runs).
NATURAL = {
    "claims": "SELECT p.slug, c.pms_claim_number, t.account_number, v.cob_order, y.payer_id, "
    "o.username, r.npi, c.payer_claim_number, c.rejection_reason, c.claim_format, "
    "c.service_date_from, c.service_date_to, c.diagnosis_codes, c.status, c.next_action, "
    "c.next_action_due, c.wait_reason, c.total_billed, c.total_allowed, c.total_paid, "
    "c.patient_responsibility, c.total_adjusted, c.other_payer_paid, "
    "c.timely_filing_deadline, c.first_submitted_at, c.submission_count, "
    "c.clean_at_first_submission, c.accepted_on_first_submission, c.follow_up_count, "
    "c.locked_by_id, c.locked_until, c.priority, c.priority_reasons, c.version, c.created_at, "
    "c.updated_at FROM claims_claim c JOIN practices_practice p ON p.id = c.practice_id "
    "JOIN practices_patient t ON t.id = c.patient_id JOIN practices_coverage v "
    "ON v.id = c.coverage_id JOIN practices_payer y ON y.id = c.payer_id JOIN auth_user o "
    "ON o.id = c.owner_id JOIN practices_provider r ON r.id = c.provider_id "
    "WHERE p.slug = ANY(%s) ORDER BY 1, 2",
    "lines": "SELECT p.slug, c.pms_claim_number, l.line_number, l.procedure_code, l.modifiers, "
    "l.diagnosis_pointers, l.tooth, l.surfaces, l.teeth, l.units, l.unit_basis, l.charge, "
    "l.service_date, l.service_date_to FROM claims_claimline l JOIN claims_claim c "
    "ON c.id = l.claim_id JOIN practices_practice p ON p.id = c.practice_id "
    "WHERE p.slug = ANY(%s) ORDER BY 1, 2, 3",
    "timeline": "SELECT p.slug, c.pms_claim_number, a.kind, u.username, a.at, a.text, "
    "a.channel, a.contact, a.outcome, a.next_step, a.data::text FROM claims_claimactivity a "
    "JOIN claims_claim c ON c.id = a.claim_id JOIN practices_practice p "
    "ON p.id = c.practice_id LEFT JOIN auth_user u ON u.id = a.actor_id "
    "WHERE p.slug = ANY(%s) ORDER BY 1, 2, 5, 3, 6, 7",
    "claim history": "SELECT p.slug, h.pms_claim_number, h.history_type, u.username, "
    "h.history_date, h.status, h.next_action, h.next_action_due, h.total_billed, h.version "
    "FROM claims_historicalclaim h JOIN practices_practice p ON p.id = h.practice_id "
    "JOIN auth_user u ON u.id = h.history_user_id WHERE p.slug = ANY(%s) ORDER BY 1, 2",
    "line history": "SELECT p.slug, c.pms_claim_number, h.line_number, h.history_type, "
    "u.username, h.history_date, h.procedure_code, h.teeth, h.charge "
    "FROM claims_historicalclaimline h JOIN claims_claim c ON c.id = h.claim_id "
    "JOIN practices_practice p ON p.id = c.practice_id JOIN auth_user u "
    "ON u.id = h.history_user_id WHERE p.slug = ANY(%s) ORDER BY 1, 2, 3",
    "patients": "SELECT p.slug, t.account_number, t.first_name, t.last_name, t.date_of_birth, "
    "t.phone, t.email, t.address_line, v.cob_order, y.payer_id, v.member_id, "
    "v.subscriber_name FROM practices_patient t JOIN practices_practice p "
    "ON p.id = t.practice_id LEFT JOIN practices_coverage v ON v.patient_id = t.id "
    "LEFT JOIN practices_payer y ON y.id = v.payer_id WHERE p.slug = ANY(%s) "
    "ORDER BY 1, 2, 9",
}


def _natural_rows(slugs: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    with connection.cursor() as cursor:
        rows = {}
        for name, sql in NATURAL.items():
            cursor.execute(sql, [slugs])
            rows[name] = cursor.fetchall()
        return rows


def test_fast_and_plain_paths_write_the_same_rows() -> None:
    """The fast path (tables truncated, COPY FREEZE, indexes and constraints dropped and
    recreated) and the plain one (a table not empty, indexes kept) write the same rows."""
    from django.db import transaction

    from practices.models import Practice

    now = timezone.now()
    with transaction.atomic():
        fast = generate(
            None, practices=2, claims=150, seed=4, fast=True, vacuum=False, now=now, say=_quiet
        )
        slugs = list(
            Practice.objects.filter(pk__in=fast.practice_ids).values_list("slug", flat=True)
        )
        fast_rows = _natural_rows(slugs)
        transaction.set_rollback(True)
    assert fast.freeze and fast_rows["claims"] and fast_rows["timeline"]
    factories.PatientFactory()  # a bulk table holds rows: the plain path
    plain = generate(
        None, practices=2, claims=150, seed=4, fast=False, vacuum=False, now=now, say=_quiet
    )
    assert not plain.freeze
    plain_rows = _natural_rows(slugs)
    for name, rows in fast_rows.items():
        assert plain_rows[name] == rows, name
