"""Fixtures shared by the practices tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def root(django_user_model: Any, client_for: Any) -> Any:
    """A signed-in client of a superuser, for the admin (a module may define its own ``root``)."""
    user = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    return client_for(user)
