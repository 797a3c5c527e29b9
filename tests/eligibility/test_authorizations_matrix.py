"""Every prior-authorization page and endpoint through the permission matrix.

Prior authorizations need ``verify_eligibility`` at the practice: at Sunrise the manager
(sam), front desk (fran), biller (bill), verification-only vendor staff (vic) and the
vendor lead (val); never insurance-billing-only staff (vera) or the other practice's
manager (mia), who get 404 (or 400 naming another practice's patient in a create).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from claims.models import PayerRule
from eligibility.auth_models import AuthActivityKind, AuthStatus, PriorAuthorization
from eligibility.authorizations import authorization_create
from practices.choices import ClaimFormat
from tests import factories
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

VERIFIERS = frozenset({"sam", "fran", "bill", "vic", "val"})
NEW_CODE = "D2799"


def build_scene(world: Any) -> None:
    """A needed and an approved Sunrise authorization, and a Maple one."""
    today = timezone.localdate()
    world.payer = factories.PayerFactory(
        practice=world.sunrise, name="Delta Dental", claim_format=ClaimFormat.DENTAL
    )
    PayerRule.objects.create(
        practice=world.sunrise,
        payer=world.payer,
        procedure_code_pattern="D27*",
        needs_authorization=True,
        description="Crowns need a prior authorization.",
    )
    world.needed = authorization_create(
        actor=world.fran,
        patient=world.sunrise_patient,
        payer=world.payer,
        procedure_codes=["D2740"],
    )
    world.approved = authorization_create(
        actor=world.fran,
        patient=world.sunrise_patient,
        payer=world.payer,
        procedure_codes=["D2750"],
        status=AuthStatus.APPROVED,
        number="MATRIX-A",
        valid_from=today,
        valid_to=today + dt.timedelta(days=60),
        units_approved=3,
    )
    maple_payer = factories.PayerFactory(
        practice=world.maple, claim_format=ClaimFormat.PROFESSIONAL
    )
    world.maple_auth = authorization_create(
        actor=world.mia,
        patient=world.maple_patient,
        payer=maple_payer,
        procedure_codes=["97110"],
    )


def fresh(pk: int) -> PriorAuthorization:
    return PriorAuthorization.objects.get(pk=pk)


def created_new(c: Case) -> bool:
    return PriorAuthorization.objects.filter(procedure_codes=[NEW_CODE]).exists()


def marker(w: Any) -> str:
    return f">{w.needed.label}<"


class TestAuthorizationPages(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build_scene(world)

    endpoints = [
        Endpoint(
            "authorization list",
            "get",
            lambda w: "/authorizations/",
            VERIFIERS,
            marker=marker,
            route="authorization-list",
        ),
        Endpoint(
            "authorization create",
            "post",
            lambda w: "/authorizations/",
            VERIFIERS,
            ok_status=302,
            # mia's current practice is her own: the Sunrise account is unknown there.
            denied_status={"mia": 400},
            data=lambda w: {
                "patient_account": w.sunrise_patient.account_number,
                "payer": w.payer.pk,
                "procedure_codes": NEW_CODE,
                "status": "needed",
                "units_approved": "0",
            },
            route="authorization-list",
            done=created_new,
        ),
        Endpoint(
            "authorization page",
            "get",
            lambda w: f"/authorizations/{w.needed.pk}/",
            VERIFIERS,
            route="authorization-detail",
        ),
        Endpoint(
            "other practice's authorization page",
            "get",
            lambda w: f"/authorizations/{w.maple_auth.pk}/",
            frozenset({"mia", "val"}),
            route="authorization-detail",
        ),
        Endpoint(
            "authorization update",
            "post",
            lambda w: f"/authorizations/{w.needed.pk}/update/",
            VERIFIERS,
            ok_status=302,
            data=lambda w: {
                "version": fresh(w.needed.pk).version,
                "status": "requested",
                "units_approved": "0",
            },
            route="authorization-update",
            done=lambda c: fresh(c.world.needed.pk).status == AuthStatus.REQUESTED,
        ),
        Endpoint(
            "authorization units",
            "post",
            lambda w: f"/authorizations/{w.approved.pk}/units/",
            VERIFIERS,
            ok_status=302,
            data=lambda w: {"version": fresh(w.approved.pk).version, "units": "1"},
            route="authorization-units",
            done=lambda c: fresh(c.world.approved.pk).units_used == 1,
        ),
        Endpoint(
            "authorization renew",
            "post",
            lambda w: f"/authorizations/{w.approved.pk}/renew/",
            VERIFIERS,
            ok_status=302,
            data=lambda w: {"version": fresh(w.approved.pk).version},
            route="authorization-renew",
            done=lambda c: PriorAuthorization.objects.filter(renews=c.world.approved).exists(),
        ),
        Endpoint(
            "api authorization list",
            "get",
            lambda w: "/api/v1/prior-authorizations/",
            VERIFIERS,
            api=True,
            marker=lambda w: w.needed.pk,
            route="api:api-prior-authorization-list",
        ),
        Endpoint(
            "api authorization create",
            "post",
            lambda w: "/api/v1/prior-authorizations/",
            VERIFIERS,
            api=True,
            ok_status=201,
            denied_status=400,
            data=lambda w: {
                "patient": w.sunrise_patient.pk,
                "payer": w.payer.pk,
                "procedure_codes": [NEW_CODE],
            },
            route="api:api-prior-authorization-list",
            done=created_new,
        ),
        Endpoint(
            "api authorization detail",
            "get",
            lambda w: f"/api/v1/prior-authorizations/{w.needed.pk}/",
            VERIFIERS,
            api=True,
            route="api:api-prior-authorization-detail",
        ),
        Endpoint(
            "api authorization patch",
            "patch",
            lambda w: f"/api/v1/prior-authorizations/{w.needed.pk}/",
            VERIFIERS,
            api=True,
            data=lambda w: {"version": fresh(w.needed.pk).version, "status": "requested"},
            route="api:api-prior-authorization-detail",
            done=lambda c: PriorAuthorization.objects.filter(
                pk=c.world.needed.pk,
                status=AuthStatus.REQUESTED,
                activities__kind=AuthActivityKind.STATUS,
                activities__actor=c.user,
            ).exists(),
        ),
    ]
