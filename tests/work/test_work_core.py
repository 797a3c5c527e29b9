"""The work core over more than one item type, and the cost of access per request.

Chores (tests/workitems) are a second item type registered exactly as a domain app
registers one; nothing in work/ knows them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing_ops.access import holders
from claims.models import Claim
from practices import permissions as perms
from tests.workitems.models import Chore
from tests.workitems.registration import LOG
from work import reminders, selectors
from work import services as work_services
from work.models import Notification


def local_today() -> dt.date:
    """Today in the practice's time zone, read when a test uses it (a module-level
    constant read at import went stale when a run crossed midnight)."""
    return timezone.localdate()


DAY = dt.timedelta(days=1)
PERMISSION_TABLE = '"practices_practiceuserpermission"'
# Pages that list chores link to them: the test URLconf adds the chore page.
pytestmark = pytest.mark.urls("tests.workitems.urls")


def make_chore(world: Any, title: str, owner: Any, due: dt.date, **fields: Any) -> Chore:
    chore = Chore(
        practice=world.sunrise,
        title=title,
        owner=owner,
        next_action="do_it",
        next_action_due=due,
        version=0,
        **fields,
    )
    return work_services.save_checked(chore, actor=None)


@pytest.fixture
def chores(world: Any) -> list[Chore]:
    # sam (manager) holds work_recare at Sunrise; the chore type needs it.
    return [
        make_chore(world, "call back", world.sam, local_today() - 3 * DAY),
        make_chore(world, "file form", world.sam, local_today()),
        make_chore(world, "later", world.sam, local_today() + 5 * DAY),
    ]


def test_chores_need_no_change_to_the_core_and_show_in_my_day(world, chores, make_claim):
    claim = make_claim(owner=world.sam, due=local_today() - DAY)
    page = selectors.my_day_page(world.sam, world.sunrise.pk, None, 50, local_today())
    refs = [row.ref for row in page.rows]
    assert set(refs) == {f"chore:{chores[0].pk}", f"chore:{chores[1].pk}", f"claim:{claim.pk}"}
    # One order over both types: highest priority first.
    priorities = [row.item.priority for row in page.rows]
    assert priorities == sorted(priorities, reverse=True)
    assert chores[0].priority_explanation == "3 days overdue"
    counts = selectors.my_day_counts(world.sam, world.sunrise.pk, local_today())
    assert counts == {"total": 3, "overdue": 2, "due_today": 1}


def test_my_day_page_lists_chores_and_claims(world, chores, make_claim, client_for):
    make_claim(owner=world.sam, due=local_today())
    response = client_for(world.sam).get("/queues/my-day/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Chore call back" in html and "Chore file form" in html and "Chore later" not in html
    assert f'value="chore:{chores[0].pk}"' in html


def test_my_day_pages_cover_everything_once(world, make_claim):
    for i in range(5):
        make_chore(world, f"c{i}", world.sam, local_today() - i * DAY)
        make_claim(owner=world.sam, due=local_today() - i * DAY)
    seen, cursor = [], None
    while True:
        page = selectors.my_day_page(world.sam, world.sunrise.pk, cursor, 3, local_today())
        seen += [row.ref for row in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 10


def test_work_next_hands_out_the_best_item_of_any_type(world, chores, make_claim):
    make_claim(owner=world.sam, due=local_today())  # scores lower than 3 days overdue
    Chore.objects.filter(pk=chores[0].pk).update(priority=10_000)
    first = work_services.work_next(actor=world.sam, practice_id=world.sunrise.pk)
    assert isinstance(first, Chore) and first.pk == chores[0].pk
    assert Chore.objects.get(pk=first.pk).locked_by == world.sam
    # Restricted to claims (the claims API), the chore is never handed out.
    claim = work_services.work_next(actor=world.sam, types=["claim"])
    assert isinstance(claim, Claim)


def test_setting_the_next_action_releases_the_hold_and_logs(world, chores):
    held = work_services.work_next(actor=world.sam)
    assert held is not None
    work_services.item_set_next_action(
        actor=world.sam,
        item=held,
        next_action="wait",
        next_action_due=local_today() + 7 * DAY,
        wait_reason="patient calls back",
    )
    held.refresh_from_db()
    assert held.locked_by is None and held.version == 2
    assert LOG[-1][:2] == (held.pk, "next_action")


def test_the_invariant_holds_for_chores(world):
    with pytest.raises(ValidationError) as exc:
        make_chore(world, "no owner", None, local_today())
    assert "owner" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        chore = Chore(practice=world.sunrise, title="w", owner=world.sam, next_action="wait")
        chore.next_action_due, chore.version = local_today(), 0
        work_services.save_checked(chore, actor=None)
    assert "wait_reason" in exc.value.message_dict
    assert not Chore.objects.exists()


def test_stale_version_is_a_conflict_and_saves_nothing(world, chores):
    chore = chores[0]
    with pytest.raises(work_services.ItemConflict):
        work_services.item_set_next_action(
            actor=world.sam,
            item=chore,
            next_action="do_it",
            next_action_due=local_today(),
            expected_version=chore.version - 1,
        )
    chore.refresh_from_db()
    assert chore.next_action_due == local_today() - 3 * DAY


def test_reminders_and_escalations_fire_for_chores(world, chores):
    counts = reminders.send_next_action_reminders(local_today())
    assert counts == {"due_today": 1, "overdue": 1, "created": 2}
    notes = Notification.objects.filter(item_type="chore").order_by("item_id")
    assert [(n.item_id, n.user_id) for n in notes] == [(chores[0].pk, world.sam.pk)] + [
        (chores[1].pk, world.sam.pk)
    ]
    assert notes[0].message == "Chore call back: Do it — 3 days overdue"
    assert reminders.send_next_action_reminders(local_today())["created"] == 0


def test_an_owner_who_lost_access_gets_no_reminder(world, chores):
    # bill (biller) cannot work recare: his chore is nobody's reminder.
    make_chore(world, "not his", world.sam, local_today())
    Chore.objects.filter(title="not his").update(owner=world.bill)
    reminders.send_next_action_reminders(local_today())
    assert not Notification.objects.filter(user=world.bill).exists()


def test_bulk_all_matching_changes_every_filtered_item_not_only_the_page(world, client_for):
    for i in range(4):
        make_chore(world, f"bulk{i}", world.sam, local_today())
    response = client_for(world.sam).post(
        "/queues/bulk/",
        {
            "all_matching": "1",
            "queue": "chores",
            "query": "",
            "next_action": "wait",
            "next_action_due": (local_today() + 2 * DAY).isoformat(),
            "wait_reason": "insurer",
        },
    )
    assert response.status_code == 302
    assert set(Chore.objects.values_list("next_action", "wait_reason")) == {("wait", "insurer")}


def test_bulk_with_an_unknown_item_reference_changes_nothing(world, chores, client_for):
    response = client_for(world.sam).post(
        "/queues/bulk/",
        {
            "items": [f"chore:{chores[0].pk}", "nonsense:1"],
            "next_action": "do_it",
            "next_action_due": local_today().isoformat(),
        },
        follow=True,
    )
    assert "is not an item you can select" in response.content.decode()
    assert Chore.objects.get(pk=chores[0].pk).next_action_due == local_today() - 3 * DAY


def test_owner_summary_counts_every_type(world, chores, make_claim):
    make_claim(owner=world.sam, due=local_today() - DAY)
    rows = {
        r["owner_id"]: r
        for r in selectors.owner_summary(world.sam, world.sunrise.pk, local_today())
    }
    assert rows[world.sam.pk]["open"] == 4
    assert rows[world.sam.pk]["by_type"] == {"Chore": 3, "Claim": 1}


# --- the reverse question and the cost of access ------------------------------------------


def test_holders_follow_the_same_rules_as_visibility(world, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "r@example.com", "x")
    workers = set(holders(perms.WORK_CLAIMS, world.sunrise.pk).values_list("username", flat=True))
    assert workers == {"sam", "bill", "vera", "val", "root"}
    admin.is_active = False
    admin.save()
    world.sunrise.is_active = False
    world.sunrise.save()
    assert not holders(perms.WORK_CLAIMS, world.sunrise.pk).exists()


def _permission_reads(queries: CaptureQueriesContext) -> int:
    return sum(PERMISSION_TABLE in q["sql"] for q in queries.captured_queries)


def _work_statements(queries: CaptureQueriesContext) -> list[str]:
    """Statements other than the savepoints of the test's own transaction."""
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_patch_of_a_claim_runs_at_most_14_statements(world, client_for, make_claim):
    """27 before the work core. What is left: session, user, grants; the claim; the new
    owner and their grants; lock, update, history, timeline; the response (claim, lines,
    findings, attachments)."""
    claim = make_claim()
    client = client_for(world.bill)
    client.get("/api/v1/claims/")  # warm content types and the session
    with CaptureQueriesContext(connection) as queries:
        response = client.patch(
            f"/api/v1/claims/{claim.pk}/",
            {"owner": world.vera.pk, "next_action": "call_payer", "version": claim.version},
            content_type="application/json",
        )
    assert response.status_code == 200, response.content
    assert Claim.objects.get(pk=claim.pk).owner == world.vera
    statements = _work_statements(queries)
    assert len(statements) <= 14, "\n".join(statements)
    # Once for the caller, once for the new owner (was 8).
    assert _permission_reads(queries) == 2


