"""Panels on any work item's page, from apps that may not be imported by the item's app.

An escalation can be raised about any registered work item (a denial, an eligibility
check, a patient balance...), and its question and answer belong on that item's page; but
``sops`` sits beside ``denials`` and ``eligibility`` and below ``ar``, so neither side may
import the other. Apps register here, in their ``AppConfig.ready``, a callable
``(request, item_type_key, item) -> HTML`` (a rendered, autoescaped template, or "" for
nothing); item pages render every panel with ``{% item_panels "<type key>" item %}``
(``work.templatetags.item_panels``). A panel shows only what its own scoping lets the
user see. The claim page keeps its own hook (``claims.panels``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from django.http import HttpRequest

ItemPanel = Callable[["HttpRequest", str, Any], str]

_panels: dict[str, tuple[int, ItemPanel]] = {}


def register(key: str, panel: ItemPanel, order: int = 100) -> None:
    """Add (or replace, by key) a panel of every work item page."""
    _panels[key] = (order, panel)


def render(request: HttpRequest, item_type: str, item: Any) -> SafeString:
    """Every registered panel's HTML for this item, in order."""
    parts = [panel(request, item_type, item) for _o, panel in sorted(_panels.values(), key=_first)]
    return mark_safe("".join(part for part in parts if part))  # noqa: S308  (escaped templates)


def _first(entry: tuple[int, ItemPanel]) -> int:
    return entry[0]
