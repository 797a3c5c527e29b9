"""Notifications through the permission matrix: everybody signed in has the pages, and each
sees and changes only their own notifications."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tests.permission_matrix import SIGNED_IN, Case, Endpoint, PermissionMatrixMixin

BILL_ONLY = frozenset({"bill"})


def _notify(user: Any, practice: Any, key: str, message: str) -> Any:
    return user.notifications.create(
        practice=practice,
        kind="overdue",
        message=message,
        for_date=timezone.localdate(),
        dedupe_key=key,
    )


def _unread(notification: Any) -> bool:
    return type(notification).objects.get(pk=notification.pk).read_at is None


def _give_persona_one(c: Case) -> None:
    """An unread notification of the persona's own (mia's at Maple); bill already has his."""
    if c.user is not None and c.persona != "bill":
        practice = c.world.maple if c.persona == "mia" else c.world.sunrise
        _notify(c.user, practice, f"matrix-own-{c.persona}", "MINE")


def _only_mine_read(c: Case) -> bool:
    """The persona's notifications are all read; somebody else's is still unread."""
    if c.user is None:
        return False
    others = c.world.sam_note if c.persona == "bill" else c.world.bill_note
    return not c.user.notifications.filter(read_at__isnull=True).exists() and _unread(others)


class TestNotifications(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        world.bill_note = _notify(world.bill, world.sunrise, "matrix-bill", "MATRIX-BILL-NOTE")
        world.sam_note = _notify(world.sam, world.sunrise, "matrix-sam", "MATRIX-SAM-NOTE")

    endpoints = [
        Endpoint(
            "page",
            "get",
            lambda w: "/notifications/",
            BILL_ONLY,
            marker=lambda w: "MATRIX-BILL-NOTE",
            route="notification-list",
        ),
        Endpoint(
            "read one",
            "post",
            lambda w: f"/notifications/{w.bill_note.pk}/read/",
            BILL_ONLY,
            ok_status=302,
            route="notification-read",
            done=lambda c: not _unread(c.world.bill_note),
        ),
        Endpoint(
            "read all",
            "post",
            lambda w: "/notifications/read-all/",
            SIGNED_IN,
            ok_status=302,
            route="notification-read-all",
            arrange=_give_persona_one,
            done=_only_mine_read,
        ),
        Endpoint(
            "api list",
            "get",
            lambda w: "/api/v1/notifications/",
            BILL_ONLY,
            api=True,
            marker=lambda w: w.bill_note.pk,
            route="api:api-notification-list",
        ),
    ]
