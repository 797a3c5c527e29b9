"""The claim list's page query kept per page shape (``claims.api.list_reads``, issue 10):
a ``?queue=`` list answers what the ORM path answers (the filterset's, as before the fast
paths): the same bytes, cursors both ways, PHI log and query count, for every kept queue,
page size and kind of user; the statements are compiled (not the ORM fallback); the key
follows the user, their grants and the day; unassigned and odd cursors take the ORM; a row
changed after the statement was kept is read as it is."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing_ops.access import grants_cache
from claims.api import claims as claims_api
from claims.api import list_reads
from claims.choices import ClaimStatus
from claims.models import Claim
from claims.queues import API_QUEUES
from practices import services as practice_services
from practices.models import Assignment, Patient, PhiAccessLog

CLAIMS = "/api/v1/claims/"
KEPT = sorted(list_reads.KEPT_QUEUES)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    list_reads.clear_cache()
    yield
    list_reads.clear_cache()


@pytest.fixture
def claims(world: Any, make_claim: Any) -> list[Claim]:
    """Claims in every kept queue with ties on priority, owners and none, due dates past,
    today and ahead (my day), of several statuses."""
    today = timezone.localdate()
    made = []
    for i in range(14):
        status = [ClaimStatus.SUBMITTED, ClaimStatus.REJECTED, ClaimStatus.DENIED, None][i % 4]
        made.append(make_claim(status=status, owner=[world.bill, world.vera][i % 2]))
    for i, claim in enumerate(made):
        Claim.objects.filter(pk=claim.pk).update(
            owner=None if i % 5 == 4 else claim.owner,
            priority=[5, 5, 7, 0][i % 4],
            total_billed=[Decimal("120.00"), Decimal("1234.50"), Decimal("0.00")][i % 3],
            next_action_due=today + dt.timedelta(days=(i % 3) - 1),
        )
    # Names the values path writes itself: odd characters, an owner with no name.
    Patient.objects.filter(pk=made[1].patient_id).update(
        last_name="O'Brien <b> \u00e9", first_name='A&B "q"'
    )
    get_user_model().objects.filter(pk=world.vera.pk).update(first_name="", last_name="")
    get_user_model().objects.filter(pk=world.bill.pk).update(first_name=" Bill ", last_name="")
    return made


def _get(client: Any, slug: str, size: int, token: str | None, plain: bool) -> Any:
    """The list's answer; ``plain``: by the filterset and the ORM (``queue_only`` answering
    None, as for a request with any other parameter)."""
    query: dict[str, Any] = {"queue": slug, "page_size": size}
    if token is not None:
        query["cursor"] = token
    with pytest.MonkeyPatch.context() as patch:
        if plain:
            patch.setattr(claims_api, "queue_only", lambda params: None)
        response = client.get(CLAIMS, query)
    assert response.status_code == 200, response.content
    return response


def _walk(client: Any, slug: str, size: int, plain: bool) -> list[bytes]:
    """Every page forward by the next links, then back by the previous links."""
    pages: list[bytes] = []
    token = None
    for direction in ("next", "previous"):
        for _ in range(40):
            response = _get(client, slug, size, token, plain)
            pages.append(response.content)
            link = response.json()[direction]
            if link is None:
                break
            (token,) = parse_qs(urlsplit(link).query)["cursor"]
        else:
            raise AssertionError("more pages than rows")
    return pages


@pytest.mark.parametrize("who", ["bill", "vera", "val"])
@pytest.mark.parametrize("size", [1, 3, 50])
def test_kept_pages_are_the_orm_pages(world, claims, client_for, who, size):
    client = client_for(world.users[who])
    listed = 0
    for slug in KEPT:
        kept = len(list_reads._reads)
        plain = _walk(client, slug, size, plain=True)
        assert len(list_reads._reads) == kept  # the ORM's pages keep nothing
        fast = _walk(client, slug, size, plain=False)
        assert fast == plain, slug
        listed += sum(len(json.loads(page)["results"]) for page in plain)
    assert listed > 20
    # Each shape compiled once as a statement run with the cursor's values (not the ORM's
    # fallback): the top, after a cursor going down, and going up (a previous link).
    statements = [s for read in list_reads._reads.values() for s in read._statements.values()]
    assert statements and all(statement.ok for statement in statements)
    branches = {key[-2:] for key in list_reads._reads}
    assert branches == (
        {(True, False)} if size == 50 else {(True, False), (True, True), (False, True)}
    )


def test_kept_pages_log_and_query_as_the_orm_pages(world, claims, client_for):
    client = client_for(world.bill)
    _get(client, "all-open", 3, None, plain=True)  # the session and content types, read
    for slug in KEPT:
        counts, logged = [], []
        for plain in (True, False, False):
            before = PhiAccessLog.objects.order_by("-pk").values_list("pk", flat=True).first()
            with CaptureQueriesContext(connection) as ctx:
                _get(client, slug, 3, None, plain)
            counts.append(len(ctx))
            entries = PhiAccessLog.objects.filter(pk__gt=before or 0).order_by("pk")
            logged.append(
                list(entries.values_list("user", "practice", "patient_ids", "what", "action"))
            )
        assert counts[0] == counts[1] == counts[2], slug
        assert logged[0] == logged[1] == logged[2], slug
        assert logged[0] and logged[0][0][3] == "claims API list"


def test_a_kept_statement_reads_rows_as_they_are_now(world, claims, client_for):
    client = client_for(world.bill)
    first = _get(client, "all-open", 50, None, plain=False).json()["results"]
    top = first[0]["id"]
    Claim.objects.filter(pk=top).update(priority=-5, follow_up_count=9)
    Claim.objects.filter(pk=first[1]["id"]).update(status=ClaimStatus.VOID)

    again = _get(client, "all-open", 50, None, plain=False).json()["results"]

    assert len(list_reads._reads) == 1  # the same statement, run again
    assert again[-1]["id"] == top and again[-1]["follow_up_count"] == 9
    assert first[1]["id"] not in {row["id"] for row in again}
    assert again == _get(client, "all-open", 50, None, plain=True).json()["results"]


def test_the_key_follows_user_grants_and_day(world, claims):
    today = timezone.localdate()
    vera = list_reads.shape("payer-ar", world.vera, today)
    assert vera is not None
    assert vera != list_reads.shape("payer-ar", world.bill, today)
    assert vera != list_reads.shape("payer-ar", world.val, today)
    assert vera != list_reads.shape("payer-ar", world.vera, today + dt.timedelta(days=1))
    assert vera != list_reads.shape("rejections", world.vera, today)
    assert list_reads.shape("payer-ar", world.val, today)[-1] == tuple(
        sorted([world.sunrise.pk, world.maple.pk])
    )
    # The ORM's: unassigned (it reads the holders), users who work no practice.
    assert list_reads.shape("unassigned", world.bill, today) is None
    assert list_reads.shape("payer-ar", world.fran, today) is None
    assert list_reads.shape("payer-ar", None, today) is None
    # Vera's assignment revoked: she works claims nowhere, so no kept read.
    assignment = Assignment.objects.get(staff__user=world.vera)
    practice_services.assignment_revoke(actor=None, assignment=assignment)
    with grants_cache():
        assert list_reads.shape("payer-ar", world.vera, today) is None


@pytest.mark.parametrize(
    "values",
    [["5", "1"], ["x", "1"], ["9" * 30, "1"], ["5"], ["5", "1", "2"], [5, 1], ["", "1"]],
)
def test_odd_cursors_answer_what_the_orm_answers(world, claims, client_for, values):
    client = client_for(world.bill)
    raw = json.dumps({"r": False, "p": values}, separators=(",", ":")).encode()
    token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    for slug in KEPT:
        query = {"queue": slug, "cursor": token, "page_size": 3}
        fast = client.get(CLAIMS, query)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(claims_api, "queue_only", lambda params: None)
            plain = client.get(CLAIMS, query)
        assert (fast.status_code, fast.content) == (plain.status_code, plain.content)


def test_unassigned_is_read_by_the_orm(world, claims, client_for):
    client = client_for(world.bill)
    fast = _walk(client, "unassigned", 2, plain=False)
    assert not list_reads._reads
    assert fast == _walk(client, "unassigned", 2, plain=True)
    assert json.loads(fast[0])["results"]


@pytest.mark.parametrize("who", ["sam", "fran", "vic", "mia"])
def test_every_queue_of_other_users_answers_what_the_orm_answers(world, claims, client_for, who):
    """Users who work claims elsewhere, not at all, or as a manager: every queue the API
    names (unassigned by the ORM, as values) answers the ORM path's bytes."""
    client = client_for(world.users[who])
    for slug in API_QUEUES:
        assert _walk(client, slug, 3, plain=False) == _walk(client, slug, 3, plain=True), slug


def test_kept_reads_hold_no_request(world, claims, client_for):
    """A kept read compiles from the build of the request being served, then forgets it: a
    read holding its first request's build kept that request, its view and its response
    (~450 KiB a key at 150 rows)."""
    client = client_for(world.bill)
    for slug in KEPT:
        _walk(client, slug, 3, plain=False)
    assert len(list_reads._reads) >= len(KEPT)
    assert all(read.build is None for read in list_reads._reads.values())
