"""The sign-in backend: Django's ModelBackend, loading the user with their vendor-staff row.

The user is loaded on every request; the second-factor rule (``selectors.mfa_required``)
asks whether they are vendor staff, so the join saves that query on every request.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UserBackend(ModelBackend):
    """ModelBackend whose per-request user load joins ``vendor_staff``."""

    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        user = user_model._default_manager.select_related("vendor_staff").filter(pk=user_id)
        found = user.first()
        return found if found is not None and self.user_can_authenticate(found) else None
