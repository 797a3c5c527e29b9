"""Django's user admin re-derives access on save (practices/admin.py ``UserAdmin``): clearing
"Active" there takes the user's practice permissions and API tokens in the same request, as
``practices.services.user_set_active`` does, instead of leaving them until the next sync."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from billing_ops.access import has_perm
from practices import permissions as perms
from practices import tokens
from practices.models import ApiToken, PracticeUserPermission

User = get_user_model()


def _change_form(user: Any, **changes: Any) -> dict[str, Any]:
    """What the admin's user change form posts for ``user``, with ``changes`` applied."""
    fields = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        **changes,
    }
    data = {k: v for k, v in fields.items() if not isinstance(v, bool)}
    data.update({k: "on" for k, v in fields.items() if v is True})
    data["last_login_0"] = data["last_login_1"] = ""
    data["date_joined_0"] = user.date_joined.date().isoformat()
    data["date_joined_1"] = user.date_joined.time().isoformat(timespec="seconds")
    return data


def _grants(user: Any) -> set[tuple[int, int]]:
    rows = PracticeUserPermission.objects.filter(user=user)
    return set(rows.values_list("content_object_id", "permission_id"))


def test_deactivating_in_the_admin_takes_permissions_and_tokens_at_once(world, root):
    bill = world.users["bill"]
    _record, _plain = tokens.service_token_issue(user=bill)
    assert PracticeUserPermission.objects.filter(user=bill).exists()

    response = root.post(f"/admin/auth/user/{bill.pk}/change/", _change_form(bill, is_active=False))

    assert response.status_code == 302, response.content[:2000]
    bill.refresh_from_db()
    assert not bill.is_active
    assert not PracticeUserPermission.objects.filter(user=bill).exists()
    assert not has_perm(bill, perms.VIEW_PRACTICE, world.sunrise.pk)
    assert not tokens.live_tokens(bill).exists()
    revoked = ApiToken.objects.get(user=bill)
    assert revoked.revoked_at is not None
    assert revoked.revoke_reason == "The account has no access left."
    # The other people's access is untouched.
    assert has_perm(world.users["sam"], perms.VIEW_PRACTICE, world.sunrise.pk)


def test_saving_without_a_change_keeps_access_and_reactivating_restores_it(world, root):
    fran = world.users["fran"]
    before = _grants(fran)

    assert root.post(f"/admin/auth/user/{fran.pk}/change/", _change_form(fran)).status_code == 302
    assert _grants(fran) == before

    root.post(f"/admin/auth/user/{fran.pk}/change/", _change_form(fran, is_active=False))
    assert not PracticeUserPermission.objects.filter(user=fran).exists()
    fran.refresh_from_db()
    root.post(f"/admin/auth/user/{fran.pk}/change/", _change_form(fran, is_active=True))

    assert _grants(fran) == before
    fran.refresh_from_db()
    assert has_perm(fran, perms.VIEW_PRACTICE, world.sunrise.pk)


def test_editing_a_superusers_name_keeps_their_tokens(world, root, django_user_model):
    # A superuser holds no practice permissions: a sync on every save would revoke the
    # tokens of an administrator whose name was corrected.
    admin = django_user_model.objects.create_superuser("ops", "ops@example.com", "x")
    record, _plain = tokens.service_token_issue(user=admin)

    response = root.post(
        f"/admin/auth/user/{admin.pk}/change/", _change_form(admin, first_name="Olive")
    )

    assert response.status_code == 302, response.content[:2000]
    admin.refresh_from_db()
    assert admin.first_name == "Olive"
    record.refresh_from_db()
    assert record.revoked_at is None
    assert tokens.live_tokens(admin).exists()
