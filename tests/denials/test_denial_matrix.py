"""Every denial and appeal page and endpoint through the permission matrix.

Denials belong to the insurance billing area (``work_claims``, "Work claims and
denials"): the Sunrise manager (sam), biller (bill), vendor staff with insurance billing
(vera, val); never front desk (fran), verification-only staff (vic) or the other
practice's manager (mia). The category map is the managers' (``manage_sops``): sam at
Sunrise; mia edits Maple's own map and never sees or changes Sunrise's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from claims.choices import ClaimStatus
from denials import appeals, services
from denials.choices import (
    ActivityKind,
    AppealOutcome,
    DenialCategory,
    DenialStatus,
    ProposalStatus,
    RootCause,
)
from denials.models import (
    Appeal,
    CategoryRule,
    Denial,
    DenialActivity,
    RuleProposal,
    WriteOffRequest,
)
from practices.choices import ClaimFormat
from tests import claim_factory, factories
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

WORKERS = frozenset({"sam", "bill", "vera", "val"})
MANAGERS = frozenset({"sam"})


def local_today() -> dt.date:
    """Today in the practice's time zone, read when a test uses it (a constant read at
    import goes stale when a run crosses midnight)."""
    return timezone.localdate()


def _denied_claim(practice: Any, actor: Any, number: str) -> Any:
    payer = factories.PayerFactory(
        practice=practice, claim_format=ClaimFormat.DENTAL, timely_filing_days=365
    )
    patient = factories.PatientFactory(practice=practice)
    return claim_factory.make(
        actor=actor,
        patient=patient,
        coverage=factories.CoverageFactory(patient=patient, payer=payer),
        provider=factories.ProviderFactory(practice=practice),
        number=number,
        owner=actor,
        status=ClaimStatus.DENIED,
    )


def build_scene(world: Any) -> None:
    """A Sunrise denial (CO-50) with a drafted level 1 appeal, a Maple denial, and a
    Sunrise category rule."""
    world.claim = _denied_claim(world.sunrise, world.bill, "DEN-SUN-1")
    world.denial = services.open_denial(
        actor=world.bill,
        claim=world.claim,
        group_code="CO",
        carc="50",
        amount=Decimal("120.00"),
        received_on=local_today() - dt.timedelta(days=1),
    )
    world.appeal = appeals.appeal_create(actor=world.bill, denial=world.denial)
    maple_claim = _denied_claim(world.maple, world.mia, "DEN-MAPLE-1")
    world.maple_denial = services.open_denial(
        actor=world.mia,
        claim=maple_claim,
        group_code="CO",
        carc="16",
        amount=Decimal("80.00"),
        received_on=local_today(),
    )
    world.proposal = RuleProposal.objects.create(
        practice=world.sunrise,
        payer=world.claim.payer,
        carc="16",
        procedure_code="D1110",
        occurrences=3,
        first_seen=local_today() - dt.timedelta(days=20),
        last_seen=local_today(),
    )
    world.rule = services.category_rule_set(
        actor=world.sam, practice=world.sunrise, carc="B7", category=DenialCategory.CODING
    )


def denial_of(w: Any) -> Denial:
    return Denial.objects.get(pk=w.denial.pk)


def appeal_of(w: Any) -> Appeal:
    return Appeal.objects.get(pk=w.appeal.pk)


def version(w: Any) -> int:
    return denial_of(w).version


def url(w: Any, suffix: str = "") -> str:
    return f"/denials/{w.denial.pk}/{suffix}"


def activity_by(c: Case, kind: str) -> bool:
    return DenialActivity.objects.filter(denial=c.world.denial, kind=kind, actor=c.user).exists()


def proposal_status(c: Case) -> str:
    return RuleProposal.objects.get(pk=c.world.proposal.pk).status


def mark_sent(c: Case) -> None:
    Appeal.objects.filter(pk=c.world.appeal.pk).update(sent_on=local_today(), method="fax")


class TestDenialPages(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build_scene(world)

    endpoints = [
        Endpoint("denial page", "get", url, WORKERS, route="denial-detail"),
        Endpoint(
            "resubmitted",
            "post",
            lambda w: url(w, "resubmit/"),
            WORKERS,
            ok_status=302,
            data=lambda w: {"version": version(w), "note": "Fixed the tooth number."},
            route="denial-resubmit",
            done=lambda c: activity_by(c, ActivityKind.RESUBMITTED),
        ),
        Endpoint(
            "request records",
            "post",
            lambda w: url(w, "records/"),
            WORKERS,
            ok_status=302,
            data=lambda w: {"version": version(w), "what": "Perio chart"},
            route="denial-records",
            done=lambda c: activity_by(c, ActivityKind.RECORDS),
        ),
        Endpoint(
            "write off",
            "post",
            lambda w: url(w, "write-off/"),
            WORKERS,
            ok_status=302,
            data=lambda w: {"version": version(w), "amount": "50.00", "reason": "Small balance"},
            route="denial-write-off",
            done=lambda c: WriteOffRequest.objects.filter(requested_by=c.user).exists(),
        ),
        Endpoint(
            "close",
            "post",
            lambda w: url(w, "close/"),
            WORKERS,
            ok_status=302,
            data=lambda w: {"version": version(w), "outcome": "not_ours"},
            route="denial-close",
            done=lambda c: denial_of(c.world).status == DenialStatus.CLOSED,
        ),
        Endpoint(
            "edit",
            "post",
            lambda w: url(w, "edit/"),
            WORKERS,
            ok_status=302,
            data=lambda w: {
                "version": version(w),
                "category": DenialCategory.CODING,
                "route": "billing",
                "root_cause": RootCause.CODING,
            },
            route="denial-edit",
            done=lambda c: denial_of(c.world).category == DenialCategory.CODING,
        ),
        Endpoint(
            "draft appeal",
            "post",
            lambda w: url(w, "appeal/"),
            WORKERS,
            ok_status=302,
            data=lambda w: {"version": version(w), "level": "2"},
            route="denial-appeal",
            done=lambda c: Appeal.objects.filter(created_by=c.user, level="2").exists(),
        ),
        Endpoint(
            "appeal page",
            "get",
            lambda w: f"/appeals/{w.appeal.pk}/",
            WORKERS,
            route="appeal-detail",
        ),
        Endpoint(
            "appeal edit",
            "post",
            lambda w: f"/appeals/{w.appeal.pk}/",
            WORKERS,
            ok_status=302,
            data=lambda w: {
                "letter": "Matrix letter",
                "method": "fax",
                "deadline": (local_today() + dt.timedelta(days=20)).isoformat(),
            },
            route="appeal-detail",
            done=lambda c: appeal_of(c.world).letter == "Matrix letter",
        ),
        Endpoint(
            "appeal send",
            "post",
            lambda w: f"/appeals/{w.appeal.pk}/send/",
            WORKERS,
            ok_status=302,
            data=lambda w: {"method": "portal"},
            route="appeal-send",
            done=lambda c: appeal_of(c.world).sent_on is not None,
        ),
        Endpoint(
            "appeal decide",
            "post",
            lambda w: f"/appeals/{w.appeal.pk}/decide/",
            WORKERS,
            ok_status=302,
            data=lambda w: {"outcome": AppealOutcome.UPHELD},
            route="appeal-decide",
            arrange=mark_sent,
            done=lambda c: appeal_of(c.world).outcome == AppealOutcome.UPHELD,
        ),
        Endpoint(
            "appeal letter pdf",
            "get",
            lambda w: f"/appeals/{w.appeal.pk}/letter.pdf",
            WORKERS,
            route="appeal-letter-pdf",
        ),
        Endpoint(
            "category rules",
            "get",
            lambda w: "/denials/rules/",
            MANAGERS,
            marker=lambda w: "B7",
            route="denial-rules",
        ),
        # mia adds a rule to Maple's map (her current practice), never to Sunrise's.
        Endpoint(
            "category rule add",
            "post",
            lambda w: "/denials/rules/",
            MANAGERS | {"mia"},
            ok_status=302,
            data=lambda w: {"carc": "B9", "category": DenialCategory.DUPLICATE},
            route="denial-rules",
            done=lambda c: CategoryRule.objects.filter(carc="B9").exists(),
        ),
        Endpoint(
            "category rule delete",
            "post",
            lambda w: f"/denials/rules/{w.rule.pk}/delete/",
            MANAGERS,
            ok_status=302,
            route="denial-rule-delete",
            done=lambda c: not CategoryRule.objects.filter(pk=c.world.rule.pk).exists(),
        ),
        Endpoint(
            "rule proposal confirm",
            "post",
            lambda w: f"/denials/proposals/{w.proposal.pk}/confirm/",
            MANAGERS,
            ok_status=302,
            data=lambda w: {"required_attachment": "narrative"},
            route="denial-proposal-confirm",
            done=lambda c: proposal_status(c) == ProposalStatus.CONFIRMED,
        ),
        Endpoint(
            "rule proposal dismiss",
            "post",
            lambda w: f"/denials/proposals/{w.proposal.pk}/dismiss/",
            MANAGERS,
            ok_status=302,
            route="denial-proposal-dismiss",
            done=lambda c: proposal_status(c) == ProposalStatus.DISMISSED,
        ),
    ]


class TestDenialApi(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build_scene(world)

    endpoints = [
        Endpoint(
            "api denials",
            "get",
            lambda w: "/api/v1/denials/",
            WORKERS,
            api=True,
            marker=lambda w: w.denial.pk,
            route="api:api-denial-list",
        ),
        Endpoint(
            "api denial",
            "get",
            lambda w: f"/api/v1/denials/{w.denial.pk}/",
            WORKERS,
            api=True,
            route="api:api-denial-detail",
        ),
        Endpoint(
            "api denial patch",
            "patch",
            lambda w: f"/api/v1/denials/{w.denial.pk}/",
            WORKERS,
            api=True,
            data=lambda w: {"version": version(w), "root_cause": RootCause.PAYER},
            route="api:api-denial-detail",
            done=lambda c: denial_of(c.world).root_cause == RootCause.PAYER,
        ),
        Endpoint(
            "api appeals",
            "get",
            lambda w: "/api/v1/appeals/",
            WORKERS,
            api=True,
            marker=lambda w: w.appeal.pk,
            route="api:api-appeal-list",
        ),
        # Another practice's denial id reads as "Invalid pk": 400, nothing created.
        Endpoint(
            "api appeal create",
            "post",
            lambda w: "/api/v1/appeals/",
            WORKERS,
            api=True,
            ok_status=201,
            data=lambda w: {"denial": w.denial.pk, "level": "external"},
            route="api:api-appeal-list",
            denied_status=400,
            done=lambda c: Appeal.objects.filter(created_by=c.user, level="external").exists(),
        ),
    ]
