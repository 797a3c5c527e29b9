"""The pre-treatment estimate page (issue 7: the import result links to the estimates it
created): who may open it, through the permission matrix."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from claims.models import Estimate
from claims.services import estimate_create
from tests import factories
from tests.permission_matrix import Endpoint, PermissionMatrixMixin

# Who works claims at Sunrise: the manager, the biller and the insurance-billing vendors.
WORKERS = frozenset({"sam", "bill", "vera", "val"})


def _estimate(w: Any) -> Estimate:
    return Estimate.objects.get(pms_claim_number="EST-1")


class TestEstimatePage(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        patient = world.sunrise_patient
        estimate_create(
            actor=None,
            patient=patient,
            coverage=patient.coverages.get(),
            provider=factories.ProviderFactory(practice=world.sunrise),
            pms_claim_number="EST-1",
            lines=[{"line_number": 1, "procedure_code": "D2740", "charge": Decimal("1200.00")}],
        )

    endpoints = [
        Endpoint(
            "estimate page",
            "get",
            lambda w: f"/estimates/{_estimate(w).pk}/",
            WORKERS,
            route="estimate-detail",
        ),
    ]
