"""``billing_ops.api.HasScopePermission`` finds an object's practice along its model's
``practice_lookup`` (as ``PracticeScopedQuerySet`` filters), not only a direct
``practice_id``: an appeal belongs to its denial's practice, a ledger entry to its own, a
practice to itself. Before, a write on an appeal was refused to everyone (no
``practice_id`` on it) and the appeals viewset had to work around ``get_object``."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from rest_framework.exceptions import NotFound
from rest_framework.test import APIClient, APIRequestFactory

from billing_ops.api import HasScopePermission, object_practice_id
from denials.models import Appeal
from practices import permissions as perms
from tests.denials.test_denial_matrix import build_scene


def _post_request(user: Any) -> Any:
    request = APIRequestFactory().post("/api/v1/appeals/1/send/")
    request.user = user
    return request


@pytest.mark.django_db
def test_object_practice_id_follows_the_lookup(world: Any) -> None:
    build_scene(world)
    appeal = Appeal.objects.get(pk=world.appeal.pk)
    assert Appeal.practice_lookup == "denial__practice"
    assert object_practice_id(appeal) == world.sunrise.pk
    assert object_practice_id(world.denial) == world.sunrise.pk
    assert object_practice_id(world.maple_denial) == world.maple.pk
    assert object_practice_id(world.sunrise) == world.sunrise.pk  # practice_lookup "pk"
    assert (
        object_practice_id(SimpleNamespace(practice_lookup="denial__practice", denial=None)) is None
    )


@pytest.mark.django_db
def test_write_on_a_nested_lookup_object_needs_the_permission_at_its_practice(world: Any) -> None:
    build_scene(world)
    appeal = Appeal.objects.get(pk=world.appeal.pk)
    view = SimpleNamespace(write_permission=perms.WORK_CLAIMS)
    check = HasScopePermission()

    assert check.has_object_permission(_post_request(world.bill), view, appeal) is True
    for outsider in (world.mia, world.fran):  # another practice; the front desk
        with pytest.raises(NotFound):
            check.has_object_permission(_post_request(outsider), view, appeal)
    reading = APIRequestFactory().get("/api/v1/appeals/")
    reading.user = world.mia
    assert check.has_object_permission(reading, view, appeal) is True  # reads: the queryset


@pytest.mark.django_db
def test_appeal_actions_go_through_get_object(world: Any) -> None:
    build_scene(world)
    client = APIClient()
    client.force_authenticate(world.bill)
    sent = client.post(f"/api/v1/appeals/{world.appeal.pk}/send/", {"method": "fax"}, format="json")
    assert sent.status_code == 200, sent.content
    assert Appeal.objects.get(pk=world.appeal.pk).sent_on is not None
    missing = client.post("/api/v1/appeals/999999/send/", {"method": "fax"}, format="json")
    assert missing.status_code == 404
    other = APIClient()
    other.force_authenticate(world.mia)
    refused = other.post(
        f"/api/v1/appeals/{world.appeal.pk}/decide/", {"outcome": "upheld"}, format="json"
    )
    assert refused.status_code == 404
    assert Appeal.objects.get(pk=world.appeal.pk).outcome == ""
