"""Nobody revokes their own access: the rule is the revoke services', and the access page
shows the service's refusal (same message and redirect as every revoke)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError

from billing_ops.access import has_perm
from practices import permissions as perms
from practices import services
from practices.models import Assignment, Membership

SELF_REVOKE = "You cannot revoke your own access."


def _sams_membership(world: Any) -> Membership:
    return Membership.objects.select_related("practice", "user").get(
        user=world.sam, practice=world.sunrise
    )


def _vals_assignment(world: Any) -> Assignment:
    return Assignment.objects.select_related("engagement__practice", "staff__user").get(
        staff__user=world.val, engagement__practice=world.sunrise
    )


def _messages(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- the service ------------------------------------------------------------------------


def test_a_manager_cannot_revoke_their_own_membership(world):
    membership = _sams_membership(world)
    history_rows = membership.history.count()

    with pytest.raises(ValidationError) as exc:
        services.membership_revoke(actor=world.sam, membership=membership)

    assert exc.value.messages == [SELF_REVOKE]
    membership.refresh_from_db()
    assert membership.is_active
    assert membership.history.count() == history_rows
    assert has_perm(world.sam, perms.MANAGE_ACCESS, world.sunrise.pk)


def test_an_administrator_cannot_revoke_their_own_membership_either(world, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    own = services.membership_set(
        actor=None, user=root, practice=world.sunrise, role="practice_manager"
    )

    with pytest.raises(ValidationError) as exc:
        services.membership_revoke(actor=root, membership=own)

    assert exc.value.messages == [SELF_REVOKE]
    own.refresh_from_db()
    assert own.is_active


def test_another_manager_or_the_system_may_revoke_it(world, django_user_model):
    membership = _sams_membership(world)
    root = django_user_model.objects.create_superuser("root", "root@example.com", "x")

    services.membership_revoke(actor=root, membership=membership)

    membership.refresh_from_db()
    assert not membership.is_active
    assert not has_perm(world.sam, perms.VIEW_PRACTICE, world.sunrise.pk)
    # The system (actor None: a nightly job, a migration) is nobody's self.
    bills = Membership.objects.get(user=world.bill, practice=world.sunrise)
    services.membership_revoke(actor=None, membership=bills)
    bills.refresh_from_db()
    assert not bills.is_active


def test_nobody_revokes_their_own_assignment(world):
    # Vendor staff never manage access, so only an administrator who is also vendor
    # staff could reach the rule; for anybody else the permission check refuses first.
    assignment = _vals_assignment(world)
    with pytest.raises(PermissionDenied):
        services.assignment_revoke(actor=world.val, assignment=assignment)
    world.val.is_superuser = True
    world.val.save(update_fields=["is_superuser"])

    with pytest.raises(ValidationError) as exc:
        services.assignment_revoke(actor=world.val, assignment=assignment)

    assert exc.value.messages == [SELF_REVOKE]
    assignment.refresh_from_db()
    assert assignment.revoked_at is None


def test_a_manager_may_revoke_somebody_elses_assignment(world):
    assignment = _vals_assignment(world)

    services.assignment_revoke(actor=world.sam, assignment=assignment)

    assignment.refresh_from_db()
    assert assignment.revoked_at is not None


# --- the page shows the service's refusal -------------------------------------------------


def test_the_page_refuses_a_self_revoke_with_the_services_message(world, client_for):
    own = _sams_membership(world)

    response = client_for(world.sam).post(f"/access/memberships/{own.pk}/revoke/")

    assert response.status_code == 302
    assert response.url == "/access/"
    assert _messages(response) == [SELF_REVOKE]
    own.refresh_from_db()
    assert own.is_active


def test_the_page_reports_whatever_the_service_refuses(world, client_for, monkeypatch):
    # The page holds no rule of its own: any refusal of the service is shown as it is.
    def refuse(**kwargs: Any) -> None:
        raise ValidationError("Not today: the practice is being audited.")

    monkeypatch.setattr(services, "assignment_revoke", refuse)
    assignment = Assignment.objects.get(staff__user=world.vera, engagement__practice=world.sunrise)

    response = client_for(world.sam).post(f"/access/assignments/{assignment.pk}/revoke/")

    assert response.status_code == 302
    assert response.url == "/access/"
    assert _messages(response) == ["Not today: the practice is being audited."]
    assignment.refresh_from_db()
    assert assignment.revoked_at is None


def test_a_manager_of_another_practice_gets_404(world, client_for):
    own = _sams_membership(world)

    response = client_for(world.mia).post(f"/access/memberships/{own.pk}/revoke/")

    assert response.status_code == 404
    own.refresh_from_db()
    assert own.is_active


def test_anonymous_is_sent_to_sign_in(world, client):
    own = _sams_membership(world)

    response = client.post(f"/access/memberships/{own.pk}/revoke/")

    assert response.status_code == 302
    assert response.url.startswith("/account/login/")
    own.refresh_from_db()
    assert own.is_active
