"""Issue 8 leftovers, point 1: an assignment that ends by date hands its person's open work
over when the end takes effect (the 15-minute job), to the successor named with the end
date, else to the billing function's owner with the managers told; and an
administrator's direct revoke is refused while the person owns open items."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from billing_ops.access import has_perm
from claims.models import Claim, ClaimActivity
from practices import people_services, services, tasks
from practices import permissions as perms
from practices.models import Assignment, Membership
from practices.stepup import SESSION_STEP_UP_AT
from sops.choices import BillingFunctionKind
from sops.models import BillingFunction
from tests import claim_factory, factories
from tests.permission_matrix import database_fingerprint
from work.choices import NotificationKind
from work.models import Notification

DAY = dt.timedelta(days=1)


def _stepped_up(client: Client) -> Client:
    session = client.session
    session[SESSION_STEP_UP_AT] = int(time.time())
    session.save()
    return client


def _vera(world: Any) -> Assignment:
    return Assignment.objects.get(staff__user=world.vera, engagement__practice=world.sunrise)


def _claims_of_vera(world: Any, count: int = 3) -> list[Claim]:
    patient = world.sunrise_patient
    coverage = patient.coverages.select_related("payer").get()
    provider = factories.ProviderFactory(practice=world.sunrise)
    return [
        claim_factory.make(
            actor=world.bill,
            patient=patient,
            coverage=coverage,
            provider=provider,
            number=f"END{n}",
            owner=world.vera,
            lines=[{"procedure_code": "D1110", "charge": Decimal("95.00")}],
        )
        for n in range(count)
    ]


def _a_day_passes(assignment: Assignment) -> None:
    """The end date (today, the earliest a service accepts) is now yesterday."""
    Assignment.objects.filter(pk=assignment.pk).update(ends_on=timezone.localdate() - DAY)


def _owners(claims: list[Claim]) -> set[Any]:
    return set(Claim.objects.filter(pk__in=[c.pk for c in claims]).values_list("owner", flat=True))


def _handover_notes() -> list[Notification]:
    return list(Notification.objects.filter(kind=NotificationKind.HANDOVER).order_by("user_id"))


# --- the people page asks for a successor with the end date --------------------------------


def test_an_end_date_asks_who_takes_the_open_work_over(world, client_for):
    claims = _claims_of_vera(world)
    vera = _vera(world)
    url = f"/people/assignments/{vera.pk}/"
    client = _stepped_up(client_for(world.sam))

    page = client.get(url)
    assert "owns 3 open items" in page.text
    choices = set(page.context["form"].fields["successor"].queryset)
    assert world.bill in choices and world.vera not in choices

    ends_on = timezone.localdate().isoformat()
    data = {"practice": world.sunrise.pk, "service_areas": ["insurance_billing"]}
    before = database_fingerprint()
    refused = client.post(url, {**data, "ends_on": ends_on})
    assert refused.status_code == 200
    assert "choose who takes them over" in refused.text
    assert database_fingerprint() == before

    done = client.post(url, {**data, "ends_on": ends_on, "successor": world.bill.pk})
    assert done.status_code == 302
    vera.refresh_from_db()
    assert (vera.ends_on, vera.successor) == (timezone.localdate(), world.bill)
    assert vera.history.latest().history_user == world.sam
    assert _owners(claims) == {world.vera.pk}  # nothing moves before the end


def test_a_successor_who_cannot_work_the_items_is_refused(world):
    _claims_of_vera(world)
    with pytest.raises(ValidationError) as refused:
        people_services.assignment_end_on(
            actor=world.sam,
            assignment=_vera(world),
            ends_on=timezone.localdate(),
            successor=world.fran,  # front desk: no claims
        )
    assert "successor" in refused.value.error_dict
    assert _vera(world).ends_on is None


# --- the job hands over when the end takes effect -----------------------------------------


def test_the_job_hands_the_work_to_the_named_successor(world, client_for):
    claims = _claims_of_vera(world)
    vera = people_services.assignment_end_on(
        actor=world.sam,
        assignment=_vera(world),
        ends_on=timezone.localdate(),
        successor=world.bill,
    )
    _a_day_passes(vera)
    activities = ClaimActivity.objects.count()

    tasks.expire_ended_assignments()

    assert _owners(claims) == {world.bill.pk}
    assert ClaimActivity.objects.count() - activities == len(claims)
    assert claims[0].history.latest().history_user is None  # the system did it
    assert not has_perm(world.vera, perms.VIEW_PRACTICE, world.sunrise.pk)
    assert client_for(world.sam).get("/queues/unassigned/").context["rows"] == []
    assert _handover_notes() == []  # named and done: nobody needs telling
    before = database_fingerprint()
    tasks.expire_ended_assignments()
    assert database_fingerprint() == before


def test_without_a_successor_the_function_owner_takes_it_and_managers_hear(world, client_for):
    claims = _claims_of_vera(world)
    BillingFunction.objects.create(
        practice=world.sunrise, kind=BillingFunctionKind.CLAIM_FOLLOW_UP, owner=world.bill
    )
    # An older row: its end date was set without a successor.
    vera = services.assignment_set(
        actor=None,
        staff=world.vera.vendor_staff,
        engagement=world.engagements["sunrise"],
        service_areas=["insurance_billing"],
        ends_on=timezone.localdate(),
    )
    _a_day_passes(vera)

    tasks.expire_ended_assignments()

    assert _owners(claims) == {world.bill.pk}
    [note] = _handover_notes()
    assert (note.user, note.practice) == (world.sam, world.sunrise)
    assert "nobody was named" in note.message and "3 claim(s) to bill" in note.message
    assert world.sunrise_patient.last_name not in note.message
    assert note.message in _seen_by(client_for(world.sam))
    tasks.expire_ended_assignments()
    assert len(_handover_notes()) == 1


def _seen_by(client: Client) -> str:
    page = client.get("/notifications/")
    assert page.status_code == 200
    return "".join(n.message for n in page.context["notifications"])


def test_a_successor_who_lost_access_falls_back_to_the_function_owner(world):
    claims = _claims_of_vera(world)
    BillingFunction.objects.create(
        practice=world.sunrise, kind=BillingFunctionKind.CLAIM_FOLLOW_UP, owner=world.val
    )
    vera = people_services.assignment_end_on(
        actor=world.sam,
        assignment=_vera(world),
        ends_on=timezone.localdate(),
        successor=world.bill,
    )
    services.membership_revoke(
        actor=world.sam, membership=Membership.objects.get(user=world.bill, practice=world.sunrise)
    )
    _a_day_passes(vera)

    tasks.expire_ended_assignments()

    assert _owners(claims) == {world.val.pk}
    [note] = _handover_notes()
    assert "bill could no longer take it over" in note.message


def test_when_nobody_can_take_it_the_managers_are_told_and_it_stays_visible(world, client_for):
    claims = _claims_of_vera(world)
    vera = services.assignment_set(
        actor=None,
        staff=world.vera.vendor_staff,
        engagement=world.engagements["sunrise"],
        service_areas=["insurance_billing"],
        ends_on=timezone.localdate(),
    )
    _a_day_passes(vera)

    tasks.expire_ended_assignments()

    assert _owners(claims) == {world.vera.pk}
    [note] = _handover_notes()
    assert "Nobody could take 3 claim(s)" in note.message
    rows = client_for(world.sam).get("/queues/unassigned/").context["rows"]
    assert len(rows) == len(claims)


# --- an administrator's direct revoke --------------------------------------------------------


@pytest.fixture
def root(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", "root@example.com", "x")


def test_an_administrators_direct_revoke_is_refused_while_items_are_open(world, root):
    claims = _claims_of_vera(world)
    before = database_fingerprint()

    with pytest.raises(ValidationError, match="owns 3 open item"):
        services.assignment_revoke(actor=root, assignment=_vera(world))
    assert database_fingerprint() == before

    moved = people_services.assignment_revoke_with_handover(
        actor=root, assignment=_vera(world), new_owner=world.bill
    )
    assert moved == 3 and _owners(claims) == {world.bill.pk}
    assert _vera(world).revoked_at is not None

    with pytest.raises(ValidationError, match="owns 3 open item"):
        services.membership_revoke(
            actor=root,
            membership=Membership.objects.get(user=world.bill, practice=world.sunrise),
        )
    assert Membership.objects.get(user=world.bill, practice=world.sunrise).is_active
    assert get_user_model().objects.filter(pk=world.bill.pk, is_active=True).exists()
