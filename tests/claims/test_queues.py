"""Work queues: scoping, filters, ranking, keyset pages, constant query counts,
"work next" under concurrency, bulk actions, and the claim page's quick actions."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims import services
from claims.choices import ActivityKind, ClaimStatus, NextAction
from claims.models import Claim
from claims.queues import CLAIM
from tests.permission_matrix import Endpoint, PermissionMatrixMixin
from work import reminders, selectors
from work import services as work_services
from work.registry import registry


def local_today() -> dt.date:
    """Today in the practice's time zone, read when a test uses it (a module-level
    constant read at import went stale when a run crossed midnight)."""
    return timezone.localdate()


WORKERS = frozenset({"sam", "bill", "vera", "val"})  # work_claims on Sunrise
# My day and "work next" serve every item type: fran and vic verify eligibility there.
DAY_WORKERS = WORKERS | {"fran", "vic"}


def _first_claim(w):
    return Claim.objects.filter(practice=w.sunrise).order_by("pk").first()


@pytest.fixture(autouse=True)
def sunrise_claims(world, make_claim):
    """Three Sunrise claims owned by bill (two due), one Maple claim owned by mia."""
    for days, amount in [(3, "1240.00"), (0, "80.00"), (-5, "300.00")]:
        make_claim(
            owner=world.bill,
            next_action_due=local_today() - dt.timedelta(days=days),
            lines=[{"procedure_code": "D2740", "charge": amount}],
        )


class TestQueuePages(PermissionMatrixMixin):
    endpoints = [
        # Queue pages show the current practice; mia's is Maple, so she must not see Sunrise.
        Endpoint(
            "my day", "get", lambda w: "/queues/my-day/", DAY_WORKERS, marker=lambda w: "Sunrise"
        ),
        Endpoint(
            "payer ar", "get", lambda w: "/queues/all-open/", WORKERS, marker=lambda w: "C00001"
        ),
        Endpoint("claim page", "get", lambda w: f"/claims/{_first_claim(w).pk}/", WORKERS),
        Endpoint(
            "note",
            "post",
            lambda w: f"/claims/{_first_claim(w).pk}/note/",
            WORKERS,
            ok_status=302,
            data=lambda w: {"text": "called"},
        ),
        Endpoint(
            "next action",
            "post",
            lambda w: f"/claims/{_first_claim(w).pk}/next-action/",
            WORKERS,
            ok_status=302,
            data=lambda w: {
                "version": _first_claim(w).version,
                "next_action": "call_payer",
                "next_action_due": local_today().isoformat(),
            },
        ),
        Endpoint(
            "by owner",
            "get",
            lambda w: "/queues/owners/",
            frozenset({"sam", "val"}),
            marker=lambda w: "Sunrise",
        ),
        # mia works Maple's claims: "work next" answers her from her own day.
        Endpoint(
            "work next",
            "post",
            lambda w: "/queues/work-next/",
            DAY_WORKERS | {"mia"},
            ok_status=302,
        ),
    ]


def test_my_day_lists_due_claims_ranked_with_reasons(world, client_for):
    client = client_for(world.bill)
    response = client.get("/queues/my-day/")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [c.pms_claim_number for c, _ in rows] == ["C00001", "C00002"]
    # The parts of the score, heaviest first, each with its points.
    assert rows[0][1].startswith("$1,240.00 (+12) · 3 days overdue (+6) · 10 days old (+3)")
    assert response.context["counts"] == {"total": 2, "overdue": 1, "due_today": 1}


def test_filters_compose(world, client_for, make_claim):
    client = client_for(world.bill)
    response = client.get(
        "/queues/all-open/", {"amount_min": "100", "due_to": local_today().isoformat()}
    )
    assert [c.pms_claim_number for c, _ in response.context["rows"]] == ["C00001"]
    response = client.get("/queues/all-open/", {"status": ["draft"], "age": "0-30"})
    assert len(response.context["rows"]) == 3
    response = client.get("/queues/all-open/", {"age": "31-60"})
    assert response.context["rows"] == []


def test_unknown_queue_is_404(world, client_for):
    assert client_for(world.bill).get("/queues/nope/").status_code == 404


def test_keyset_pages_cover_everything_once(world, make_claim):
    for i in range(7):
        make_claim(lines=[{"procedure_code": "D1110", "charge": f"{100 + i * 10}"}])
    claims = selectors.queue_queryset(registry.queue("all-open"), world.bill)
    seen, cursor = [], None
    for sort in ("priority", "amount", "due", "age"):
        seen, cursor = [], None
        while True:
            page = selectors.keyset_page(registry.queue("all-open"), claims, sort, cursor, 3)
            seen += [r.item.pk for r in page.rows]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sorted(seen) == sorted(claims.values_list("pk", flat=True)), sort
        assert len(seen) == len(set(seen))
    # A forged cursor is ignored, not an error.
    assert (
        len(
            selectors.keyset_page(
                registry.queue("all-open"), claims, "priority", "!!garbage", 3
            ).rows
        )
        == 3
    )


def test_queue_page_query_count_does_not_grow(world, client_for, make_claim):
    client = client_for(world.bill)
    client.get("/queues/all-open/")  # warm sessions and content types
    with CaptureQueriesContext(connection) as few:
        assert client.get("/queues/all-open/").status_code == 200
    for i in range(25):
        make_claim(lines=[{"procedure_code": "D1110", "charge": f"{50 + i}"}])
    with CaptureQueriesContext(connection) as many:
        response = client.get("/queues/all-open/")
    assert len(response.context["rows"]) == 28
    assert len(many) == len(few)


def test_work_next_hands_out_and_leaves_queue_after_next_action(world, client_for):
    client = client_for(world.bill)
    response = client.post("/queues/work-next/")
    top = Claim.objects.get(pms_claim_number="C00001")
    assert response["Location"] == f"/claims/{top.pk}/?from=my-day"
    top.refresh_from_db()
    assert top.locked_by == world.bill
    # The next call skips the held claim.
    assert work_services.work_next(actor=world.bill).pms_claim_number == "C00002"
    services.claim_set_next_action(
        actor=world.bill,
        claim=top,
        next_action=NextAction.WAIT,
        next_action_due=local_today() + dt.timedelta(days=7),
        wait_reason="payer reprocessing",
    )
    top.refresh_from_db()
    assert top.locked_by is None
    assert top not in selectors.my_day_of_type(CLAIM, world.bill, local_today())


def test_work_next_when_nothing_left(world, client_for):
    Claim.objects.update(next_action_due=local_today() + dt.timedelta(days=3))
    response = client_for(world.bill).post("/queues/work-next/", follow=True)
    assert b"Nothing left in your day" in response.content


def test_expired_hold_is_handed_out_again(world):
    first = work_services.work_next(actor=world.bill)
    Claim.objects.filter(pk=first.pk).update(locked_until=timezone.now() - dt.timedelta(minutes=1))
    assert work_services.work_next(actor=world.bill).pk == first.pk


@pytest.mark.django_db(transaction=True)
def test_work_next_under_concurrency_never_hands_a_claim_twice(world, make_claim):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED concurrency needs PostgreSQL")
    for i in range(12):
        make_claim(lines=[{"procedure_code": "D1110", "charge": f"{100 + i}"}])
    results: list[int | None] = []
    barrier = threading.Barrier(8)
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            claim = work_services.work_next(actor=world.bill)
            with lock:
                results.append(claim.pk if claim else None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    handed = [pk for pk in results if pk is not None]
    assert len(results) == 8
    assert len(handed) == len(set(handed)) == 8
    assert Claim.objects.filter(locked_by=world.bill).count() == 8


def test_bulk_reassign_and_set_next_action(world, client_for):
    ids = list(Claim.objects.values_list("pk", flat=True))
    client = client_for(world.sam)
    response = client.post(
        "/queues/bulk/",
        {
            "items": [f"claim:{pk}" for pk in ids],
            "owner": world.vera.pk,
            "next_action": "call_payer",
            "next_action_due": local_today().isoformat(),
            "next": "/queues/all-open/",
        },
    )
    assert response.status_code == 302
    assert set(Claim.objects.values_list("owner", "next_action").distinct()) == {
        (world.vera.pk, "call_payer")
    }
    for claim in Claim.objects.all():
        assert claim.activities.filter(kind=ActivityKind.OWNER, actor=world.sam).count() == 1


def test_bulk_refuses_owner_without_access_and_changes_nothing(world):
    ids = list(Claim.objects.values_list("pk", flat=True))
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        work_services.items_bulk_update(
            actor=world.sam, items={"claim": set(ids)}, owner=world.fran
        )
    assert set(Claim.objects.values_list("owner", flat=True)) == {world.bill.pk}


def test_bulk_cannot_touch_other_practice_claims(world, client_for, make_claim):
    ids = list(Claim.objects.values_list("pk", flat=True))
    response = client_for(world.mia).post(
        "/queues/bulk/",
        {
            "items": [f"claim:{pk}" for pk in ids],
            "next_action": "appeal",
            "next_action_due": local_today().isoformat(),
        },
    )
    assert response.status_code == 302
    assert not Claim.objects.filter(next_action="appeal").exists()


def test_claim_page_conflict_keeps_input_and_says_so(world, client_for):
    claim = Claim.objects.get(pms_claim_number="C00001")
    stale = claim.version
    services.claim_add_note(actor=world.sam, claim=claim, text="first")
    services.claim_set_next_action(
        actor=world.sam, claim=claim, next_action=NextAction.APPEAL, next_action_due=local_today()
    )
    response = client_for(world.bill).post(
        f"/claims/{claim.pk}/next-action/",
        {
            "version": stale,
            "next_action": "call_payer",
            "next_action_due": local_today().isoformat(),
        },
    )
    assert response.status_code == 409
    assert "changed by" in response.content.decode()
    form = response.context["next_action_form"]
    assert form.data["next_action"] == "call_payer"
    claim.refresh_from_db()
    assert claim.next_action == NextAction.APPEAL


def test_claim_page_field_errors_in_place(world, client_for):
    claim = Claim.objects.get(pms_claim_number="C00001")
    response = client_for(world.bill).post(
        f"/claims/{claim.pk}/next-action/",
        {"version": claim.version, "next_action": "wait", "next_action_due": ""},
    )
    assert response.status_code == 400
    errors = response.context["next_action_form"].errors
    assert "wait_reason" in errors and "next_action_due" in errors


def test_invalid_transition_on_page_is_explained(world, client_for):
    claim = Claim.objects.get(pms_claim_number="C00001")
    response = client_for(world.bill).post(
        f"/claims/{claim.pk}/transition/", {"version": claim.version, "to_status": "paid"}
    )
    assert response.status_code == 400
    assert "cannot become paid" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DRAFT


def test_follow_up_from_page_counts(world, client_for):
    claim = Claim.objects.get(pms_claim_number="C00001")
    response = client_for(world.vera).post(
        f"/claims/{claim.pk}/follow-up/",
        {"version": claim.version, "channel": "phone", "contact": "Ann", "outcome": "In review"},
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.follow_up_count == 1
    page = client_for(world.bill).get("/queues/all-open/")
    row = next(c for c, _ in page.context["rows"] if c.pk == claim.pk)
    assert row.follow_up_count == 1


def test_unassigned_queue_shows_claims_of_revoked_owner(world, client_for):
    from practices.services import assignment_revoke

    Claim.objects.update(owner=world.vera)
    assert client_for(world.sam).get("/queues/unassigned/").context["rows"] == []
    assignment_revoke(actor=world.sam, assignment=world.vera.vendor_staff.assignments.get())
    rows = client_for(world.sam).get("/queues/unassigned/").context["rows"]
    assert len(rows) == 3


def test_claim_totals_are_decimal(world):
    claim = Claim.objects.get(pms_claim_number="C00001")
    assert claim.total_billed == Decimal("1240.00")


def test_landing_page_is_my_day_for_claim_workers(world, client_for):
    assert client_for(world.bill).get("/")["Location"] == "/queues/my-day/"
    # The front desk verifies eligibility: its day sheet.
    assert client_for(world.fran).get("/")["Location"] == "/day-sheet/"


def test_nightly_priority_refresh_is_idempotent(world):
    from work.tasks import refresh_priorities

    later = local_today() + dt.timedelta(days=20)
    before = dict(Claim.objects.values_list("pk", "priority"))
    assert refresh_priorities.run(later.isoformat()) == 3
    after = dict(Claim.objects.values_list("pk", "priority"))
    assert all(after[pk] > before[pk] for pk in before)
    assert reminders.refresh_priorities(later) == 0
