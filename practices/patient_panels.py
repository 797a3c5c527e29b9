"""Panels on the patient page from apps above practices (patient balances, ...), and the
patients' open balances for lists in apps that cannot import the ledger (the day sheet).

Practices may not import those apps, so they register here (in their ``AppConfig.ready``)
a callable ``(request, patient) -> HTML``; the patient page renders every panel in order
(``{% patient_panels patient %}``). A panel checks its own permission and returns "" when
the user may not see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from django.http import HttpRequest

    from practices.models import Patient

Panel = Callable[["HttpRequest", "Patient"], str]

_panels: dict[str, tuple[int, Panel]] = {}


def register(key: str, panel: Panel, order: int = 100) -> None:
    """Add (or replace, by key) a panel of the patient page."""
    _panels[key] = (order, panel)


def render(request: HttpRequest, patient: Patient) -> SafeString:
    """Every registered panel's HTML for this patient (rendered templates: already escaped)."""
    parts = []
    for _order, panel in sorted(_panels.values(), key=lambda entry: entry[0]):
        html = panel(request, patient)
        if html:
            parts.append(html)
    return mark_safe("".join(parts))  # noqa: S308  (rendered, autoescaped templates)


# (user, patient ids) -> {patient id: balance} for the patients whose balance the user may
# see (the ledger's app applies its own permission); registered by the ledger's app.
BalanceLookup = Callable[[Any, Iterable[int]], dict[int, Decimal]]
_balances: list[BalanceLookup] = []


def register_balances(lookup: BalanceLookup) -> None:
    """Answer ``open_balances`` (one lookup; registering again replaces it)."""
    _balances[:] = [lookup]


def open_balances(user: Any, patient_ids: Iterable[int]) -> dict[int, Decimal] | None:
    """Balances of the given patients that ``user`` may see (absent: none or not visible);
    None when no ledger is installed."""
    if not _balances:
        return None
    return _balances[0](user, patient_ids)
