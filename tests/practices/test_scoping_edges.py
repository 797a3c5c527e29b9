"""Edges of scoping: filter ids of other practices, inactive practices, dated access,
PHI logging of coverage and appointment reads, and redirects that stay on the site."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from practices import services
from practices.models import Engagement, PhiAccessLog, Practice


def test_filter_by_another_practices_id_reads_as_missing(world, client_for):
    client = client_for(world.bill)
    other = client.get("/api/v1/coverages/", {"patient": world.maple_patient.pk})
    missing = client.get("/api/v1/coverages/", {"patient": 999_999})
    assert other.status_code == missing.status_code == 400
    assert "Mapleton" not in other.content.decode()
    own = client.get("/api/v1/coverages/", {"patient": world.sunrise_patient.pk})
    assert own.status_code == 200 and own.json()["count"] == 1


def test_api_answers_json_only(world, client_for):
    response = client_for(world.bill).get("/api/v1/patients/", HTTP_ACCEPT="text/html")
    assert response.status_code == 406


def test_inactive_practice_is_hidden_at_once(world, client_for):
    client = client_for(world.bill)
    url = f"/patients/{world.sunrise_patient.pk}/"
    assert client.get(url).status_code == 200
    Practice.objects.filter(pk=world.sunrise.pk).update(is_active=False)
    assert client.get(url).status_code == 404


def test_dated_engagement_start_and_end_take_effect_with_the_periodic_job(world):
    today = timezone.localdate()
    Engagement.objects.filter(pk=world.engagements["sunrise"].pk).update(
        starts_on=today + dt.timedelta(days=1)
    )
    assert services.expire_ended_assignments() >= 1
    assert not Practice.objects.visible_to(world.vera, "view_practice").exists()
    Engagement.objects.filter(pk=world.engagements["sunrise"].pk).update(starts_on=today)
    assert services.expire_ended_assignments() >= 1
    assert Practice.objects.visible_to(world.vera, "work_claims").get() == world.sunrise
    assert services.expire_ended_assignments() == 0  # a second run changes nothing


def test_coverage_and_appointment_reads_are_logged(world, client_for):
    client = client_for(world.fran)
    coverage = world.sunrise_patient.coverages.get()
    assert client.get(f"/api/v1/coverages/{coverage.pk}/").status_code == 200
    assert client.get("/api/v1/appointments/").status_code == 200
    rows = list(PhiAccessLog.objects.filter(user=world.fran).values_list("action", "patient"))
    assert sorted(rows) == [
        ("api", world.sunrise_patient.pk),
        ("export", world.sunrise_patient.pk),
    ]


def test_switcher_next_cannot_leave_the_site(world, client_for):
    response = client_for(world.val).post(
        "/practice/switch/", {"practice": world.sunrise.pk, "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_work_next_with_a_non_object_json_body_is_not_a_crash(world, client_for):
    response = client_for(world.bill).post(
        "/api/v1/claims/work-next/", '"practice"', content_type="application/json"
    )
    assert response.status_code == 204
