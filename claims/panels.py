"""Panels on the claim page from apps above claims (denials, remittances, ...).

Claims may not import those apps, so they register here (in their ``AppConfig.ready``)
a callable ``(request, claim) -> HTML``; the claim page renders every panel in order.
A panel shows only what its own scoping lets the user see, and returns "" for nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from django.http import HttpRequest

    from claims.models import Claim

Panel = Callable[["HttpRequest", "Claim"], str]

_panels: dict[str, tuple[int, Panel]] = {}


def register(key: str, panel: Panel, order: int = 100) -> None:
    """Add (or replace, by key) a panel of the claim page."""
    _panels[key] = (order, panel)


def render(request: HttpRequest, claim: Claim) -> list[SafeString]:
    """Every registered panel's HTML for this claim (rendered templates: already escaped)."""
    parts = []
    for _order, panel in sorted(_panels.values(), key=lambda entry: entry[0]):
        html = panel(request, claim)
        if html:
            parts.append(mark_safe(html))  # noqa: S308  (a rendered, autoescaped template)
    return parts
