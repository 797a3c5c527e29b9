"""The notifications page, mark-read endpoints and the API list: only my own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from practices import services as practice_services
from practices.models import Assignment
from work.choices import NotificationKind
from work.models import Notification


@pytest.fixture
def notes(world: Any, make_claim: Any, today: dt.date) -> dict[str, Notification]:
    """bill: an unread overdue (claim) and a read digest; sam and vera: one each."""
    claim = make_claim()
    at = timezone.now()

    def note(user: Any, key: str, **fields: Any) -> Notification:
        fields.setdefault("practice", world.sunrise)
        fields.setdefault("kind", NotificationKind.OVERDUE)
        fields.setdefault("for_date", today)
        return Notification.objects.create(user=user, dedupe_key=key, **fields)

    return {
        "bill_read": note(
            world.bill, "k1", kind=NotificationKind.DIGEST, message="BILL-READ", read_at=at
        ),
        "bill_unread": note(
            world.bill, "k2", item_type="claim", item_id=claim.pk, message="BILL-UNREAD"
        ),
        "sam": note(world.sam, "k3", item_type="claim", item_id=claim.pk, message="SAM-ONLY"),
        "vera": note(world.vera, "k4", item_type="claim", item_id=claim.pk, message="VERA-ONLY"),
    }


def test_page_lists_only_my_notifications_unread_first(
    world: Any, client_for: Any, notes: dict[str, Notification]
) -> None:
    response = client_for(world.bill).get("/notifications/")

    assert response.status_code == 200
    html = response.text
    assert "SAM-ONLY" not in html and "VERA-ONLY" not in html
    assert html.index("BILL-UNREAD") < html.index("BILL-READ")
    claim_id = notes["bill_unread"].item_id
    assert f'<a href="/claims/{claim_id}/">BILL-UNREAD</a>' in html
    assert f'action="/notifications/{notes["bill_unread"].pk}/read/"' in html
    assert f'action="/notifications/{notes["bill_read"].pk}/read/"' not in html  # already read
    assert 'href="/notifications/">Notifications</a>' in html  # the nav link
    assert [n.pk for n in response.context["notifications"]] == [
        notes["bill_unread"].pk,
        notes["bill_read"].pk,
    ]
    assert response.context["unread_count"] == 1


def test_anonymous_is_sent_to_sign_in(client_for: Any, notes: dict[str, Notification]) -> None:
    anonymous = client_for(None)
    for method, url in [
        ("get", "/notifications/"),
        ("post", f"/notifications/{notes['sam'].pk}/read/"),
        ("post", "/notifications/read-all/"),
    ]:
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/account/login/"), url
    assert Notification.objects.get(pk=notes["sam"].pk).read_at is None


def test_notifications_of_a_practice_i_can_no_longer_see_are_hidden(
    world: Any, client_for: Any, notes: dict[str, Notification]
) -> None:
    assert "VERA-ONLY" in client_for(world.vera).get("/notifications/").text
    practice_services.assignment_revoke(
        actor=world.sam,
        assignment=Assignment.objects.get(
            staff__user=world.vera, engagement__practice=world.sunrise
        ),
    )
    client = client_for(world.vera)
    assert "VERA-ONLY" not in client.get("/notifications/").text
    assert client.post(f"/notifications/{notes['vera'].pk}/read/").status_code == 404


def test_mark_one_read(world: Any, client_for: Any, notes: dict[str, Notification]) -> None:
    client = client_for(world.bill)
    pk = notes["bill_unread"].pk

    response = client.post(f"/notifications/{pk}/read/")

    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    first = Notification.objects.get(pk=pk).read_at
    assert first is not None
    assert client.post(f"/notifications/{pk}/read/").status_code == 302  # again: no change
    assert Notification.objects.get(pk=pk).read_at == first
    assert client.get(f"/notifications/{pk}/read/").status_code == 405


def test_marking_someone_elses_notification_is_a_404(
    world: Any, client_for: Any, notes: dict[str, Notification]
) -> None:
    client = client_for(world.bill)
    assert client.post(f"/notifications/{notes['sam'].pk}/read/").status_code == 404
    assert client.post("/notifications/999999/read/").status_code == 404
    assert Notification.objects.get(pk=notes["sam"].pk).read_at is None


def test_mark_all_read_touches_only_mine(
    world: Any, client_for: Any, notes: dict[str, Notification]
) -> None:
    response = client_for(world.bill).post("/notifications/read-all/")

    assert response.status_code == 302
    unread = set(Notification.objects.filter(read_at__isnull=True).values_list("pk", flat=True))
    assert unread == {notes["sam"].pk, notes["vera"].pk}


def test_api_lists_only_my_notifications(
    world: Any, client_for: Any, notes: dict[str, Notification]
) -> None:
    response = client_for(world.bill).get("/api/v1/notifications/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [
        notes["bill_unread"].pk,
        notes["bill_read"].pk,
    ]
    first = body["results"][0]
    assert first["message"] == "BILL-UNREAD"
    assert first["kind"] == "overdue"
    assert first["kind_display"] == "Next action overdue"
    assert first["item_url"] == f"/claims/{notes['bill_unread'].item_id}/"
    assert first["practice_name"] == "Sunrise Dental"
    assert first["read_at"] is None
    assert body["results"][1]["item_url"] is None


def test_api_refuses_anonymous(client_for: Any, notes: dict[str, Notification]) -> None:
    response = client_for(None).get("/api/v1/notifications/")
    assert response.status_code in (401, 403)
    assert "SAM-ONLY" not in response.text


def test_api_for_a_user_of_the_other_practice_is_empty(
    world: Any, client_for: Any, notes: dict[str, Notification]
) -> None:
    response = client_for(world.mia).get("/api/v1/notifications/")
    assert response.status_code == 200
    assert response.json()["results"] == []
