"""The API's upload goes through the broker to a real Celery worker, which posts the batch;
the same file queued again is posted nothing new."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ar.models import ClaimPayment, Remittance
from tests.ar.conftest import sample
from tests.celery_worker import wait_until

BUNDLING = "x12sdk-generated-bundling-denials.835"


def _status(pk: int) -> str:
    return Remittance.objects.get(pk=pk).status


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_uploaded_file_is_posted_by_the_worker_once(worker, world, client_for, bundling_claims):
    client = client_for(world.bill)
    ids = []
    for _ in range(2):
        upload = SimpleUploadedFile("era.835", sample(BUNDLING).encode())
        response = client.post(
            "/api/v1/remittances/", {"practice": world.sunrise.pk, "file": upload}
        )
        assert response.status_code == 202
        ids.append(response.json()["id"])

    assert wait_until(lambda: all(_status(pk) != "pending" for pk in ids)), [
        _status(pk) for pk in ids
    ]
    assert sorted(_status(pk) for pk in ids) == ["duplicate", "posted"]
    # Every payment belongs to the one posted file; the duplicate posted nothing.
    posted = next(pk for pk in ids if _status(pk) == "posted")
    assert sorted(ClaimPayment.objects.values_list("remittance_id", flat=True)) == [posted] * 3
    # The API reports what the worker did to each file.
    answers = [client.get(f"/api/v1/remittances/{pk}/").json()["status"] for pk in ids]
    assert answers == [_status(pk) for pk in ids]
