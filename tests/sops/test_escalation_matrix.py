"""Escalation pages and endpoints through the permission matrix.

A Sunrise claim escalation (owner bill, backup vera) is read by those who work claims at
Sunrise (sam, bill, vera, val) and answered by the function's owner, backup or a manager
(bill, vera, sam); val reads it but may not answer; fran and vic (no claims) and mia (the
other practice) see nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from practices.choices import ClaimFormat
from sops import escalation_services
from sops.choices import EscalationStatus
from sops.escalation_models import Escalation
from tests import claim_factory, factories
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin
from tests.sops import scene

READERS = frozenset({"sam", "bill", "vera", "val"})
ANSWERERS = frozenset({"sam", "bill", "vera"})


def build(world: Any) -> None:
    scene.build(world)
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
        number="ESC-SUN-1",
        owner=world.bill,
    )
    world.escalation = escalation_services.escalation_raise(
        actor=world.vera,
        subject_type="claim",
        subject_id=world.claim.pk,
        function_kind="claim_follow_up",
        question="Is the secondary on file current?",
        deadline=timezone.localdate() + dt.timedelta(days=3),
    )


def _answered(c: Case) -> bool:
    row = Escalation.objects.get(pk=c.world.escalation.pk)
    return row.status == EscalationStatus.ANSWERED and row.answered_by_id == c.user.pk


def _raised(c: Case) -> bool:
    return Escalation.objects.filter(raised_by=c.user, question="Matrix question?").exists()


def _raise_data(w: Any) -> dict[str, Any]:
    return {
        "subject_type": "claim",
        "subject_id": w.claim.pk,
        "function_kind": "claim_follow_up",
        "question": "Matrix question?",
        "patient_impact": "Treatment on hold",
    }


class TestEscalations(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build(world)

    endpoints = [
        Endpoint(
            "escalation page",
            "get",
            lambda w: f"/escalations/{w.escalation.pk}/",
            READERS,
            route="escalation-detail",
        ),
        Endpoint(
            "answer",
            "post",
            lambda w: f"/escalations/{w.escalation.pk}/answer/",
            ANSWERERS,
            ok_status=302,
            data=lambda w: {"version": w.escalation.version, "answer": "Yes, updated."},
            route="escalation-answer",
            done=_answered,
        ),
        Endpoint(
            "raise",
            "post",
            lambda w: "/escalations/raise/",
            READERS,
            ok_status=302,
            data=_raise_data,
            route="escalation-raise",
            done=_raised,
        ),
        Endpoint(
            "escalations api",
            "get",
            lambda w: "/api/v1/escalations/",
            READERS,
            api=True,
            marker=lambda w: w.escalation.pk,
            route="api:api-escalation-list",
        ),
        Endpoint(
            "escalation api",
            "get",
            lambda w: f"/api/v1/escalations/{w.escalation.pk}/",
            READERS,
            api=True,
            route="api:api-escalation-detail",
        ),
        Endpoint(
            "raise api",
            "post",
            lambda w: "/api/v1/escalations/",
            READERS,
            api=True,
            ok_status=201,
            data=_raise_data,
            route="api:api-escalation-list",
            denied_status=400,
            done=_raised,
        ),
        Endpoint(
            "answer api",
            "post",
            lambda w: f"/api/v1/escalations/{w.escalation.pk}/answer/",
            ANSWERERS,
            api=True,
            data=lambda w: {"version": w.escalation.version, "answer": "Yes, updated."},
            route="api:api-escalation-answer",
            done=_answered,
        ),
    ]
