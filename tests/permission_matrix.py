"""A reusable permission matrix: every page and endpoint, run as anonymous, as each role,
as vendor staff with and without the service area, and as a user of the other practice.

Usage in a test module::

    ENDPOINTS = [Endpoint("patient detail", "get", lambda w: f"/patients/{w.sunrise_patient.pk}/",
                          allowed={"sam", "fran", ...})]

    class TestPatientPages(PermissionMatrixMixin):
        endpoints = ENDPOINTS

Allowed personas must get the success status (and, for lists, see the Sunrise marker);
everybody else gets 404 for an object (missing and forbidden look the same), or — for a
list — 404 or a page without the marker; anonymous users are sent to sign in (pages) or get
401/403 (API).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

PERSONAS = ["anonymous", "sam", "fran", "bill", "vera", "vic", "val", "mia"]
SUNRISE_STAFF = frozenset({"sam", "fran", "bill", "vera", "vic", "val"})


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    url: Callable[[Any], str]
    allowed: frozenset[str]
    api: bool = False
    ok_status: int = 200
    # For lists: text (page) or object id (API) that only allowed personas may see.
    marker: Callable[[Any], str | int] | None = None
    data: Callable[[Any], dict[str, Any]] = field(default=lambda w: {})


def _api_ids(response: Any) -> set[int]:
    body = json.loads(response.content)
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row["id"] for row in rows}


class PermissionMatrixMixin:
    endpoints: list[Endpoint] = []

    def test_permission_matrix(self, world: Any, client_for: Any, endpoint: Endpoint, persona: str):
        user = None if persona == "anonymous" else world.users[persona]
        client = client_for(user)
        if user is not None:
            session = client.session
            session["practice_id"] = world.sunrise.pk
            session.save()
        request = getattr(client, endpoint.method)
        kwargs: dict[str, Any] = {}
        if endpoint.method in ("post", "patch", "put"):
            kwargs = {"data": endpoint.data(world)}
            if endpoint.api:
                kwargs["content_type"] = "application/json"
        response = request(endpoint.url(world), **kwargs)

        if persona == "anonymous":
            if endpoint.api:
                assert response.status_code in (401, 403), response.status_code
            else:
                assert response.status_code == 302
                assert response["Location"].startswith("/account/login/")
            return

        allowed = persona in endpoint.allowed
        if endpoint.marker is None:
            expected = endpoint.ok_status if allowed else 404
            assert response.status_code == expected, (persona, response.status_code)
            return
        marker = endpoint.marker(world)
        if not allowed and response.status_code == 404:
            return  # a list page of a scope the persona lacks altogether
        assert response.status_code == endpoint.ok_status, (persona, response.status_code)
        seen = marker in _api_ids(response) if endpoint.api else str(marker) in response.text
        assert seen is allowed, (persona, "sees" if seen else "does not see", marker)


def pytest_generate_tests_for_matrix(metafunc: Any) -> None:
    """Hook body: parametrize test_permission_matrix over endpoints x personas."""
    if metafunc.function.__name__ == "test_permission_matrix":
        endpoints = metafunc.cls.endpoints
        metafunc.parametrize(
            ("endpoint", "persona"),
            [pytest.param(e, p, id=f"{e.name}-{p}") for e in endpoints for p in PERSONAS],
        )
