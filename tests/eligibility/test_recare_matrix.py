"""Every recare page and endpoint through the permission matrix.

The recare list needs ``work_recare`` at the practice: at Sunrise the manager (sam) and
the vendor lead with every area (val); never the front desk (fran), the biller (bill),
vendor staff without the recare area (vera, vic) or the other practice's manager (mia).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from eligibility.recare import recare_add
from eligibility.recare_models import RecareActivity, RecareItem, RecareKind
from tests import factories
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

RECARE = frozenset({"sam", "val"})
IMPORTED_DUE = dt.date(2027, 3, 1)


def build_scene(world: Any) -> None:
    """A Sunrise recall to call and a Maple one."""
    today = timezone.localdate()
    world.recall_patient = factories.PatientFactory(practice=world.sunrise, last_name="Recaller")
    world.item = recare_add(
        actor=world.sam, patient=world.recall_patient, kind=RecareKind.RECALL, due_on=today
    )
    world.maple_item = recare_add(
        actor=world.mia, patient=world.maple_patient, kind=RecareKind.RECALL, due_on=today
    )


def fresh(pk: int) -> RecareItem:
    return RecareItem.objects.get(pk=pk)


def called_by(c: Case) -> bool:
    return RecareActivity.objects.filter(
        item=c.world.item, kind="call", outcome="left_message", actor=c.user
    ).exists()


def recall_file(w: Any) -> dict[str, Any]:
    text = f"patient_account,due_date\n{w.sunrise_patient.account_number},{IMPORTED_DUE}\n"
    return {"file": SimpleUploadedFile("recalls.csv", text.encode(), content_type="text/csv")}


class TestRecarePages(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build_scene(world)

    endpoints = [
        Endpoint(
            "recare list",
            "get",
            lambda w: "/recare/",
            RECARE,
            marker=lambda w: f">{w.item.label}<",
            route="recare-list",
        ),
        Endpoint(
            "recare import",
            "post",
            lambda w: "/recare/import/",
            RECARE,
            ok_status=302,
            # mia's current practice is her own: the Sunrise account is unknown there.
            denied_status={"mia": 400},
            multipart=True,
            data=recall_file,
            route="recare-import",
            done=lambda c: RecareItem.objects.filter(
                patient=c.world.sunrise_patient, due_on=IMPORTED_DUE
            ).exists(),
        ),
        Endpoint(
            "recare page",
            "get",
            lambda w: f"/recare/{w.item.pk}/",
            RECARE,
            route="recare-detail",
        ),
        Endpoint(
            "other practice's recare page",
            "get",
            lambda w: f"/recare/{w.maple_item.pk}/",
            frozenset({"mia", "val"}),
            route="recare-detail",
        ),
        Endpoint(
            "recare call",
            "post",
            lambda w: f"/recare/{w.item.pk}/call/",
            RECARE,
            ok_status=302,
            data=lambda w: {"version": fresh(w.item.pk).version, "outcome": "left_message"},
            route="recare-call",
            done=called_by,
        ),
        Endpoint(
            "api recare list",
            "get",
            lambda w: "/api/v1/recare/",
            RECARE,
            api=True,
            marker=lambda w: w.item.pk,
            route="api:api-recare-list",
        ),
        Endpoint(
            "api recare detail",
            "get",
            lambda w: f"/api/v1/recare/{w.item.pk}/",
            RECARE,
            api=True,
            route="api:api-recare-detail",
        ),
        Endpoint(
            "api recare patch",
            "patch",
            lambda w: f"/api/v1/recare/{w.item.pk}/",
            RECARE,
            api=True,
            data=lambda w: {"version": fresh(w.item.pk).version, "outcome": "left_message"},
            route="api:api-recare-detail",
            done=called_by,
        ),
    ]
