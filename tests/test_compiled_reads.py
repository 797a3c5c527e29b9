"""The session row and the signed-in user read by statements compiled once per process
(``billing_ops.compiled``; issue 10, speed): the same instances as the ORM's reads for
every user of the shared world (vendor staff with their row, an inactive user, a missing
id, a superuser) and for live, expired and missing sessions; a user disabled, a password
changed or a session deleted between two requests is seen by the second."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing_ops import sessions
from billing_ops.compiled import INT_MARK, CompiledRead
from practices import services
from practices.backends import UserBackend, user_rows
from tests.conftest import login

pytestmark = pytest.mark.django_db

USERS = ("sam", "fran", "bill", "mia", "vera", "vic", "val")


def _state(obj: Any, depth: int = 2) -> dict[str, Any]:
    """Every loaded value of an instance and of what select_related cached on it (the
    related row caches the instance back: compared by its primary key there)."""
    values = {k: v for k, v in obj.__dict__.items() if k != "_state"}
    cached = {
        name: None if rel is None else _state(rel, depth - 1) if depth > 1 else rel.pk
        for name, rel in obj._state.fields_cache.items()
    }
    return {
        "values": values,
        "cached": cached,
        "db": obj._state.db,
        "adding": obj._state.adding,
        "class": type(obj),
    }


def _user_both_ways(user_id: int) -> Any:
    backend = UserBackend()
    fast = backend.get_user(user_id)
    plain = backend.get_user(user_id, plain=True)
    assert (fast is None) == (plain is None), user_id
    if fast is not None:
        assert _state(fast) == _state(plain), user_id
    return fast


def test_the_compiled_user_read_gives_the_orms_user(world: Any) -> None:
    for name in USERS:
        user = _user_both_ways(getattr(world, name).pk)
        assert user is not None and user.username == name
    # Vendor staff come with their row (no query for it), the others with none cached.
    vera = _user_both_ways(world.vera.pk)
    with CaptureQueriesContext(connection) as queries:
        assert vera.vendor_staff.vendor.slug == "clearpath"
    assert len(queries) == 1  # the vendor, not the vendor-staff row
    assert _user_both_ways(world.bill.pk)._state.fields_cache == {"vendor_staff": None}
    assert _user_both_ways(0) is None
    boss = get_user_model().objects.create_superuser("root-cr", "root@example.com", "x-pass-123")
    assert _user_both_ways(boss.pk).is_superuser
    services.user_set_active(actor=None, user=world.fran, is_active=False)
    assert _user_both_ways(world.fran.pk) is None
    assert user_rows._statements and all(s.ok for s in user_rows._statements.values())


def _session(data: dict[str, Any], *, expires_in: dt.timedelta) -> str:
    store = DjangoSessionStore()
    store.update(data)
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + expires_in
    )
    return str(store.session_key)


def test_the_compiled_session_read_gives_the_orms_session(db: Any) -> None:
    assert settings.SESSION_ENGINE == "billing_ops.sessions"
    live = _session({"a": 1, "b": ["x"]}, expires_in=dt.timedelta(hours=1))
    expired = _session({"a": 2}, expires_in=-dt.timedelta(seconds=1))
    for key in (live, expired, "no-such-session-key-at-all", "short"):
        fast, plain = sessions.SessionStore(key), DjangoSessionStore(key)
        assert fast.load() == plain.load(), key
        assert fast.session_key == plain.session_key, key
    assert sessions.SessionStore(live).load() == {"a": 1, "b": ["x"]}
    assert sessions.SessionStore(expired).load() == {}
    fast_row = sessions.session_rows(live, timezone.now())
    plain_row = sessions.session_rows(live, timezone.now(), plain=True)
    assert [_state(r) for r in fast_row] == [_state(r) for r in plain_row]
    assert all(s.ok for s in sessions.session_rows._statements.values())


def test_a_disabled_user_is_signed_out_on_the_next_request(world: Any) -> None:
    client = login(Client(), world.bill)
    assert client.get("/queues/payer-ar/").status_code == 200
    services.user_set_active(actor=None, user=world.bill, is_active=False)
    response = client.get("/queues/payer-ar/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_changed_password_signs_other_sessions_out(world: Any) -> None:
    client = login(Client(), world.bill)
    assert client.get("/queues/payer-ar/").status_code == 200
    user = get_user_model().objects.get(pk=world.bill.pk)
    user.set_password("a-new-pass-456")
    user.save(update_fields=["password"])
    response = client.get("/queues/payer-ar/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_deleted_or_expired_session_is_no_session(world: Any) -> None:
    client = login(Client(), world.bill)
    assert client.get("/queues/payer-ar/").status_code == 200
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now())
    assert client.get("/queues/payer-ar/").status_code == 302
    client = login(Client(), world.bill)
    assert client.get("/queues/payer-ar/").status_code == 200
    Session.objects.filter(session_key=client.session.session_key).delete()
    assert client.get("/queues/payer-ar/").status_code == 302


def test_a_read_that_prefetches_runs_the_orm_with_this_calls_build(world: Any) -> None:
    # Rows alone would lack what the queryset prefetches: such a read is never compiled,
    # and its ORM path runs the build this call passes (work.day_rank passes the request's
    # user), not the one the read was made with.
    users = get_user_model().objects

    def with_memberships(pk: int) -> Any:
        return users.filter(pk=pk).prefetch_related("memberships")

    read = CompiledRead(lambda: get_user_model(), with_memberships, [INT_MARK])
    (bill,) = read(world.bill.pk)
    assert "memberships" in bill._prefetched_objects_cache
    assert [m.practice_id for m in bill.memberships.all()] == [world.sunrise.pk]
    assert read(world.bill.pk, build=lambda pk: users.filter(pk=pk, username="other")) == []
    assert read(world.bill.pk, plain=True, build=lambda pk: users.none()) == []
