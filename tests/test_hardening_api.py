"""Issue 8, access and audit hardening: no caching of PHI answers (2), API pages that end on
equal keys (6), crafted parameters answer 400 or are ignored, never 500 (7), and the API
schema and docs for signed-in users only (9)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from django.core.management import call_command
from django.test import Client

from claims.api.pagination import ActivityPagination, ClaimCursorPagination
from claims.models import Claim
from claims.services import claim_add_note
from tests.claims import conftest as claim_fixtures

make_claim = claim_fixtures.make_claim

CLAIMS = "/api/v1/claims/"
SCHEMA = "/api/v1/schema/"
DOCS = "/api/v1/docs/"


def b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def api_token(username: str) -> str:
    out = io.StringIO()
    call_command("create_api_token", username, stdout=out)
    return out.getvalue().strip()


def assert_no_store(response: Any) -> None:
    cache_control = {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control, response.headers["Cache-Control"]
    assert response.headers["Pragma"] == "no-cache"


# --- 2: PHI answers are never cached ---------------------------------------------------


def test_signed_in_pages_are_no_store(world, client_for):
    client = client_for(world.bill)
    for path in ("/patients/", f"/patients/{world.sunrise_patient.pk}/", "/queues/my-day/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_store(response)


def test_api_answers_are_no_store_with_session_and_token(world, client_for, make_claim):
    claim = make_claim()
    session = client_for(world.bill)
    for path in (CLAIMS, f"{CLAIMS}{claim.pk}/", "/api/v1/patients/"):
        response = session.get(path)
        assert response.status_code == 200, path
        assert_no_store(response)
    # Errors a signed-in user gets can name PHI too (field errors echo input).
    assert_no_store(session.get(f"{CLAIMS}{claim.pk + 1000}/"))

    token = Client(HTTP_AUTHORIZATION=f"Token {api_token('bill')}")
    response = token.get(f"{CLAIMS}{claim.pk}/")
    assert response.status_code == 200
    assert_no_store(response)


def test_anonymous_login_page_still_works(world):
    response = Client().get("/account/login/")

    assert response.status_code == 200
    assert b"password" in response.content.lower()


def test_static_files_keep_their_caching(world, client_for, settings):
    settings.WHITENOISE_USE_FINDERS = True  # serve from static/ without collectstatic
    client = client_for(world.bill)  # a new client: WhiteNoise reads the setting on start

    response = client.get("/static/css/app.css")
    response.close()  # a file response: close the file

    assert response.status_code == 200
    assert "max-age" in response.headers["Cache-Control"]
    assert "no-store" not in response.headers["Cache-Control"]


# --- 6: the claims API pages to the end on equal priorities ---------------------------


def follow(client: Client, url: str | None, link: str, limit: int) -> list[dict[str, Any]]:
    """Every page from ``url`` on, following ``link`` ("next" or "previous")."""
    bodies: list[dict[str, Any]] = []
    while url:
        assert len(bodies) < limit, f"{link} never ends: {[ids(b) for b in bodies[-3:]]}"
        response = client.get(url)
        assert response.status_code == 200, response.content
        bodies.append(response.json())
        url = bodies[-1][link]
    return bodies


def ids(body: dict[str, Any]) -> list[int]:
    return [row["id"] for row in body["results"]]


def test_claim_pages_end_on_equal_priority(world, client_for, make_claim, monkeypatch):
    # DRF's cursor stepped over ties by an offset it cut off at 1,000 (offset_cutoff):
    # a small page and cutoff reproduce "more than 1,000 claims of equal priority".
    monkeypatch.setattr(ClaimCursorPagination, "page_size", 5)
    monkeypatch.setattr(ClaimCursorPagination, "offset_cutoff", 20, raising=False)
    for _ in range(60):
        make_claim()
    assert Claim.objects.values("priority").distinct().count() == 1  # all tied
    client = client_for(world.bill)

    pages = follow(client, CLAIMS, "next", limit=14)

    seen = [pk for body in pages for pk in ids(body)]
    assert len(seen) == len(set(seen)) == 60
    assert set(seen) == set(Claim.objects.values_list("pk", flat=True))
    assert seen == sorted(seen, reverse=True)  # ties in id order, newest first
    assert [len(ids(body)) for body in pages] == [5] * 12

    # And back: "previous" from the last page walks to the first, each page as it was.
    back = follow(client, pages[-1]["previous"], "previous", limit=14)
    assert [ids(body) for body in back] == [ids(body) for body in pages[-2::-1]]
    assert back[-1]["previous"] is None
    assert pages[0]["previous"] is None


def test_timeline_pages_end(world, client_for, make_claim, monkeypatch):
    monkeypatch.setattr(ActivityPagination, "page_size", 3)
    claim = make_claim()
    for i in range(8):
        claim_add_note(actor=world.bill, claim=claim, text=f"note {i}")
    total = claim.activities.count()

    pages = follow(client_for(world.bill), f"{CLAIMS}{claim.pk}/activity/", "next", limit=10)

    seen = [pk for body in pages for pk in ids(body)]
    assert len(seen) == len(set(seen)) == total > 3


# --- 7: crafted input answers 400 (API) or is ignored (pages), never 500 -------------


CRAFTED_LIST_PARAMETERS = [
    {"cursor": "not-a-cursor"},
    {"cursor": "cD1hYmM="},  # DRF's own format, "p=abc": a non-numeric position
    {"cursor": b64({"r": False, "p": ["abc", "1"]})},
    {"cursor": b64({"r": False, "p": ["1" * 30, "1"]})},  # past any integer column
    {"cursor": b64({"r": False, "p": ["5", "9" * 5000]})},
    {"cursor": b64({"r": "yes", "p": ["5", "1"]})},
    {"cursor": b64({"r": False, "p": ["5"]})},
    {"cursor": b64({"r": False, "p": [5, None]})},
    {"cursor": b64({"r": False, "p": ["5", "1\x00"]})},
    {"cursor": b64(["5", "1"])},
    {"cursor": "é"},
    {"page_size": "abc"},
    {"page_size": "0"},
    {"amount_min": "1e999999"},
    {"amount_max": "NaN"},
    {"amount_min": "Infinity"},
    {"due_from": "99999-01-01"},
    {"practice": "9" * 30},
    {"payer": "abc"},
    {"status": "\x00"},
    {"queue": "nope"},
]


def test_crafted_claim_list_parameters_answer_400(world, client_for, make_claim):
    make_claim()
    client = client_for(world.bill)

    for params in CRAFTED_LIST_PARAMETERS:
        response = client.get(CLAIMS, params)

        assert response.status_code == 400, (params, response.content)
        assert set(response.json()) <= set(params), (params, response.json())


def test_crafted_timeline_cursor_answers_400(world, client_for, make_claim):
    claim = make_claim()
    client = client_for(world.bill)

    for cursor in [
        "x",
        b64({"r": False, "p": ["yesterday", "1"]}),
        b64({"r": False, "p": ["2026-01-01T00:00:00", "1"]}),  # naive: which instant?
        b64({"r": False, "p": ["2026-01-01T00:00:00+00:00", "-" + "9" * 30]}),
    ]:
        response = client.get(f"{CLAIMS}{claim.pk}/activity/", {"cursor": cursor})

        assert response.status_code == 400, cursor


def test_large_page_size_is_capped(world, client_for, make_claim):
    make_claim()

    response = client_for(world.bill).get(CLAIMS, {"page_size": "9" * 40})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


CRAFTED_PAGE_PARAMETERS = [
    ("/queues/all-open/", {"after": b64(["5", "9" * 30])}),
    ("/queues/all-open/", {"after": b64(["-" + "9" * 30, "1"])}),
    ("/queues/all-open/", {"sort": "amount", "after": b64(["1e999999", "1"])}),
    ("/queues/all-open/", {"sort": "amount", "after": b64(["-1e999999", "1"])}),
    ("/queues/all-open/", {"sort": "amount", "after": b64(["NaN", "1"])}),
    ("/queues/all-open/", {"sort": "due", "after": b64(["2026-02-30", "1"])}),
    ("/queues/all-open/", {"sort": "due", "after": b64([5, None])}),
    ("/queues/all-open/", {"after": b64(["5", "1\x00"])}),
    ("/queues/all-open/", {"amount_min": "1e999999"}),
    ("/queues/all-open/", {"amount_max": "-1e999999", "sort": "amount"}),
    ("/queues/my-day/", {"after": b64([None, "claim", "1"])}),
    ("/queues/my-day/", {"after": b64(["5", 7, "1"])}),
    ("/queues/my-day/", {"after": b64(["-" + "9" * 30, "claim", "1"])}),
    ("/queues/my-day/", {"after": b64(["5", "claim", "9" * 30])}),
]


def test_crafted_queue_page_parameters_are_ignored(world, client_for, make_claim):
    claim = make_claim()
    client = client_for(world.bill)

    for path, params in CRAFTED_PAGE_PARAMETERS:
        response = client.get(path, params)

        assert response.status_code == 200, (path, params)
        # The bad cursor or filter is dropped: the page starts at the top, the claim on it.
        assert claim in [item for item, _why in response.context["rows"]], (path, params)


# --- 9: the API schema and docs are for signed-in users -------------------------------


def test_schema_and_docs_refuse_anonymous_callers(world):
    anonymous = Client()

    assert anonymous.get(SCHEMA).status_code in (401, 403)
    docs = anonymous.get(DOCS)
    assert docs.status_code in (401, 403) or docs.headers["Location"].startswith("/account/login/")
    assert anonymous.get(DOCS, {"script": ""}).status_code in (401, 403)
    assert anonymous.get(SCHEMA, HTTP_AUTHORIZATION="Token not-a-key").status_code == 401


def test_schema_and_docs_for_signed_in_users(world, client_for):
    session = client_for(world.vera)  # vendor staff: any signed-in user may read them

    assert session.get(SCHEMA).status_code == 200
    assert session.get(DOCS).status_code == 200

    token = Client(HTTP_AUTHORIZATION=f"Token {api_token('bill')}")
    schema = token.get(SCHEMA)
    assert schema.status_code == 200
    assert b"/api/v1/claims/" in schema.content
