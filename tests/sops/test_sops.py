"""Billing functions, SOP versions and sign-offs: the services and what the pages show."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from sops import function_services, sop_services
from sops.choices import BillingFunctionKind, SignOffStatus
from sops.models import BillingFunction
from sops.sop_models import SopSignOff, SopSignOffRequest
from tests.conftest import login
from tests.sops import scene
from work.registry import registry
from work.selectors import my_day_of_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def sw(world: Any) -> Any:
    scene.build(world)
    return world


def open_requests(version: Any) -> set[str]:
    rows = SopSignOffRequest.objects.filter(sop_version=version, status=SignOffStatus.OPEN)
    return set(rows.values_list("owner__username", flat=True))


def test_function_change_is_kept_with_who_made_it(sw):
    function_services.billing_function_set(
        actor=sw.sam,
        practice=sw.sunrise,
        kind=BillingFunctionKind.CLAIM_FOLLOW_UP,
        owner=sw.vera,
        backup=sw.bill,
        turnaround_days=5,
    )
    function = BillingFunction.objects.get(pk=sw.follow_up.pk)
    assert (function.owner, function.backup, function.turnaround_days) == (sw.vera, sw.bill, 5)
    last = function.history.order_by("-history_date").first()
    assert last.history_user == sw.sam and last.owner_id == sw.vera.pk


def test_only_managers_set_functions_and_only_people_of_the_practice(sw):
    with pytest.raises(PermissionDenied):
        function_services.billing_function_set(
            actor=sw.bill, practice=sw.sunrise, kind="recare", owner=sw.bill
        )
    with pytest.raises(ValidationError) as exc:
        function_services.billing_function_set(
            actor=sw.sam, practice=sw.sunrise, kind="recare", owner=sw.mia, backup=sw.mia
        )
    assert set(exc.value.message_dict) == {"owner", "backup"}
    assert not BillingFunction.objects.filter(practice=sw.sunrise, kind="recare").exists()


def test_performers_are_owner_backup_and_workers_without_managers(sw):
    ids = function_services.performers(sw.follow_up)
    assert ids == sorted(sw.users[n].pk for n in ("bill", "vera", "val"))


def test_a_new_version_supersedes_the_old_requests_and_asks_everyone_again(sw):
    assert sw.v2.number == 2 and sw.v1.number == 1
    assert open_requests(sw.v1) == set()
    superseded = SopSignOffRequest.objects.filter(
        sop_version=sw.v1, status=SignOffStatus.SUPERSEDED
    )
    assert set(superseded.values_list("owner__username", flat=True)) == {"bill", "vera", "val"}
    assert open_requests(sw.v2) == {"bill", "vera", "val"}
    # In bill's My day (due in a week: not yet today) and its queue.
    item_type = registry.type("sop_sign_off")
    due = SopSignOffRequest.objects.get(sop_version=sw.v2, owner=sw.bill).next_action_due
    assert list(my_day_of_type(item_type, sw.bill, due)) == [
        SopSignOffRequest.objects.get(sop_version=sw.v2, owner=sw.bill)
    ]


def test_sign_off_records_who_and_closes_the_item(sw):
    sign_off = sop_services.sop_sign_off(actor=sw.bill, version=sw.v2)
    assert sign_off.user == sw.bill and sign_off.signed_at is not None
    assert open_requests(sw.v2) == {"vera", "val"}
    again = sop_services.sop_sign_off(actor=sw.bill, version=sw.v2)
    assert again.pk == sign_off.pk and SopSignOff.objects.filter(user=sw.bill).count() == 1
    # Nothing new opens for somebody who signed.
    assert sop_services.sign_off_requests_sync(sw.follow_up, None) == 0
    assert open_requests(sw.v2) == {"vera", "val"}


def test_old_versions_cannot_be_signed_and_outsiders_cannot_sign(sw):
    with pytest.raises(ValidationError):
        sop_services.sop_sign_off(actor=sw.bill, version=sw.v1)
    with pytest.raises(PermissionDenied):
        sop_services.sop_sign_off(actor=sw.fran, version=sw.v2)
    assert not SopSignOff.objects.exists()


def test_saving_the_same_text_again_is_refused(sw):
    with pytest.raises(ValidationError):
        sop_services.sop_save(
            actor=sw.sam,
            function=sw.follow_up,
            **scene.sop_fields(
                sw.bill,
                steps=["Open payer AR", "Check the portal first", "Call the payer", "Log it"],
                change_summary="again",
            ),
        )
    assert sw.sop.versions.count() == 2


def test_a_new_backup_is_asked_to_sign_the_current_version(sw):
    function_services.billing_function_set(
        actor=sw.sam,
        practice=sw.sunrise,
        kind=BillingFunctionKind.CLAIM_FOLLOW_UP,
        owner=sw.bill,
        backup=sw.sam,
    )
    assert open_requests(sw.v2) == {"bill", "vera", "val", "sam"}


def test_diff_is_escaped_and_shows_the_change(sw, client):
    from sops.sop_models import SopVersion

    v3 = sop_services.sop_save(
        actor=sw.sam,
        function=sw.follow_up,
        **scene.sop_fields(sw.bill, steps=["<script>alert(1)</script>"], change_summary="x"),
    )
    assert isinstance(v3, SopVersion)
    html = sop_services.sop_diff(sw.v2, v3)
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert '<span class="diff-del text-danger">-2. Check the portal first</span>' in html
    login(client, sw.bill)
    session = client.session
    session["practice_id"] = sw.sunrise.pk
    session.save()
    page = client.get(reverse("sop-diff", args=[sw.sop.pk]) + "?from=1&to=3")
    assert page.status_code == 200 and "&lt;script&gt;" in page.text
    old = client.get(reverse("sop-detail", args=[sw.sop.pk]) + "?version=1")
    assert "Call the payer" in old.text and "old version" in old.text


def test_contacts_page_shows_owner_backup_turnaround_and_away(sw, client):
    from practices.models import Membership

    Membership.objects.filter(user=sw.bill, practice=sw.sunrise).update(away_until="2999-01-01")
    login(client, sw.vic)
    page = client.get(reverse("sop-contacts"))
    assert page.status_code == 200
    text = page.text
    assert scene.SUNRISE_REACH in text and "3 days" in text and "away until" in text
    assert "Nobody named yet" in text  # recare has no owner


def test_mia_edits_maple_and_leaves_sunrise_alone(sw, client):
    login(client, sw.mia)
    response = client.post(
        reverse("billing-function-edit", args=["claim_follow_up"]),
        {"sourcing": "vendor", "turnaround_days": "9", "how_to_reach": "x"},
    )
    assert response.status_code == 302
    assert BillingFunction.objects.get(pk=sw.maple_follow_up.pk).turnaround_days == 9
    assert BillingFunction.objects.get(pk=sw.follow_up.pk).turnaround_days == 3
