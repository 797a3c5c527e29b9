"""Queue speed (issue 10): the API's ``?queue=`` narrows the scoped claims in place and
answers exactly what the old ``pk IN (queue subquery)`` answered; queue totals and My day
counts are capped ("1,000+") and cost the same queries however many claims there are."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims import queues
from claims.choices import ClaimStatus
from claims.models import Claim
from tests import claim_factory, factories
from work import selectors
from work.registry import registry

CLAIMS = "/api/v1/claims/"


def local_today() -> dt.date:
    return timezone.localdate()


def _api_ids(client: Any, **params: Any) -> list[int]:
    """Every claim the API lists for ``params``, following the cursor pages."""
    seen: list[int] = []
    response = client.get(CLAIMS, {"page_size": 200, **params})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            return seen
        response = client.get(body["next"])


def _old_path(slug: str, user: Any) -> list[int]:
    """What ``?queue=`` answered before: every claim the user may work, ``pk IN`` the
    queue's rows (or My day's), in the list's order."""
    today = local_today()
    if slug == "my-day":
        rows = selectors.my_day_of_type(queues.CLAIM, user, today)
    else:
        rows = selectors.queue_queryset(registry.queue(slug), user, today)
    claims = Claim.objects.visible_to(user, queues.CLAIM.permission)
    return list(
        claims.filter(pk__in=rows.values("pk"))
        .order_by("-priority", "-id")
        .values_list("pk", flat=True)
    )


@pytest.fixture
def mixed(world, make_claim):
    """Claims in every queue: owners with and without access, due and not, statuses from
    draft to closed, and a Maple claim (another practice)."""
    today = local_today()
    made = [
        make_claim(),
        make_claim(next_action_due=today + dt.timedelta(days=4)),
        make_claim(next_action_due=today - dt.timedelta(days=9), status=ClaimStatus.SUBMITTED),
        make_claim(status=ClaimStatus.DENIED),
        make_claim(status=ClaimStatus.REJECTED),
        make_claim(status=ClaimStatus.VOID),
        make_claim(owner=world.vera),
        make_claim(owner=world.val, status=ClaimStatus.SUBMITTED),
        make_claim(owner=world.vera),
    ]
    # An owner who can no longer work claims (as after an assignment's end date, before the
    # job hands the work over): the claim is in "unassigned".
    Claim.objects.filter(pk=made[-1].pk).update(owner=world.fran)
    payer = factories.PayerFactory(practice=world.maple, timely_filing_days=365)
    patient = factories.PatientFactory(practice=world.maple)
    made.append(
        claim_factory.make(
            actor=world.mia,
            patient=patient,
            coverage=factories.CoverageFactory(patient=patient, payer=payer),
            provider=factories.ProviderFactory(practice=world.maple),
            number="M-1",
            owner=world.val,
        )
    )
    return made


@pytest.mark.parametrize("who", ["bill", "val", "vera", "mia", "sam"])
def test_api_queue_filter_answers_what_the_subquery_did(world, client_for, mixed, who):
    user = getattr(world, who)
    client = client_for(user)
    answered = {}
    for slug in queues.API_QUEUES:
        answered[slug] = _api_ids(client, queue=slug)
        assert answered[slug] == _old_path(slug, user), (who, slug)
    if who == "val":  # both practices: the Maple claim is in her queues
        assert mixed[-1].pk in answered["all-open"] and mixed[-1].pk in answered["my-day"]
    if who == "bill":
        assert mixed[5].status == ClaimStatus.VOID and mixed[5].pk not in answered["all-open"]
        assert len(answered["all-open"]) >= 7
        assert answered["unassigned"] and answered["rejections"] and answered["payer-ar"]


def test_api_queue_filter_query_count_is_constant(world, client_for, make_claim):
    client = client_for(world.bill)
    make_claim(status=ClaimStatus.SUBMITTED)
    client.get(CLAIMS, {"queue": "payer-ar"})  # warm sessions and content types
    few = {}
    for slug in queues.API_QUEUES:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(CLAIMS, {"queue": slug}).status_code == 200
        few[slug] = len(ctx)
    for _ in range(6):
        make_claim(status=ClaimStatus.SUBMITTED)
        make_claim(owner=world.vera)
    for slug in queues.API_QUEUES:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(CLAIMS, {"queue": slug}).status_code == 200
        assert len(ctx) == few[slug], slug
        # No subquery over every claim of the practice: the queue narrows the list itself.
        listed = [q["sql"] for q in ctx.captured_queries if 'FROM "claims_claim"' in q["sql"]]
        assert listed and all('"claims_claim"."id" IN (SELECT' not in sql for sql in listed)


