"""Every 271 import page and endpoint in the permission matrix: verify_eligibility (the
insurance verification area) at the practice; nothing of another practice's imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from eligibility.models import EligibilityCheck
from eligibility.response_models import Eligibility270Export, EligibilityResponseImport
from eligibility.responses import response_import
from eligibility.services import checks_for_upcoming
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

SAMPLE = Path(__file__).resolve().parent / "samples" / "linuxforhealth-demo.271"
VERIFIERS = frozenset({"sam", "fran", "bill", "vic", "val"})  # verify_eligibility on Sunrise
# Pages of the current practice: mia's is Maple, where she verifies eligibility.
VERIFIERS_ANYWHERE = VERIFIERS | {"mia"}
MARKER = "matrix-sunrise.271"


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, SAMPLE.read_bytes(), content_type="text/plain")


def _home(c: Case) -> Any:
    return c.world.maple if c.persona == "mia" else c.world.sunrise


class TestEligibilityResponseMatrix(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        world.response = response_import(
            actor=world.fran,
            practice=world.sunrise,
            content=SAMPLE.read_bytes(),
            filename=MARKER,
        )
        checks_for_upcoming()  # the world's appointment in three days gets its open check
        check = EligibilityCheck.objects.get(appointment__patient=world.sunrise_patient)
        world.check_day = timezone.localtime(check.appointment.starts_at).date()

    endpoints = [
        Endpoint(
            "271 import page",
            "get",
            lambda w: "/eligibility-responses/",
            VERIFIERS,
            marker=lambda w: MARKER,
            route="eligibility-response-list",
        ),
        Endpoint(
            "271 upload",
            "post",
            lambda w: "/eligibility-responses/",
            VERIFIERS_ANYWHERE,
            ok_status=302,
            multipart=True,
            data=lambda w: {"file": upload("upload.271")},
            route="eligibility-response-list",
            done=lambda c: EligibilityResponseImport.objects.filter(
                created_by=c.user, practice=_home(c), filename="upload.271"
            ).exists(),
        ),
        # Mia's current practice is Maple, where no check is open: back to the page.
        Endpoint(
            "270 download",
            "post",
            lambda w: "/eligibility-responses/270/",
            VERIFIERS,
            data=lambda w: {"date": f"{w.check_day:%Y-%m-%d}"},
            route="eligibility-270-export",
            denied_status={"mia": 302},
            done=lambda c: Eligibility270Export.objects.filter(
                created_by=c.user, practice=c.world.sunrise
            ).exists(),
        ),
        Endpoint(
            "271 import detail",
            "get",
            lambda w: f"/eligibility-responses/{w.response.pk}/",
            VERIFIERS,
            route="eligibility-response-detail",
        ),
        Endpoint(
            "api 271 imports",
            "get",
            lambda w: "/api/v1/eligibility-responses/",
            VERIFIERS,
            api=True,
            marker=lambda w: w.response.pk,
            route="api:api-eligibility-response-list",
        ),
        # A practice the caller does not verify eligibility at reads as an unknown id: 400.
        Endpoint(
            "api 271 upload",
            "post",
            lambda w: "/api/v1/eligibility-responses/",
            VERIFIERS,
            api=True,
            ok_status=201,
            denied_status=400,
            multipart=True,
            data=lambda w: {"practice": w.sunrise.pk, "file": upload("api.271")},
            route="api:api-eligibility-response-list",
            done=lambda c: EligibilityResponseImport.objects.filter(
                created_by=c.user, practice=c.world.sunrise, filename="api.271"
            ).exists(),
        ),
        Endpoint(
            "api 271 import",
            "get",
            lambda w: f"/api/v1/eligibility-responses/{w.response.pk}/",
            VERIFIERS,
            api=True,
            route="api:api-eligibility-response-detail",
        ),
    ]


@pytest.mark.django_db
def test_the_nav_links_271_responses_for_people_who_verify_eligibility(world, client_for):
    page = client_for(world.vic).get("/patients/").content.decode()
    assert 'href="/eligibility-responses/"' in page
    page = client_for(world.vera).get("/patients/").content.decode()
    assert 'href="/eligibility-responses/"' not in page


@pytest.mark.django_db
def test_the_pages_show_unmatched_members_and_a_refused_file(world, client_for):
    client = client_for(world.fran)
    response = client.post("/eligibility-responses/", {"file": upload("demo.271")})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "SMITH, JOHN" in page and "matches no open eligibility check" in page
    broken = SAMPLE.read_bytes().replace(b"SE*22*4321", b"SE*21*4321")
    response = client.post(
        "/eligibility-responses/", {"file": SimpleUploadedFile("bad.271", broken)}
    )
    page = client.get(response["Location"]).content.decode()
    assert "The file was refused" in page and "SE01 says 21 segments" in page
    response = client.post(
        "/eligibility-responses/", {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n")}
    )
    assert response.status_code == 400 and "not an X12 271 file" in response.content.decode()
    assert EligibilityResponseImport.objects.count() == 2


@pytest.mark.django_db
def test_api_upload_refused_file_answers_400_with_the_segment(world, client_for):
    broken = SAMPLE.read_bytes().replace(b"SE*22*4321", b"SE*21*4321")
    response = client_for(world.vic).post(
        "/api/v1/eligibility-responses/",
        {"practice": world.sunrise.pk, "file": SimpleUploadedFile("bad.271", broken)},
    )
    assert response.status_code == 400
    (entry,) = response.json()["entries"]
    assert entry["segment_id"] == "SE" and response.json()["status"] == "refused"


@pytest.mark.django_db
def test_the_270_download_is_the_days_batch_or_says_there_is_nothing(world, client_for):
    checks_for_upcoming()
    check = EligibilityCheck.objects.get(appointment__patient=world.sunrise_patient)
    day = timezone.localtime(check.appointment.starts_at).date()
    client = client_for(world.vic)
    response = client.post("/eligibility-responses/270/", {"date": f"{day:%Y-%m-%d}"})
    assert response.status_code == 200
    (batch,) = Eligibility270Export.objects.all()
    assert f'filename="270-{day:%Y%m%d}-{batch.pk:09d}.x12"' in response["Content-Disposition"]
    assert response.content.decode() == batch.content and f"TRN*1*{check.number}*" in batch.content
    response = client.post("/eligibility-responses/270/", {"date": "2020-01-01"}, follow=True)
    assert "No open eligibility checks for appointments on 01/01/2020" in response.content.decode()
    assert client.get("/eligibility-responses/270/").status_code == 405
    assert Eligibility270Export.objects.count() == 1
