"""Every route of the URLconf has a policy in the permission matrix, or a reason here.

A route is covered when a matrix endpoint (``tests/permission_matrix.py``) names it with
``route=``; for views that declare their methods (DRF viewsets, class-based views) every
method needs one. A route added without a policy fails ``test_every_route_has_a_policy``
by name, until an endpoint or an exemption below says who may use it.

Not walked at all: ``admin/`` (Django's admin, for staff and superusers, checks its own
permissions and is not practice-scoped). The DRF router's format-suffix variants
(``patients.json``) share their route's name and view, so they are covered with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.permission_matrix import key_of, matrix_classes

SKIPPED_PREFIXES = ("admin/",)

# route key -> why it is outside the matrix. Each of these holds no practice data.
EXEMPT = {
    "login": "The sign-in page: anonymous users must reach it (tests/practices/test_auth.py).",
    "logout": "Ends the caller's own session, whoever they are.",
    "mfa-setup": "The caller's own second factor (tests/practices/test_auth.py).",
    "mfa-verify": "The caller's own second factor (tests/practices/test_auth.py).",
    "invite-accept": "The invitation link: answers only to its one-time token, before any "
    "account exists (tests/practices/test_people_admin.py).",
    "mfa-recovery-codes": "The caller's own recovery codes (tests/practices/test_recovery.py).",
    "password_reset": "Asks for a reset e-mail, anonymously (tests/practices/test_recovery.py).",
    "password_reset_done": "A static 'check your e-mail' page.",
    "password_reset_confirm": "The e-mailed token only (tests/practices/test_recovery.py).",
    "password_reset_complete": "A static 'password set, now sign in' page.",
    "api:api-schema": "The OpenAPI description for anyone signed in: endpoint shapes, no rows.",
    "api:api-docs": "Swagger UI over the schema, for anyone signed in: no rows.",
    "api:api-root": "DRF's index of the router's URLs, for anyone signed in: links, no rows.",
}
IGNORED_METHODS = frozenset({"head", "options"})


def _join(prefix: str, part: str) -> str:
    # As Django joins a ResolverMatch.route: an included regex loses its leading "^".
    return prefix + (part[1:] if prefix and part.startswith("^") else part)


def _walk(patterns: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        route = _join(prefix, str(entry.pattern))
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        else:
            yield route, entry


def _declared_methods(callback: Any) -> frozenset[str] | None:
    """The methods a view answers, when it says so; None for function views."""
    actions = getattr(callback, "actions", None)
    if actions:  # DRF adds "head" to it on the first GET
        return frozenset(actions) - IGNORED_METHODS
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is None:
        return None
    return frozenset(
        m
        for m in view_class.http_method_names
        if m not in IGNORED_METHODS and hasattr(view_class, m)
    )


def urlconf_routes() -> dict[str, frozenset[str] | None]:
    """route key -> the methods it answers (None: not declared, any one endpoint covers)."""
    routes: dict[str, frozenset[str] | None] = {}
    for route, pattern in _walk(get_resolver().url_patterns):
        key = key_of(route, pattern.name)
        methods = _declared_methods(pattern.callback)
        known = routes.get(key)
        routes[key] = methods if known is None else known | (methods or frozenset())
    return routes


def matrix_routes() -> dict[str, set[str]]:
    """route key -> the methods matrix endpoints exercise on it."""
    covered: dict[str, set[str]] = defaultdict(set)
    for cls in matrix_classes():
        for endpoint in cls.endpoints:
            if endpoint.route is not None:
                covered[endpoint.route].add(endpoint.method)
    return covered


def routes_without_policy() -> list[str]:
    covered = matrix_routes()
    missing = []
    for key, methods in sorted(urlconf_routes().items()):
        if key in EXEMPT:
            continue
        if key not in covered:
            missing.append(f"{key} (no endpoint)")
        elif methods is not None and methods - covered[key]:
            missing.append(f"{key} {'/'.join(sorted(m.upper() for m in methods - covered[key]))}")
    return missing


def test_every_route_has_a_policy():
    missing = routes_without_policy()
    assert not missing, "Routes without a policy in the permission matrix: " + ", ".join(missing)


@pytest.mark.urls("tests.workitems.urls")
def test_a_route_added_without_a_policy_is_named():
    # The test URLconf of the chores app: the project's routes plus one page of its own.
    assert routes_without_policy() == ["chore-detail (no endpoint)"]


def test_matrix_and_exemptions_name_real_routes():
    routes = urlconf_routes()
    stale = sorted((set(matrix_routes()) | set(EXEMPT)) - set(routes))
    assert not stale, f"Not in the URLconf (renamed or removed?): {', '.join(stale)}"
    both = sorted(set(matrix_routes()) & set(EXEMPT))
    assert not both, f"Both in the matrix and exempt: {', '.join(both)}"


def test_every_write_in_the_matrix_checks_its_effect():
    blind = [
        f"{cls.__qualname__}: {endpoint.name}"
        for cls in matrix_classes()
        for endpoint in cls.endpoints
        if endpoint.route is not None and endpoint.writes and endpoint.done is None
    ]
    assert not blind, f"Writes without done= (what changed?): {', '.join(blind)}"


@pytest.mark.django_db
def test_exempt_routes_are_what_they_claim(client):
    assert client.get("/account/login/").status_code == 200
    for path in ("/api/v1/", "/api/v1/schema/", "/api/v1/docs/"):
        assert client.get(path).status_code in (401, 403), path
