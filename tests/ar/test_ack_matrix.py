"""Every 277CA page and endpoint in the permission matrix: post_payments (the insurance
billing area, as remittances) at the practice, nothing of another practice's imports."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ar.ack_models import Acknowledgement
from ar.acknowledgements import acknowledgement_import
from tests.ar.conftest import sample
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

POSTERS = frozenset({"sam", "bill", "vera", "val"})  # post_payments on Sunrise
# Pages of the current practice: mia's is Maple, where she posts payments.
POSTERS_ANYWHERE = POSTERS | {"mia"}
# The rejected sample's trace: on Sunrise's list only.
MARKER = "000001120"


def upload(name: str) -> SimpleUploadedFile:
    text = sample("imsweb-277ca-accepted.txt")
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


def _home(c: Case) -> Any:
    return c.world.maple if c.persona == "mia" else c.world.sunrise


class TestAcknowledgementMatrix(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        world.ack = acknowledgement_import(
            actor=world.bill,
            practice=world.sunrise,
            content=sample("imsweb-277ca-rejected.txt").encode(),
            filename="matrix.txt",
        )

    endpoints = [
        Endpoint(
            "acknowledgement page",
            "get",
            lambda w: "/acknowledgements/",
            POSTERS,
            marker=lambda w: MARKER,
            route="acknowledgement-list",
        ),
        Endpoint(
            "acknowledgement upload",
            "post",
            lambda w: "/acknowledgements/",
            POSTERS_ANYWHERE,
            ok_status=302,
            multipart=True,
            data=lambda w: {"file": upload("upload.txt")},
            route="acknowledgement-list",
            done=lambda c: Acknowledgement.objects.filter(
                created_by=c.user, practice=_home(c), filename="upload.txt"
            ).exists(),
        ),
        Endpoint(
            "acknowledgement detail",
            "get",
            lambda w: f"/acknowledgements/{w.ack.pk}/",
            POSTERS,
            route="acknowledgement-detail",
        ),
        Endpoint(
            "api acknowledgements",
            "get",
            lambda w: "/api/v1/acknowledgements/",
            POSTERS,
            api=True,
            marker=lambda w: w.ack.pk,
            route="api:api-acknowledgement-list",
        ),
        # A practice the caller does not post payments at reads as an unknown id: 400.
        Endpoint(
            "api acknowledgement upload",
            "post",
            lambda w: "/api/v1/acknowledgements/",
            POSTERS,
            api=True,
            ok_status=202,
            denied_status=400,
            multipart=True,
            data=lambda w: {"practice": w.sunrise.pk, "file": upload("api.txt")},
            route="api:api-acknowledgement-list",
            done=lambda c: Acknowledgement.objects.filter(
                created_by=c.user, practice=c.world.sunrise, filename="api.txt"
            ).exists(),
        ),
        Endpoint(
            "api acknowledgement",
            "get",
            lambda w: f"/api/v1/acknowledgements/{w.ack.pk}/",
            POSTERS,
            api=True,
            route="api:api-acknowledgement-detail",
        ),
    ]


@pytest.mark.django_db
def test_the_nav_links_remittances_and_acknowledgements_for_payment_posters_only(world, client_for):
    page = client_for(world.bill).get("/patients/").content.decode()
    assert 'href="/remittances/"' in page and 'href="/acknowledgements/"' in page
    page = client_for(world.fran).get("/patients/").content.decode()
    assert 'href="/remittances/"' not in page and 'href="/acknowledgements/"' not in page
