"""The session engine: Django's database sessions, the row read by a statement compiled
once per process (``billing_ops.compiled``; issue 10, speed). Every signed-in request
reads its session; the read is the ORM's ``get(session_key=..., expire_date__gt=now)``
with the same SQL and the same answer (an expired or missing row is no session), only
without compiling it each time. Writes, deletes and the async reads are Django's.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.contrib.sessions.models import Session
from django.db.models import QuerySet
from django.utils import timezone

from billing_ops.compiled import DATETIME_MARK, STR_MARK, CompiledRead


def _session_rows(session_key: str, now: Any) -> QuerySet[Any]:
    """What ``SessionStore._get_session_from_db`` asks for (``get`` reads up to 21 rows)."""
    return SessionStore.get_model_class().objects.filter(
        session_key=session_key, expire_date__gt=now
    )[:21]


session_rows = CompiledRead(
    lambda: SessionStore.get_model_class(), _session_rows, (STR_MARK, DATETIME_MARK)
)


class SessionStore(DbSessionStore):
    def _get_session_from_db(self) -> Session | None:
        key = self.session_key
        if not isinstance(key, str) or not key:
            return super()._get_session_from_db()  # type: ignore[misc,no-any-return]
        rows = session_rows(key, timezone.now())
        if len(rows) > 1:  # not possible for a primary key: let the ORM's get() say so
            return super()._get_session_from_db()  # type: ignore[misc,no-any-return]
        if not rows:  # missing or expired: no session, as Django's DoesNotExist branch
            self._session_key = None
            return None
        return rows[0]  # type: ignore[no-any-return]
