"""Next-action reminders and the daily digest e-mail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.choices import NextAction
from practices import services as practice_services
from practices.models import Assignment
from work import reminders
from work.choices import NotificationKind
from work.models import Notification
from work.registry import registry

DAY = dt.timedelta(days=1)


def revoke_vera(world: Any) -> None:
    assignment = Assignment.objects.get(staff__user=world.vera, engagement__practice=world.sunrise)
    practice_services.assignment_revoke(actor=world.sam, assignment=assignment)


def rows(user: Any) -> list[tuple[str, int | None, str]]:
    return sorted(Notification.objects.filter(user=user).values_list("kind", "item_id", "message"))


# --- next-action reminders -------------------------------------------------------------


def test_reminders_go_to_the_owner_of_each_due_or_overdue_open_claim(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    due = make_claim(owner=world.bill, due=today)
    late = make_claim(owner=world.vera, due=today - 3 * DAY, number="PCN123")
    make_claim(owner=world.bill, due=today + DAY)  # not yet due
    make_claim(owner=world.bill, due=today - DAY, status="closed")  # closed: nothing
    make_claim(owner=world.bill, due=today - DAY, status="void")
    maple = make_claim(practice=world.maple, owner=world.mia, due=today - DAY)

    counts = reminders.send_next_action_reminders(today)

    assert counts == {"due_today": 1, "overdue": 2, "created": 3}
    assert rows(world.bill) == [
        (
            NotificationKind.DUE_TODAY,
            due.pk,
            f"Claim {due.pms_claim_number} (Delta Dental, $1,240.00): Call payer — due today",
        )
    ]
    assert rows(world.vera) == [
        (
            NotificationKind.OVERDUE,
            late.pk,
            "Claim PCN123 (Delta Dental, $1,240.00): Call payer — 3 days overdue",
        )
    ]
    assert rows(world.mia) == [
        (
            NotificationKind.OVERDUE,
            maple.pk,
            f"Claim {maple.pms_claim_number} (Delta Dental, $1,240.00): Call payer — 1 day overdue",
        )
    ]
    for name in ("sam", "fran", "vic", "val"):
        assert rows(world.users[name]) == [], name
    note = Notification.objects.get(item_type="claim", item_id=late.pk)
    assert (note.practice_id, note.for_date, note.read_at) == (world.sunrise.pk, today, None)
    assert "Privateperson" not in note.message  # no patient names


def test_reminders_run_twice_create_nothing_new_but_remind_again_the_next_day(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    claim = make_claim(due=today - DAY)
    make_claim(due=today)

    first = reminders.send_next_action_reminders(today)
    again = reminders.send_next_action_reminders(today)

    assert first["created"] == 2
    assert again == {"due_today": 1, "overdue": 1, "created": 0}
    assert Notification.objects.count() == 2

    tomorrow = reminders.send_next_action_reminders(today + DAY)
    assert tomorrow == {"due_today": 0, "overdue": 2, "created": 2}
    latest = Notification.objects.filter(
        item_type="claim", item_id=claim.pk, for_date=today + DAY
    ).get()
    assert latest.message.endswith("Call payer — 2 days overdue")


def test_owner_who_lost_access_gets_no_reminder(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    make_claim(owner=world.vera, due=today - DAY)
    kept = make_claim(owner=world.bill, due=today - DAY)
    revoke_vera(world)

    counts = reminders.send_next_action_reminders(today)

    assert counts["created"] == 1
    assert list(Notification.objects.values_list("user_id", "item_id")) == [
        (world.bill.pk, kept.pk)
    ]


def test_message_uses_next_action_label_and_money_format(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    make_claim(
        number="PCN9",
        charge=Decimal("12345.5"),
        next_action=NextAction.REQUEST_INFO_PRACTICE,
        due=today - 10 * DAY,
    )
    reminders.send_next_action_reminders(today)
    assert Notification.objects.get().message == (
        "Claim PCN9 (Delta Dental, $12,345.50): Request info from practice — 10 days overdue"
    )


def test_reminders_cost_the_same_queries_for_two_or_six_claims(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    for _ in range(2):
        make_claim(due=today - DAY)
    with CaptureQueriesContext(connection) as few:
        assert reminders.send_next_action_reminders(today)["created"] == 2
    for owner in (world.bill, world.vera, world.sam, world.val):
        make_claim(owner=owner, due=today - DAY)
    with CaptureQueriesContext(connection) as more:
        assert reminders.send_next_action_reminders(today)["created"] == 4
    # One query per registered item type (its due items), the notifications already sent,
    # the insert: more claims, no more queries.
    budget = 2 + len(list(registry.types()))
    assert len(more) == len(few) <= budget, [q["sql"] for q in more.captured_queries]


# --- daily digest ----------------------------------------------------------------------


@pytest.fixture
def emails(world: Any) -> dict[str, str]:
    addresses = {}
    for name, user in world.users.items():
        user.email = f"{name}@example.com"
        user.save(update_fields=["email"])
        addresses[name] = user.email
    return addresses


def sent_to(address: str) -> list[Any]:
    return [message for message in mail.outbox if address in message.to]


def test_digest_is_one_email_per_owner_with_due_and_overdue_claims(
    world: Any, make_claim: Any, today: dt.date, emails: dict[str, str]
) -> None:
    late = make_claim(owner=world.bill, due=today - 3 * DAY, number="PCN100")
    due = make_claim(owner=world.bill, due=today, number="PCN101")
    make_claim(owner=world.bill, due=today + DAY, number="PCN102")  # not yet due
    make_claim(owner=world.bill, due=today - DAY, number="PCN103", status="closed")
    make_claim(owner=world.sam, due=today, number="PCN200")
    make_claim(practice=world.maple, owner=world.mia, due=today - DAY, number="PCN300")
    make_claim(owner=world.val, due=today + 5 * DAY)  # val: nothing due

    counts = reminders.send_daily_digests(today)

    assert counts == {"owners": 3, "sent": 3, "already_sent": 0, "no_email": 0}
    assert len(mail.outbox) == 3
    [message] = sent_to(emails["bill"])
    assert message.subject == (f"billing-ops: 1 item overdue, 1 due today ({today:%m/%d/%Y})")
    body = message.body
    assert "Claim PCN100 (Delta Dental, $1,240.00) · Call payer · 3 days overdue" in body
    assert "Claim PCN101 (Delta Dental, $1,240.00) · Call payer" in body
    assert body.index("Overdue:") < body.index("PCN100") < body.index("Due today:")
    assert body.index("Due today:") < body.index("PCN101")
    assert "Sunrise Dental" in body
    for absent in ("PCN102", "PCN103", "PCN200", "PCN300", "Privateperson", "Jane"):
        assert absent not in body, absent
    assert sent_to(emails["val"]) == []
    assert "PCN300" in sent_to(emails["mia"])[0].body
    marker = Notification.objects.get(user=world.bill, kind=NotificationKind.DIGEST)
    assert (marker.for_date, marker.item_id, marker.practice_id) == (
        today,
        None,
        world.sunrise.pk,
    )
    assert marker.message == "Daily digest e-mailed: 1 item overdue, 1 due today."
    assert {late.pk, due.pk}.isdisjoint(
        Notification.objects.filter(kind=NotificationKind.DIGEST).values_list("item_id", flat=True)
    )


def test_digest_runs_twice_but_sends_once(
    world: Any, make_claim: Any, today: dt.date, emails: dict[str, str]
) -> None:
    make_claim(owner=world.bill, due=today)

    first = reminders.send_daily_digests(today)
    second = reminders.send_daily_digests(today)

    assert first["sent"] == 1
    assert second == {"owners": 1, "sent": 0, "already_sent": 1, "no_email": 0}
    assert len(mail.outbox) == 1
    assert Notification.objects.filter(kind=NotificationKind.DIGEST).count() == 1
    # The next day is a new digest.
    assert reminders.send_daily_digests(today + DAY)["sent"] == 1
    assert len(mail.outbox) == 2


def test_digest_skips_an_owner_whose_access_was_revoked(
    world: Any, make_claim: Any, today: dt.date, emails: dict[str, str]
) -> None:
    make_claim(owner=world.vera, due=today - DAY, number="PCN777")
    make_claim(owner=world.bill, due=today - DAY, number="PCN778")
    revoke_vera(world)

    counts = reminders.send_daily_digests(today)

    assert counts["sent"] == 1
    assert sent_to(emails["vera"]) == []
    assert all("PCN777" not in message.body for message in mail.outbox)
    assert "PCN778" in sent_to(emails["bill"])[0].body
    assert not Notification.objects.filter(user=world.vera).exists()


def test_digest_lists_only_practices_the_owner_still_works(
    world: Any, make_claim: Any, today: dt.date, emails: dict[str, str]
) -> None:
    # val works both practices; losing Maple removes only the Maple claims from the e-mail.
    make_claim(owner=world.val, due=today, number="PCN401")
    make_claim(practice=world.maple, owner=world.val, due=today, number="PCN402")
    assignment = Assignment.objects.get(staff__user=world.val, engagement__practice=world.maple)
    practice_services.assignment_revoke(actor=world.mia, assignment=assignment)

    reminders.send_daily_digests(today)

    [message] = sent_to(emails["val"])
    assert "PCN401" in message.body
    assert "PCN402" not in message.body
    assert "Maple" not in message.body


def test_digest_without_an_email_address_is_not_marked_sent(
    world: Any, make_claim: Any, today: dt.date
) -> None:
    make_claim(owner=world.bill, due=today)
    assert world.bill.email == ""

    counts = reminders.send_daily_digests(today)

    assert counts == {"owners": 1, "sent": 0, "already_sent": 0, "no_email": 1}
    assert mail.outbox == []
    assert not Notification.objects.filter(kind=NotificationKind.DIGEST).exists()


def test_failed_send_leaves_no_marker_so_the_retry_sends(
    world: Any, make_claim: Any, today: dt.date, emails: dict[str, str], monkeypatch: Any
) -> None:
    make_claim(owner=world.bill, due=today)

    def broken(self: EmailMessage, *args: Any, **kwargs: Any) -> int:
        raise ConnectionError("SMTP down")

    with monkeypatch.context() as patched:
        patched.setattr(EmailMessage, "send", broken)
        with pytest.raises(ConnectionError):
            reminders.send_daily_digests(today)
    assert not Notification.objects.filter(kind=NotificationKind.DIGEST).exists()
    assert mail.outbox == []

    assert reminders.send_daily_digests(today)["sent"] == 1
    assert len(mail.outbox) == 1


def test_digest_caps_a_long_list(
    world: Any, make_claim: Any, today: dt.date, emails: dict[str, str], monkeypatch: Any
) -> None:
    monkeypatch.setattr(reminders, "DIGEST_MAX_ITEMS", 2)
    for _ in range(3):
        make_claim(owner=world.bill, due=today)

    reminders.send_daily_digests(today)

    [message] = mail.outbox
    assert message.subject.startswith("billing-ops: 0 items overdue, 3 due today")
    assert message.body.count("(Delta Dental, ") == 2
    assert "… and 1 more" in message.body
