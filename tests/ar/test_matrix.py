"""Every remittance page and endpoint in the permission matrix: post_payments (the
insurance billing area) at the practice, nothing of another practice's remittances."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ar import services
from ar.choices import UnmatchedStatus
from ar.models import Remittance, Underpayment, UnmatchedRemittance
from claims.choices import NextAction
from practices.choices import ClaimFormat
from practices.models import FeeScheduleLine, PhiAccessLog
from tests import claim_factory, factories
from tests.ar.conftest import sample
from tests.ar.test_x12_835 import era
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

POSTERS = frozenset({"sam", "bill", "vera", "val"})  # post_payments on Sunrise
# Pages of the current practice: mia's is Maple, where she posts payments.
POSTERS_ANYWHERE = POSTERS | {"mia"}
PAID_IN_FULL = "x12sdk-generated-paid-in-full.835"


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, sample(PAID_IN_FULL).encode(), content_type="text/plain")


def _claim(world: Any, number: str, last_name: str, charge: str) -> Any:
    payer = factories.PayerFactory(
        practice=world.sunrise, claim_format=ClaimFormat.DENTAL, timely_filing_days=365
    )
    patient = factories.PatientFactory(practice=world.sunrise, last_name=last_name)
    return claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=factories.CoverageFactory(patient=patient, payer=payer),
        provider=factories.ProviderFactory(practice=world.sunrise),
        number=number,
        owner=world.bill,
        status="submitted",
        service_date_from=timezone.localdate() - dt.timedelta(days=20),
        lines=[{"procedure_code": "D1110", "charge": Decimal(charge)}],
        next_action=NextAction.WAIT,
        wait_reason="payer answer",
    )


def _run(world: Any, text: str, dry_run: bool = False) -> Remittance:
    batch = services.remittance_upload(
        actor=world.bill,
        practice=world.sunrise,
        content=text.encode(),
        filename="matrix.835",
        dry_run=dry_run,
        enqueue=False,
    )
    ran = services.remittance_run(batch.pk)
    assert ran is not None
    return ran


def _home(c: Case) -> Any:
    return c.world.maple if c.persona == "mia" else c.world.sunrise


def _item_status(c: Case) -> str:
    return UnmatchedRemittance.objects.get(pk=c.world.item.pk).status


class TestRemittanceMatrix(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        # PCN000001 billed 999.00: the 835's 250.00 does not match it -> unmatched.
        _claim(world, "PCN000001", "Taylor", "999.00")
        world.right = _claim(world, "PCN-RIGHT", "Martinez", "250.00")
        world.eob_claim = _claim(world, "PCN-EOB", "Okafor", "120.00")
        world.batch = _run(world, sample(PAID_IN_FULL))
        world.item = UnmatchedRemittance.objects.get(payment__remittance=world.batch)
        world.preview = _run(world, sample(PAID_IN_FULL).replace("0242886304", "P-1"), True)
        under = _claim(world, "PCN-UNDER", "Underwood", "120.00")
        FeeScheduleLine.objects.create(
            practice=world.sunrise,
            payer=under.payer,
            procedure_code="D1110",
            allowed_amount=Decimal("110.00"),
            effective_from=dt.date(2020, 1, 1),
        )
        lines = ["CLP*PCN-UNDER*1*120*80*20*12*U1", "SVC*HC:D1110*120*80**1"]
        _run(world, era([*lines, "CAS*PR*2*20", "CAS*CO*45*20"], "80", trace="U-1"))
        world.underpayment = Underpayment.objects.get(claim=under)

    endpoints = [
        Endpoint(
            "remittance page",
            "get",
            lambda w: "/remittances/",
            POSTERS,
            marker=lambda w: "0242886304",
            route="remittance-list",
        ),
        Endpoint(
            "remittance upload",
            "post",
            lambda w: "/remittances/",
            POSTERS_ANYWHERE,
            ok_status=302,
            multipart=True,
            data=lambda w: {"file": upload("upload.835"), "dry_run": "on"},
            route="remittance-list",
            done=lambda c: Remittance.objects.filter(
                created_by=c.user, practice=_home(c), filename="upload.835"
            ).exists(),
        ),
        Endpoint(
            "remittance detail",
            "get",
            lambda w: f"/remittances/{w.batch.pk}/",
            POSTERS,
            route="remittance-detail",
        ),
        Endpoint(
            "remittance run",
            "post",
            lambda w: f"/remittances/{w.preview.pk}/run/",
            POSTERS,
            ok_status=302,
            route="remittance-run",
            done=lambda c: Remittance.objects.filter(
                created_by=c.user, file_hash=c.world.preview.file_hash, dry_run=False
            ).exists(),
        ),
        Endpoint(
            "unmatched payment",
            "get",
            lambda w: f"/remittances/unmatched/{w.item.pk}/",
            POSTERS,
            route="unmatched-detail",
        ),
        Endpoint(
            "unmatched search",
            "post",
            lambda w: f"/remittances/unmatched/{w.item.pk}/",
            POSTERS,
            data=lambda w: {"patient": "Martinez", "amount": "250.00"},
            route="unmatched-detail",
            done=lambda c: PhiAccessLog.objects.filter(
                user=c.user, patient_ids__contains=[c.world.right.patient_id]
            ).exists(),
        ),
        Endpoint(
            "unmatched match",
            "post",
            lambda w: f"/remittances/unmatched/{w.item.pk}/match/",
            POSTERS,
            ok_status=302,
            data=lambda w: {"claim": w.right.pk, "version": w.item.version},
            route="unmatched-match",
            done=lambda c: _item_status(c) == UnmatchedStatus.MATCHED,
        ),
        Endpoint(
            "unmatched not ours",
            "post",
            lambda w: f"/remittances/unmatched/{w.item.pk}/not-ours/",
            POSTERS,
            ok_status=302,
            data=lambda w: {"note": "other practice", "version": w.item.version},
            route="unmatched-not-ours",
            done=lambda c: _item_status(c) == UnmatchedStatus.NOT_OURS,
        ),
        Endpoint(
            "paper eob page",
            "get",
            lambda w: f"/claims/{w.eob_claim.pk}/eob/",
            POSTERS,
            route="claim-eob",
        ),
        Endpoint(
            "paper eob post",
            "post",
            lambda w: f"/claims/{w.eob_claim.pk}/eob/",
            POSTERS,
            ok_status=302,
            data=lambda w: {
                "check_number": "77",
                "paid_on": "2026-01-10",
                "paid": "100.00",
                "patient_responsibility": "20.00",
                "group_1": "PR",
                "carc_1": "2",
                "amount_1": "20.00",
            },
            route="claim-eob",
            done=lambda c: Remittance.objects.filter(
                payments__claim=c.world.eob_claim, source="paper"
            ).exists(),
        ),
        Endpoint(
            "underpayment",
            "get",
            lambda w: f"/remittances/underpayments/{w.underpayment.pk}/",
            POSTERS,
            route="underpayment-detail",
        ),
        Endpoint(
            "underpayment resolve",
            "post",
            lambda w: f"/remittances/underpayments/{w.underpayment.pk}/",
            POSTERS,
            ok_status=302,
            data=lambda w: {
                "outcome": "appealed",
                "note": "appeal ref 12",
                "version": w.underpayment.version,
            },
            route="underpayment-detail",
            done=lambda c: (
                Underpayment.objects.get(pk=c.world.underpayment.pk).status == "appealed"
            ),
        ),
        Endpoint(
            "api remittances",
            "get",
            lambda w: "/api/v1/remittances/",
            POSTERS,
            api=True,
            marker=lambda w: w.batch.pk,
            route="api:api-remittance-list",
        ),
        # A practice the caller does not post payments at reads as an unknown id: 400.
        Endpoint(
            "api remittance upload",
            "post",
            lambda w: "/api/v1/remittances/",
            POSTERS,
            api=True,
            ok_status=202,
            denied_status=400,
            multipart=True,
            data=lambda w: {"practice": w.sunrise.pk, "file": upload("api.835")},
            route="api:api-remittance-list",
            done=lambda c: Remittance.objects.filter(
                created_by=c.user, practice=c.world.sunrise, filename="api.835"
            ).exists(),
        ),
        Endpoint(
            "api remittance",
            "get",
            lambda w: f"/api/v1/remittances/{w.batch.pk}/",
            POSTERS,
            api=True,
            route="api:api-remittance-detail",
        ),
    ]
