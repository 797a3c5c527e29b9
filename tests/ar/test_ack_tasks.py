"""277CA imports through the queue: the upload stores the file and queues its id once
committed; the run is idempotent; the same file imported twice at once (two runs in two
database sessions, and two uploads through a real Celery worker) changes each claim once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from ar.ack_models import Acknowledgement, ClaimAcknowledgement
from ar.acknowledgements import acknowledgement_run, acknowledgement_upload
from claims.choices import ActivityKind
from claims.models import Claim, ClaimActivity
from tests.ar.conftest import sample
from tests.ar.test_acknowledgements import ACCEPTED, upload
from tests.celery_worker import wait_until


def accepted_entries(claim: Claim) -> int:
    return ClaimActivity.objects.filter(
        claim=claim, kind=ActivityKind.STATUS, data__to="accepted"
    ).count()


def test_upload_queues_the_id_once_committed_and_the_run_is_idempotent(
    world, make_claim, django_capture_on_commit_callbacks
):
    claim = make_claim("5781", "Tpatient", [("D1110", "125.00")])
    with django_capture_on_commit_callbacks() as queued:
        batch = acknowledgement_upload(
            actor=world.bill,
            practice=world.sunrise,
            content=sample(ACCEPTED).encode(),
            filename="ack.txt",
        )
    assert (batch.status, len(queued)) == ("pending", 1)
    assert Claim.objects.get(pk=claim.pk).status == "submitted"  # nothing applied yet

    first = acknowledgement_run(batch.pk)
    again = acknowledgement_run(batch.pk)  # the task delivered twice

    assert (first.status, first.accepted_count, first.content) == ("applied", 1, "")
    assert (again.status, again.accepted_count) == ("applied", 1)
    assert Claim.objects.get(pk=claim.pk).status == "accepted"
    assert accepted_entries(claim) == 1


def test_a_run_whose_importer_lost_the_right_applies_nothing(world, make_claim):
    from practices.services import membership_revoke

    claim = make_claim("5781", "Tpatient", [("D1110", "125.00")])
    batch = acknowledgement_upload(
        actor=world.bill,
        practice=world.sunrise,
        content=sample(ACCEPTED).encode(),
        filename="ack.txt",
        enqueue=False,
    )
    membership_revoke(actor=None, membership=world.bill.memberships.get())
    done = acknowledgement_run(batch.pk)
    assert (done.status, done.accepted_count) == ("refused", 0)
    assert "nothing was applied" in done.entries[0]["message"]
    assert Claim.objects.get(pk=claim.pk).status == "submitted"
    assert not ClaimAcknowledgement.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_same_file_run_twice_at_once_changes_the_claim_once(world, make_claim):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and the unique index wait need PostgreSQL")
    claim = make_claim("5781", "Tpatient", [("D1110", "125.00")])
    ids = [
        acknowledgement_upload(
            actor=world.bill,
            practice=world.sunrise,
            content=sample(ACCEPTED).encode(),
            filename="ack.txt",
            enqueue=False,
        ).pk
        for _ in range(2)
    ]
    barrier = threading.Barrier(2)
    results: list[tuple[int, int]] = []
    lock = threading.Lock()

    def worker(pk: int) -> None:
        try:
            barrier.wait()
            batch = acknowledgement_run(pk)
            with lock:
                results.append((batch.accepted_count, batch.already_count))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(pk,)) for pk in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [(0, 1), (1, 0)]
    assert Claim.objects.get(pk=claim.pk).status == "accepted"
    assert accepted_entries(claim) == 1
    assert ClaimAcknowledgement.objects.filter(applied=True).count() == 1


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_two_uploads_through_the_worker_change_the_claim_once(
    worker, world, client_for, make_claim
):
    claim = make_claim("5781", "Tpatient", [("D1110", "125.00")])
    client = client_for(world.bill)
    ids = []
    for _ in range(2):
        data = {"practice": world.sunrise.pk, "file": upload(sample(ACCEPTED))}
        response = client.post("/api/v1/acknowledgements/", data)
        assert response.status_code == 202, response.content
        ids.append(response.json()["id"])

    def statuses() -> list[str]:
        return [Acknowledgement.objects.get(pk=pk).status for pk in ids]

    assert wait_until(lambda: "pending" not in statuses()), statuses()
    assert statuses() == ["applied", "applied"]
    counts = sorted(
        Acknowledgement.objects.filter(pk__in=ids).values_list("accepted_count", "already_count")
    )
    assert counts == [(0, 1), (1, 0)]
    assert Claim.objects.get(pk=claim.pk).status == "accepted"
    assert accepted_entries(claim) == 1