# --- capped totals --------------------------------------------------------------------


def _total(html: str) -> str:
    return re.search(r'id="total-count">([^<]+)<', html).group(1)


def _my_day(html: str) -> str:
    return re.search(r'id="my-day-counts">(.*?)</span></span>', html, re.S).group(1)


def test_capped_counts_say_more_than_the_cap(world, make_claim):
    for _ in range(5):
        make_claim()
    claims = Claim.objects.filter(practice=world.sunrise)
    assert selectors.capped_count(claims, cap=10) == 5
    assert selectors.capped_count(claims, cap=3) == 4  # 4 = "more than 3"
    assert selectors.capped_count(claims.none(), cap=3) == 0
    assert selectors.capped_counts({"a": claims, "b": claims.filter(owner=world.sam)}, cap=3) == {
        "a": 4,
        "b": 0,
    }
    assert selectors.count_label(4, cap=3) == "3+"
    assert selectors.count_label(1001) == "1,000+"
    assert selectors.count_label(1001, at_least=1050) == "1,050+"
    assert selectors.count_label(1001, at_least=1234, last_page=True) == "1,234"
    assert selectors.count_label(999) == "999"


def test_queue_page_and_my_day_show_capped_totals(world, client_for, make_claim, monkeypatch):
    from work import views as work_views

    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    monkeypatch.setattr(work_views, "PAGE_SIZE", 2)
    today = local_today()
    for days in (0, 0, 1, 2, 3):
        make_claim(next_action_due=today - dt.timedelta(days=days))
    client = client_for(world.bill)
    page = client.get("/queues/all-open/")
    assert _total(page.text) == "3+" and "1–2 of 3+" in page.text
    assert "all 3+ matching" in page.text  # the bulk offer says the capped total too
    counts = client.get("/queues/my-day/").context["counts"]
    assert counts == {"total": 4, "overdue": 3, "due_today": 2}  # total: more than 3
    html = client.get("/queues/my-day/").text
    assert "<strong>3+</strong> due" in _my_day(html)
    assert "3 overdue" in _my_day(html) and "2 due today" in _my_day(html)
    # Under the cap the numbers are exact.
    monkeypatch.setattr(selectors, "COUNT_CAP", 1000)
    assert _total(client.get("/queues/all-open/").text) == "5"
    assert client.get("/queues/my-day/").context["counts"] == {
        "total": 5,
        "overdue": 3,
        "due_today": 2,
    }


def test_page_position_past_the_cap(world, client_for, make_claim, monkeypatch):
    from work import views as work_views

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    monkeypatch.setattr(work_views, "PAGE_SIZE", 2)
    for _ in range(5):
        make_claim()
    client = client_for(world.bill)
    first = client.get("/queues/all-open/").text
    assert "1–2 of 2+" in first
    next_url = re.search(r'href="(\?[^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(f"/queues/all-open/{next_url}").text
    assert "3–4 of 4+" in second  # at least the rows already paged through
    next_url = re.search(r'href="(\?[^"]+)" rel="next"', second).group(1).replace("&amp;", "&")
    third = client.get(f"/queues/all-open/{next_url}").text
    assert "5–5 of 5<" in third  # the last page knows the total


def test_queue_totals_cost_the_same_queries_past_the_cap(world, client_for, make_claim):
    client = client_for(world.bill)
    make_claim()
    for url in ("/queues/all-open/", "/queues/my-day/"):
        client.get(url)  # warm
    few = {}
    for url in ("/queues/all-open/", "/queues/my-day/"):
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        few[url] = len(ctx)
    for _ in range(8):
        make_claim()
    for url in ("/queues/all-open/", "/queues/my-day/"):
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        assert len(ctx) == few[url], url
        counting = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
        assert counting and all("LIMIT 1001" in sql for sql in counting if "claims_claim" in sql)


# --- N+1 detection -----------------------------------------------------------------------


def test_an_n_plus_one_fails_a_test(world, make_claim, settings):
    """django-zeal is on in the test settings: a related object loaded once per row raises
    (every request of the test client runs inside its context, see settings/test.py)."""
    from zeal import NPlusOneError, zeal_context

    assert "zeal.middleware.zeal_middleware" in settings.MIDDLEWARE
    for _ in range(3):
        make_claim()
    with zeal_context(), pytest.raises(NPlusOneError, match=r"Claim\.payer"):
        [claim.payer.name for claim in Claim.objects.all()]
    with zeal_context():  # the same read with its join is fine
        names = [claim.payer.name for claim in Claim.objects.select_related("payer")]
    assert len(names) == 3
