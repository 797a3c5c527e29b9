"""A reusable permission matrix: every page and endpoint, run as anonymous, as each role,
as vendor staff with and without the service area, and as a user of the other practice.

Usage in a test module::

    class TestPatientPages(PermissionMatrixMixin):
        endpoints = [
            Endpoint("patient detail", "get", lambda w: f"/patients/{w.sunrise_patient.pk}/",
                     SUNRISE_STAFF, route="patient-detail"),
        ]

Allowed personas must get the success status (and, for lists, see the Sunrise marker);
everybody else gets ``denied_status`` (404 for an object: missing and forbidden look the
same), or — for a list — 404 or a page without the marker; anonymous users are sent to sign
in (pages) or get 401/403 (API).

Writes (POST/PUT/PATCH/DELETE) check their effect, not only the status: ``done`` says
whether the intended change is there; it must be false before the request, true
afterwards for allowed personas, and for everybody else (anonymous included) not one row
of the project's tables may change.

``route`` names the URLconf entry an endpoint exercises (see ``route_key``): the test
checks the URL resolves to it, and ``tests/test_route_coverage.py`` fails for any route
(and method) that no endpoint names and that is not exempted there.

Each matrix class builds the ``world`` of ``tests/conftest.py`` once (plus its
``extend_world``), and every test runs in its own transaction inside that one, rolled back
afterwards, so a persona's write never leaks into the next persona's test.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.signals import request_finished
from django.db import close_old_connections, connection, transaction
from django.test import Client
from django.urls import ResolverMatch, resolve

PERSONAS = ["anonymous", "sam", "fran", "bill", "vera", "vic", "val", "mia"]
SUNRISE_STAFF = frozenset({"sam", "fran", "bill", "vera", "vic", "val"})
SIGNED_IN = SUNRISE_STAFF | {"mia"}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


@dataclass(frozen=True)
class Case:
    """One run of the matrix: the world, who asks (``user`` None: anonymous) and their
    client (signed in, current practice Sunrise)."""

    world: Any
    persona: str
    user: Any
    client: Client


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
    # The URLconf entry exercised: its name, "api:<name>" under /api/ (see route_key).
    route: str | None = None
    # What personas outside ``allowed`` get: 404 for objects; 400 for a create naming a
    # practice they cannot write to; a redirect back for a form that reports its errors.
    # A mapping gives some personas their own status (the others get 404).
    denied_status: int | Mapping[str, int] = 404
    # Send ``data`` as multipart (file uploads), also to the API.
    multipart: bool = False
    # Writes: put the world in the state the request acts on for this persona (e.g. the
    # claim they release is held by them), before anything is measured.
    arrange: Callable[[Case], None] | None = None
    # Writes: whether the intended change is there (the note exists, the claim is released).
    done: Callable[[Case], bool] | None = None

    @property
    def writes(self) -> bool:
        return self.method in WRITE_METHODS

    def refusal(self, persona: str) -> int:
        """The status a persona outside ``allowed`` gets."""
        if isinstance(self.denied_status, int):
            return self.denied_status
        return self.denied_status.get(persona, 404)


def route_key(match: ResolverMatch) -> str:
    """The key of a resolved route in the matrix (see ``key_of``)."""
    return key_of(match.route, match.url_name)


def key_of(route: str, name: str | None) -> str:
    """A route's key: its name ("api:" + name for routes under /api/, where the router
    reuses page names such as "patient-list"), else its pattern. Names survive a view
    moving to another app; patterns do not."""
    key = name or route
    return f"api:{key}" if route.startswith("api/") else key


def _api_ids(response: Any) -> set[int]:
    body = json.loads(response.content)
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row["id"] for row in rows}


def _project_tables() -> list[str]:
    base = Path(settings.BASE_DIR).resolve()
    tables = [get_user_model()._meta.db_table]
    for model in apps.get_models():
        path = Path(model._meta.app_config.path).resolve()
        if not path.is_relative_to(base) or ".venv" in path.parts:
            continue
        if model._meta.managed and not model._meta.proxy:
            tables.append(model._meta.db_table)
    return sorted(set(tables))


def database_fingerprint() -> dict[str, str]:
    """table -> digest of all its rows, for every table of the project's apps and users
    (one query): equal fingerprints mean nothing was inserted, changed or deleted."""
    quote = connection.ops.quote_name
    parts = [
        f"SELECT '{table}', md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
        f"FROM {quote(table)} AS t"
        for table in _project_tables()
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        return dict(cursor.fetchall())


def _close_streaming(response: Any) -> None:
    """Close a file download as the test client closes other responses: without the
    request_finished handler that would drop the connection (and the class's transaction)."""
    if not response.streaming:
        return
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def _build_world() -> Any:
    # The conftest fixture's own body, so the shared world is exactly the usual one.
    from tests import conftest

    return conftest.world.__wrapped__(None)


class PermissionMatrixMixin:
    endpoints: list[Endpoint] = []

    @classmethod
    def extend_world(cls, world: Any) -> None:
        """Add what this class's endpoints act on (built once per class)."""

    @pytest.fixture(scope="class")
    @classmethod
    def _matrix_world(cls, django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
        with django_db_blocker.unblock(), transaction.atomic():
            world = _build_world()
            cls.extend_world(world)
            yield world
            transaction.set_rollback(True)

    @pytest.fixture
    def world(self, _matrix_world: Any, db: Any) -> Any:
        """The class's world; ``db`` wraps this test in a transaction that is rolled back."""
        return _matrix_world

    def test_permission_matrix(self, world: Any, client_for: Any, endpoint: Endpoint, persona: str):
        user = None if persona == "anonymous" else world.users[persona]
        client = client_for(user)
        if user is not None:
            session = client.session
            session["practice_id"] = world.sunrise.pk
            session.save()
        case = Case(world, persona, user, client)
        allowed = user is not None and persona in endpoint.allowed
        if endpoint.arrange is not None:
            endpoint.arrange(case)
        url = endpoint.url(world)
        if endpoint.route is not None:
            assert route_key(resolve(url.split("?")[0])) == endpoint.route, url
        if endpoint.done is not None:
            assert not endpoint.done(case), "the effect is there before the request"
        before = database_fingerprint() if endpoint.writes and not allowed else None

        request = getattr(client, endpoint.method)
        kwargs: dict[str, Any] = {}
        if endpoint.method in ("post", "patch", "put"):
            kwargs = {"data": endpoint.data(world)}
            if endpoint.api and not endpoint.multipart:
                kwargs["content_type"] = "application/json"
        response = request(url, **kwargs)
        _close_streaming(response)

        self._check_response(world, endpoint, persona, allowed, response)
        if not endpoint.writes:
            return
        if allowed:
            if endpoint.done is not None:
                assert endpoint.done(case), (persona, "the change is not there")
            return
        changed = sorted(t for t, digest in database_fingerprint().items() if digest != before[t])
        assert not changed, (persona, "changed", changed)
        if endpoint.done is not None:
            assert not endpoint.done(case), (persona, "made the change")

    @staticmethod
    def _check_response(
        world: Any, endpoint: Endpoint, persona: str, allowed: bool, response: Any
    ) -> None:
        if persona == "anonymous":
            if endpoint.api:
                assert response.status_code in (401, 403), response.status_code
            else:
                assert response.status_code == 302, response.status_code
                assert response["Location"].startswith("/account/login/")
            return
        if endpoint.marker is None:
            expected = endpoint.ok_status if allowed else endpoint.refusal(persona)
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


def matrix_classes() -> list[type[PermissionMatrixMixin]]:
    """Every matrix class of the suite (importing the test modules that define one)."""
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("test_*.py")):
        if "(PermissionMatrixMixin)" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(root.parent).with_suffix("").parts
            importlib.import_module(".".join(parts))
    found: list[type[PermissionMatrixMixin]] = []
    pending = list(PermissionMatrixMixin.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: (c.__module__, c.__qualname__))
