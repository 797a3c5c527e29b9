"""Billing function and SOP pages and endpoints through the permission matrix.

The hand-off page ("Who to contact for what") is for everybody who works Sunrise; the
function pages and SOP edits are the managers' (``manage_sops``: sam at Sunrise; mia
works Maple's own and never sees or changes Sunrise's). SOPs are read and signed by the
performers of their function: the claim follow-up SOP by sam, bill, vera and val (work
claims), never by fran (front desk) or vic (verification only).
"""

from __future__ import annotations

from typing import Any

from sops.models import BillingFunction
from sops.sop_models import SopSignOff, SopSignOffRequest, SopVersion
from tests.permission_matrix import SUNRISE_STAFF, Case, Endpoint, PermissionMatrixMixin
from tests.sops import scene

WORKERS = frozenset({"sam", "bill", "vera", "val"})
MANAGERS = frozenset({"sam"})


def _signed(c: Case) -> bool:
    return SopSignOff.objects.filter(version=c.world.v2, user=c.user).exists()


def _reach(value: str) -> Any:
    return lambda c: BillingFunction.objects.filter(how_to_reach=value).exists()


def _sop_text(w: Any) -> str:
    return f"/sops/{w.sop.pk}/"


class TestSopPages(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        scene.build(world)
        world.bill_request = SopSignOffRequest.objects.get(sop_version=world.v2, owner=world.bill)

    endpoints = [
        Endpoint(
            "contacts",
            "get",
            lambda w: "/sops/contacts/",
            SUNRISE_STAFF,
            marker=lambda w: scene.SUNRISE_REACH,
            route="sop-contacts",
        ),
        Endpoint(
            "function list",
            "get",
            lambda w: "/sops/functions/",
            MANAGERS,
            marker=lambda w: "Sunrise follow-up SOP",
            route="billing-function-list",
        ),
        Endpoint(
            "function edit page",
            "get",
            lambda w: "/sops/functions/claim_follow_up/",
            MANAGERS,
            marker=lambda w: scene.SUNRISE_REACH,
            route="billing-function-edit",
        ),
        # mia sets Maple's function (her current practice), never Sunrise's.
        Endpoint(
            "function edit",
            "post",
            lambda w: "/sops/functions/claim_follow_up/",
            MANAGERS | {"mia"},
            ok_status=302,
            data=lambda w: {
                "owner": "",
                "sourcing": "in_house",
                "turnaround_days": "4",
                "how_to_reach": "new reach",
            },
            route="billing-function-edit",
            done=_reach("new reach"),
        ),
        Endpoint(
            "sop list",
            "get",
            lambda w: "/sops/",
            WORKERS,
            marker=lambda w: "Sunrise follow-up SOP",
            route="sop-list",
        ),
        Endpoint("sop page", "get", _sop_text, WORKERS, route="sop-detail"),
        Endpoint(
            "sop diff",
            "get",
            lambda w: f"/sops/{w.sop.pk}/diff/",
            WORKERS,
            route="sop-diff",
        ),
        Endpoint(
            "sign off",
            "post",
            lambda w: f"/sops/{w.sop.pk}/sign-off/",
            WORKERS,
            ok_status=302,
            data=lambda w: {"version": "2"},
            route="sop-sign-off",
            done=_signed,
        ),
        Endpoint(
            "sign-off request",
            "get",
            lambda w: f"/sops/sign-offs/{w.bill_request.pk}/",
            WORKERS,
            route="sop-sign-off-request",
        ),
        Endpoint(
            "sop edit page",
            "get",
            lambda w: "/sops/functions/claim_follow_up/sop/",
            MANAGERS,
            marker=lambda w: "Check the portal first",
            route="sop-edit",
        ),
        # mia writes a version of Maple's SOP, never Sunrise's.
        Endpoint(
            "sop edit",
            "post",
            lambda w: "/sops/functions/claim_follow_up/sop/",
            MANAGERS | {"mia"},
            ok_status=302,
            data=lambda w: {
                "objective": "Follow up",
                "steps": "One\nTwo",
                "owner": "",
                "timeline": "Daily",
                "escalation_path": "Manager",
                "change_summary": "Matrix version",
            },
            route="sop-edit",
            done=lambda c: SopVersion.objects.filter(change_summary="Matrix version").exists(),
        ),
    ]


def _version_count(c: Case) -> bool:
    return SopVersion.objects.filter(sop=c.world.sop, number=3).exists()


class TestSopApi(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        scene.build(world)

    endpoints = [
        Endpoint(
            "functions api",
            "get",
            lambda w: "/api/v1/billing-functions/",
            SUNRISE_STAFF,
            api=True,
            marker=lambda w: w.follow_up.pk,
            route="api:api-billing-function-list",
        ),
        Endpoint(
            "function api",
            "get",
            lambda w: f"/api/v1/billing-functions/{w.follow_up.pk}/",
            SUNRISE_STAFF,
            api=True,
            route="api:api-billing-function-detail",
        ),
        Endpoint(
            "function api patch",
            "patch",
            lambda w: f"/api/v1/billing-functions/{w.follow_up.pk}/",
            MANAGERS,
            api=True,
            data=lambda w: {"how_to_reach": "api reach", "turnaround_days": 5},
            route="api:api-billing-function-detail",
            done=_reach("api reach"),
        ),
        Endpoint(
            "sops api",
            "get",
            lambda w: "/api/v1/sops/",
            WORKERS,
            api=True,
            marker=lambda w: w.sop.pk,
            route="api:api-sop-list",
        ),
        Endpoint(
            "sop api",
            "get",
            lambda w: f"/api/v1/sops/{w.sop.pk}/",
            WORKERS,
            api=True,
            route="api:api-sop-detail",
        ),
        Endpoint(
            "sop versions api",
            "get",
            lambda w: f"/api/v1/sops/{w.sop.pk}/versions/",
            WORKERS,
            api=True,
            route="api:api-sop-versions",
        ),
        Endpoint(
            "sop new version api",
            "post",
            lambda w: f"/api/v1/sops/{w.sop.pk}/versions/",
            MANAGERS,
            api=True,
            ok_status=201,
            data=lambda w: {
                "objective": "Follow up every claim",
                "steps": ["Portal", "Phone"],
                "owner": w.bill.pk,
                "timeline": "Daily",
                "escalation_path": "Manager",
                "change_summary": "API version",
            },
            route="api:api-sop-versions",
            done=_version_count,
        ),
        Endpoint(
            "sop sign-off api",
            "post",
            lambda w: f"/api/v1/sops/{w.sop.pk}/sign-off/",
            WORKERS,
            api=True,
            ok_status=201,
            data=lambda w: {"version": 2},
            route="api:api-sop-sign-off",
            done=_signed,
        ),
    ]