def test_queue_page_reads_the_permission_table_at_most_twice(world, client_for, make_claim):
    for _ in range(3):
        make_claim()
    client = client_for(world.bill)
    client.get("/queues/all-open/")
    for path in ("/queues/all-open/", "/queues/my-day/", "/queues/payer-ar/"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        assert _permission_reads(queries) <= 2, path


def test_claim_and_my_day_pages_cost_the_same_for_1_or_20_claims(world, client_for, make_claim):
    first = make_claim()
    client = client_for(world.bill)
    client.get(f"/claims/{first.pk}/")
    with CaptureQueriesContext(connection) as one_claim:
        client.get(f"/claims/{first.pk}/")
    with CaptureQueriesContext(connection) as one_day:
        client.get("/queues/my-day/")
    for _ in range(19):
        make_claim()
    with CaptureQueriesContext(connection) as many_claim:
        client.get(f"/claims/{first.pk}/")
    with CaptureQueriesContext(connection) as many_day:
        response = client.get("/queues/my-day/")
    assert len(response.context["rows"]) == 20
    assert len(many_claim) == len(one_claim)
    assert len(many_day) == len(one_day)


def test_the_nav_marks_my_day_only_on_my_day(world, client_for, make_claim):
    make_claim()
    client = client_for(world.bill)
    my_day = client.get("/queues/my-day/").content.decode()
    payer_ar = client.get("/queues/payer-ar/").content.decode()
    active_my_day = 'nav-link active" href="/queues/my-day/">My day</a>'
    assert active_my_day in my_day
    assert active_my_day not in payer_ar
