"""The access tasks through a real Celery worker consuming from Redis.

The worker runs in a thread of this process (``celery.contrib.testing.worker``) with the
project's own Celery app, so tasks go through the broker and run against the committed
test database. There is no result backend: effects are observed in the database and
through the worker's ``task_postrun`` signal (which fires in this process).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from celery.signals import before_task_publish
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from billing_ops.celery import app
from practices import permissions as perms
from practices import services
from practices.choices import Role, ServiceArea
from practices.models import Assignment, PracticeUserPermission, VendorStaff
from practices.tasks import expire_ended_assignments, sync_user_access_task
from tests import factories
from tests.celery_worker import WAIT_SECONDS, TaskRuns, wait_until  # noqa: F401


def access_rows(user: Any) -> dict[tuple[int, str], int]:
    """The user's practice permissions as {(practice id, codename): row id}."""
    return {
        (row.content_object_id, row.permission.codename): row.pk
        for row in PracticeUserPermission.objects.filter(user=user).select_related("permission")
    }


def test_beat_schedule_names_registered_tasks() -> None:
    app.autodiscover_tasks(force=True)  # what the worker does: import every app's tasks
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "practices.tasks.expire_ended_assignments" in scheduled
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_sync_user_access_task_repairs_drift_and_is_idempotent(worker: TaskRuns) -> None:
    user = factories.UserFactory()
    practice = factories.PracticeFactory()
    other_practice = factories.PracticeFactory()
    services.membership_set(actor=None, user=user, practice=practice, role=Role.BILLER)
    expected = {(practice.pk, code) for code in perms.ROLE_PERMISSIONS[Role.BILLER]}
    assert set(access_rows(user)) == expected

    # Drift: every granted row lost, and one grant the user's roles do not justify.
    PracticeUserPermission.objects.filter(user=user).delete()
    PracticeUserPermission.objects.create(
        user=user,
        content_object=other_practice,
        permission=Permission.objects.get(
            codename=perms.MANAGE_ACCESS, content_type__app_label="practices"
        ),
    )

    first = sync_user_access_task.delay(user.pk)
    assert wait_until(lambda: set(access_rows(user)) == expected), access_rows(user)
    assert worker.finished(first.id) == ("SUCCESS", (len(expected), 1))

    before = access_rows(user)
    second = sync_user_access_task.delay(user.pk)
    assert worker.finished(second.id) == ("SUCCESS", (0, 0))
    assert access_rows(user) == before  # same rows, same ids: nothing rewritten


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_sync_user_access_task_for_a_missing_user_does_nothing(worker: TaskRuns) -> None:
    rows = PracticeUserPermission.objects.count()
    result = sync_user_access_task.delay(987654321)
    assert worker.finished(result.id) == ("SUCCESS", (0, 0))
    assert PracticeUserPermission.objects.count() == rows


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_expire_ended_assignments_revokes_only_ended_access(worker: TaskRuns) -> None:
    today = timezone.localdate()
    practice = factories.PracticeFactory()
    vendor = factories.VendorFactory()
    contact = factories.UserFactory()
    engagement = services.engagement_set(
        actor=None,
        vendor=vendor,
        practice=practice,
        service_areas=ServiceArea.values,
        primary_contact=contact,
        starts_on=today - dt.timedelta(days=60),
    )
    ending, staying = factories.UserFactory(), factories.UserFactory()
    assignments = {}
    for user in (ending, staying):
        staff = VendorStaff.objects.create(user=user, vendor=vendor)
        assignments[user.pk] = services.assignment_set(
            actor=None,
            staff=staff,
            engagement=engagement,
            service_areas=[ServiceArea.INSURANCE_BILLING],
        )
    granted = {
        (practice.pk, code)
        for code in perms.SERVICE_AREA_PERMISSIONS[ServiceArea.INSURANCE_BILLING]
    }
    assert set(access_rows(ending)) == granted
    staying_rows = access_rows(staying)
    assert set(staying_rows) == granted

    # The end date passes (services refuse a past date, so set it directly).
    Assignment.objects.filter(pk=assignments[ending.pk].pk).update(
        ends_on=today - dt.timedelta(days=2)
    )
    assert set(access_rows(ending)) == granted  # nothing revoked until the job runs

    result = expire_ended_assignments.delay()
    assert wait_until(lambda: not access_rows(ending)), access_rows(ending)
    assert worker.finished(result.id) == ("SUCCESS", 1)
    assert access_rows(staying) == staying_rows

    again = expire_ended_assignments.delay()
    assert worker.finished(again.id) == ("SUCCESS", 0)
    assert access_rows(ending) == {}
    assert access_rows(staying) == staying_rows


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_delay_on_commit_enqueues_only_after_commit(worker: TaskRuns) -> None:
    user = factories.UserFactory()
    practice = factories.PracticeFactory()
    services.membership_set(actor=None, user=user, practice=practice, role=Role.FRONT_DESK)
    expected = set(access_rows(user))
    assert expected
    PracticeUserPermission.objects.filter(user=user).delete()

    published: list[str] = []

    def on_publish(sender: str = "", headers: dict[str, Any] | None = None, **_: Any) -> None:
        if sender == sync_user_access_task.name:
            published.append((headers or {})["id"])

    before_task_publish.connect(on_publish, weak=False)
    try:
        # Rolled back: never sent.
        with pytest.raises(RuntimeError), transaction.atomic():
            sync_user_access_task.delay_on_commit(user.pk)
            raise RuntimeError("roll back")
        assert published == []

        with transaction.atomic():
            sync_user_access_task.delay_on_commit(user.pk)
            assert published == []  # still inside the transaction: nothing on the broker
        assert len(published) == 1  # sent at commit
    finally:
        before_task_publish.disconnect(on_publish)

    assert wait_until(lambda: set(access_rows(user)) == expected), access_rows(user)
    assert worker.finished(published[0]) == ("SUCCESS", (len(expected), 0))
