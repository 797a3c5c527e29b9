"""The sign-in backend: Django's ModelBackend, loading the user with their vendor-staff row.

The user is loaded on every request; the second-factor rule (``selectors.mfa_required``)
asks whether they are vendor staff, so the join saves that query on every request.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import QuerySet

from billing_ops.compiled import INT_MARK, CompiledRead


def _user_rows(user_id: Any) -> QuerySet[Any]:
    """What ``.first()`` of the user with their vendor-staff row asks for."""
    users = get_user_model()._default_manager.select_related("vendor_staff")
    return users.filter(pk=user_id).order_by("pk")[:1]


# Compiled once per process (issue 10, speed): the ORM's compile of this join cost four
# times the CPU of running it, on every request. Same SQL, same instances.
user_rows = CompiledRead(get_user_model, _user_rows, (INT_MARK,))


class UserBackend(ModelBackend):
    """ModelBackend whose per-request user load joins ``vendor_staff``."""

    def get_user(self, user_id: Any, *, plain: bool = False) -> Any:
        if type(user_id) is int:
            found = next(iter(user_rows(user_id, plain=plain)), None)
        else:  # a session's id as stored (a string): the ORM converts it
            found = _user_rows(user_id).first()
        return found if found is not None and self.user_can_authenticate(found) else None
