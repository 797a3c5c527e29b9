"""The monthly mini-audit (issue 14, part 5): the job on the 1st samples ten of last month's
denied or delayed claims per practice into one audit for the reviewer (run twice: one
audit); root causes recorded on the page or the API, kept per function and owner; overdue
internal items (mini-audits, QA, rule reviews, sign-offs) do not page the primary contact."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from billing_ops.celery import app as celery_app
from claims.choices import ClaimStatus
from claims.models import Claim
from practices.choices import ClaimFormat
from sops import escalations, function_services, qa_audit, tasks
from sops.choices import BillingFunctionKind, QaStatus
from sops.qa_audit_models import AuditReason, MiniAudit, MiniAuditClaim, RootCause
from tests import claim_factory, factories
from tests.claims import conftest as claim_fixtures
from tests.conftest import login
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin
from work.models import Notification
from work.registry import registry
from work.selectors import my_day_of_type

pytestmark = pytest.mark.django_db
make_claim = claim_fixtures.make_claim


def next_first() -> dt.date:
    """The 1st of next month: the job then audits this month (when the claims were made)."""
    today = timezone.localdate()
    return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _maple_claim(world: Any, status: str) -> Claim:
    patient = factories.PatientFactory(practice=world.maple)
    return claim_factory.make(
        actor=world.mia,
        patient=patient,
        coverage=factories.CoverageFactory(
            patient=patient,
            payer=factories.PayerFactory(
                practice=world.maple, claim_format=ClaimFormat.DENTAL, timely_filing_days=365
            ),
        ),
        provider=factories.ProviderFactory(practice=world.maple),
        number="MAPLE-DENIED-1",
        owner=world.mia,
        status=status,
    )


@pytest.fixture
def aw(world: Any, make_claim: Any) -> Any:
    world.denial_fn = function_services.billing_function_set(
        actor=world.sam,
        practice=world.sunrise,
        kind=BillingFunctionKind.DENIAL_FOLLOW_UP,
        owner=world.bill,
    )
    world.coding_fn = function_services.billing_function_set(
        actor=world.sam,
        practice=world.sunrise,
        kind=BillingFunctionKind.CODING_REVIEW,
        owner=world.vera,
    )
    world.denied = [make_claim(status=ClaimStatus.DENIED) for _ in range(6)]
    world.delayed = [make_claim(status=ClaimStatus.SUBMITTED) for _ in range(6)]
    long_ago = timezone.localdate().replace(day=1) - dt.timedelta(days=40)
    Claim.objects.filter(pk__in=[c.pk for c in world.delayed]).update(
        first_submitted_at=timezone.make_aware(dt.datetime.combine(long_ago, dt.time(9)))
    )
    world.fresh = make_claim(status=ClaimStatus.SUBMITTED)  # submitted at the month's end
    month_end = timezone.make_aware(dt.datetime.combine(next_first(), dt.time(0)))
    Claim.objects.filter(pk=world.fresh.pk).update(
        first_submitted_at=month_end - dt.timedelta(hours=12)
    )
    world.paid = make_claim(status=ClaimStatus.PAID)
    world.maple_denied = _maple_claim(world, ClaimStatus.DENIED)
    world.first = next_first()
    return world


def test_the_job_samples_ten_denied_or_delayed_claims_once_per_practice_month(aw: Any) -> None:
    assert qa_audit.sample_month(aw.first) == 2
    assert qa_audit.sample_month(aw.first) == 0  # twice: still one audit per practice-month
    assert tasks.sample_mini_audits(on=aw.first.isoformat()) == 0  # the beat job: same
    beat = celery_app.conf.beat_schedule["sample-mini-audits"]
    assert beat["task"] == "sops.tasks.sample_mini_audits"
    month = f"{aw.first - dt.timedelta(days=1):%Y-%m}"

    audit = MiniAudit.objects.get(practice=aw.sunrise)
    assert (audit.month, audit.owner, audit.function) == (month, aw.bill, aw.denial_fn)
    assert audit.is_open and audit.next_action == "audit"
    entries = list(audit.entries.all())
    assert len(entries) == 10
    by_reason = {r: {e.claim_id for e in entries if e.reason == r} for r in AuditReason.values}
    assert len(by_reason["denied"]) == 5 and by_reason["denied"] <= {c.pk for c in aw.denied}
    assert len(by_reason["delayed"]) == 5 and by_reason["delayed"] <= {c.pk for c in aw.delayed}
    assert aw.fresh.pk not in by_reason["delayed"] and aw.paid.pk not in by_reason["denied"]

    maple = MiniAudit.objects.get(practice=aw.maple)  # no reviewer function: the manager
    assert maple.owner == aw.mia
    assert [e.claim_id for e in maple.entries.all()] == [aw.maple_denied.pk]
    assert MiniAudit.objects.filter(month=month).count() == 2


def test_nobody_who_does_not_work_claims_can_take_an_audit_over(aw: Any, client: Any) -> None:
    """The bulk page checks the item type's permission: the front desk (fran) cannot make
    herself the owner of a mini-audit and then record its root causes."""
    qa_audit.sample_month(aw.first)
    audit = MiniAudit.objects.get(practice=aw.sunrise)
    fran = login(client, aw.fran)

    fran.post(
        "/queues/bulk/",
        {
            "items": [f"mini_audit:{audit.pk}"],
            "owner": aw.fran.pk,
            "next_action": "audit",
            "next_action_due": aw.first.isoformat(),
        },
    )

    audit.refresh_from_db()
    assert audit.owner == aw.bill
    assert fran.get(f"/sops/mini-audits/{audit.pk}/").status_code == 404
    with pytest.raises(PermissionDenied):
        qa_audit.mini_audit_record(
            actor=aw.fran,
            audit=audit,
            causes={audit.entries.first().claim_id: {"cause": RootCause.values[0], "note": ""}},
        )
    assert not MiniAuditClaim.objects.exclude(root_cause="").exists()


def test_the_audit_is_in_the_reviewers_day_when_due(aw: Any) -> None:
    qa_audit.sample_month(aw.first)
    audit = MiniAudit.objects.get(practice=aw.sunrise)
    item_type = registry.type("mini_audit")
    due = audit.next_action_due
    assert list(my_day_of_type(item_type, aw.bill, due)) == [audit]
    assert not my_day_of_type(item_type, aw.bill, due - dt.timedelta(days=1)).exists()
    assert not my_day_of_type(item_type, aw.vera, due).exists()


def test_root_causes_are_recorded_per_function_and_owner_page_then_api(
    aw: Any, client: Any
) -> None:
    qa_audit.sample_month(aw.first)
    audit = MiniAudit.objects.get(practice=aw.sunrise)
    entries = list(audit.entries.order_by("claim_id"))
    first, second, rest = entries[0], entries[1], entries[2:]

    login(client, aw.bill)
    page = client.get(f"/sops/mini-audits/{audit.pk}/")
    assert page.status_code == 200 and first.claim.pms_claim_number in page.text
    bad = client.post(
        f"/sops/mini-audits/{audit.pk}/",
        {"version": audit.version, f"cause_{first.claim_id}": RootCause.OTHER},
    )
    assert bad.status_code == 400  # "other" needs a note
    assert not MiniAuditClaim.objects.exclude(root_cause="").exists()

    response = client.post(
        f"/sops/mini-audits/{audit.pk}/",
        {
            "version": audit.version,
            f"cause_{first.claim_id}": RootCause.CODING,
            f"note_{first.claim_id}": "D2750 charted, D2740 billed",
            f"cause_{second.claim_id}": RootCause.PAYER_ERROR,
        },
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.root_cause, first.function, first.function_owner, first.recorded_by) == (
        RootCause.CODING,
        aw.coding_fn,
        aw.vera,
        aw.bill,
    )
    assert first.note == "D2750 charted, D2740 billed"
    audit.refresh_from_db()
    assert audit.is_open  # eight claims still without a cause

    causes = [{"claim": e.claim_id, "root_cause": RootCause.NO_FOLLOW_UP} for e in rest]
    api = client.post(
        f"/api/v1/mini-audits/{audit.pk}/record/",
        {"version": audit.version, "causes": causes},
        content_type="application/json",
    )
    assert api.status_code == 200, api.content
    assert api.json()["status"] == QaStatus.DONE
    audit.refresh_from_db()
    assert (audit.status, audit.completed_by, audit.next_action_due) == (
        QaStatus.DONE,
        aw.bill,
        None,
    )
    # No claim follow-up function at Sunrise: "no follow-up" counts for nobody's function.
    assert not MiniAuditClaim.objects.filter(
        root_cause=RootCause.NO_FOLLOW_UP, function__isnull=False
    ).exists()

    login(client, aw.sam)
    listing = client.get("/sops/mini-audits/").text
    assert "coding_review" in listing and "vera" in listing and "10 of 10" in listing
    assert 'id="nav-mini-audits"' in listing  # the managers' nav
    login(client, aw.bill)
    assert 'id="nav-mini-audits"' not in client.get(f"/sops/mini-audits/{audit.pk}/").text


def test_only_the_reviewer_or_a_manager_records_and_claims_must_be_the_audits(aw: Any) -> None:
    qa_audit.sample_month(aw.first)
    audit = MiniAudit.objects.get(practice=aw.sunrise)
    claim_id = audit.entries.first().claim_id
    with pytest.raises(PermissionDenied):
        qa_audit.mini_audit_record(
            actor=aw.vera, audit=audit, causes={claim_id: {"root_cause": RootCause.CODING}}
        )
    with pytest.raises(ValidationError):
        qa_audit.mini_audit_record(
            actor=aw.sam, audit=audit, causes={aw.fresh.pk: {"root_cause": RootCause.CODING}}
        )
    assert not MiniAuditClaim.objects.exclude(root_cause="").exists()


def test_overdue_internal_items_do_not_page_the_primary_contact(aw: Any) -> None:
    """Decided (issue 14): the hourly overdue job skips item types registered with
    escalate_when_overdue=False; an overdue claim still pages, an overdue mini-audit not."""
    qa_audit.sample_month(aw.first)
    audit = MiniAudit.objects.get(practice=aw.sunrise)
    late = audit.next_action_due + dt.timedelta(days=30)
    escalations.escalate_overdue(late)
    paged = set(Notification.objects.filter(kind="escalation").values_list("item_type", flat=True))
    assert "claim" in paged
    assert not paged & {"mini_audit", "qa_review", "payer_rule_review", "sop_sign_off"}


# --- permission matrix ----------------------------------------------------------------


def build(world: Any) -> None:
    world.maple_claim = _maple_claim(world, ClaimStatus.DENIED)
    patient = factories.PatientFactory(practice=world.sunrise)
    world.claim = claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=factories.CoverageFactory(
            patient=patient,
            payer=factories.PayerFactory(
                practice=world.sunrise, claim_format=ClaimFormat.DENTAL, timely_filing_days=365
            ),
        ),
        provider=factories.ProviderFactory(practice=world.sunrise),
        number="AUDIT-SUN-1",
        owner=world.bill,
        status=ClaimStatus.DENIED,
    )
    qa_audit.sample_month(next_first())
    world.audit = MiniAudit.objects.get(practice=world.sunrise)  # sam reviews (no functions)


def _recorded(c: Case) -> bool:
    return MiniAudit.objects.get(pk=c.world.audit.pk).status == QaStatus.DONE


MANAGERS = frozenset({"sam"})


class TestMiniAuditRoutes(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build(world)

    endpoints = [
        Endpoint(
            "mini-audit list",
            "get",
            lambda w: "/sops/mini-audits/",
            MANAGERS,
            marker=lambda w: f"A-{w.audit.pk}<",
            route="mini-audit-list",
        ),
        Endpoint(
            "mini-audit page",
            "get",
            lambda w: f"/sops/mini-audits/{w.audit.pk}/",
            MANAGERS,
            route="mini-audit",
        ),
        Endpoint(
            "mini-audit record",
            "post",
            lambda w: f"/sops/mini-audits/{w.audit.pk}/",
            MANAGERS,
            ok_status=302,
            data=lambda w: {
                "version": w.audit.version,
                f"cause_{w.claim.pk}": RootCause.DOCUMENTATION,
            },
            route="mini-audit",
            done=_recorded,
        ),
        Endpoint(
            "mini-audit api",
            "get",
            lambda w: "/api/v1/mini-audits/",
            MANAGERS,
            api=True,
            marker=lambda w: w.audit.pk,
            route="api:api-mini-audit-list",
        ),
        Endpoint(
            "mini-audit api detail",
            "get",
            lambda w: f"/api/v1/mini-audits/{w.audit.pk}/",
            MANAGERS,
            api=True,
            route="api:api-mini-audit-detail",
        ),
        Endpoint(
            "mini-audit api record",
            "post",
            lambda w: f"/api/v1/mini-audits/{w.audit.pk}/record/",
            MANAGERS,
            api=True,
            data=lambda w: {
                "version": w.audit.version,
                "causes": [{"claim": w.claim.pk, "root_cause": RootCause.CODING}],
            },
            route="api:api-mini-audit-record",
            done=_recorded,
        ),
    ]
