"""The PHI access log's one-row INSERT by SQL compiled once (issue 10, speed): the same
row, column for column, and the same statement (but the ORM's unread RETURNING) as
``bulk_create``; two practices still go through ``bulk_create``."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from practices import phi_log
from practices.choices import AccessAction
from practices.models import PhiAccessLog
from tests import factories


def _request(user: Any, path: str = "/queues/payer-ar/") -> Any:
    request = RequestFactory().get(path)
    request.user = user
    return request


def _logged(after: int) -> list[dict[str, Any]]:
    rows = PhiAccessLog.objects.filter(pk__gt=after).order_by("pk").values()
    return [{k: v for k, v in row.items() if k not in ("id", "at")} for row in rows]


def _statements(ctx: Any) -> list[str]:
    """The INSERTs sent, without the timestamp's value and the ORM's RETURNING."""
    sent = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
    return [
        re.sub(r"'[0-9-]+ [0-9:.+]+'::timestamptz", "AT", sql).split(" RETURNING ")[0]
        for sql in sent
    ]


@pytest.mark.parametrize(
    ("what", "action", "path", "many"),
    [
        ("queue payer-ar", AccessAction.VIEW, "/queues/payer-ar/", 5),
        ("claim page", AccessAction.VIEW, "/claims/1/", 1),  # one patient: ``patient`` set
        ("claims API", AccessAction.API, "/api/v1/claims/?q=O'Brien", 3),
        ("x" * 200, AccessAction.EXPORT, "/p/" + "é" * 400, 2),  # cut to the columns
    ],
)
def test_one_row_is_what_bulk_create_writes(
    world: Any, what: str, action: str, path: str, many: int
) -> None:
    phi_log._inserts.clear()
    patients = [factories.PatientFactory(practice=world.sunrise) for _ in range(many)]
    request = _request(world.bill, path)
    start = PhiAccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with CaptureQueriesContext(connection) as plain_ctx:
        plain = phi_log.record_read(request, patients, what=what, action=action, plain=True)
    middle = PhiAccessLog.objects.order_by("-pk").values_list("pk", flat=True).first()
    with CaptureQueriesContext(connection) as fast_ctx:
        fast = phi_log.record_read(request, patients, what=what, action=action)
    assert fast == plain == many
    assert phi_log._inserts["default"].ok  # the kept SQL, not the ORM's fallback
    written = _logged(start)
    assert len(written) == 2 and written[0] == written[1]
    assert written[1]["patient_ids"] == [p.pk for p in patients]
    assert _statements(fast_ctx) == _statements(plain_ctx) and len(_statements(fast_ctx)) == 1
    at = PhiAccessLog.objects.get(pk__gt=middle).at
    assert at is not None and at >= PhiAccessLog.objects.get(pk=middle).at


def test_two_practices_are_two_rows_as_before(world: Any) -> None:
    rows = [world.sunrise_patient, world.maple_patient]
    start = PhiAccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    assert phi_log.record_read(_request(world.val), rows, what="search") == 2
    assert [(r["practice_id"], r["patient_id"]) for r in _logged(start)] == [
        (world.sunrise.pk, world.sunrise_patient.pk),
        (world.maple.pk, world.maple_patient.pk),
    ]


def test_nothing_shown_writes_nothing(world: Any) -> None:
    with CaptureQueriesContext(connection) as ctx:
        assert phi_log.record_read(_request(world.bill), [], what="queue payer-ar") == 0
    assert len(ctx) == 0
