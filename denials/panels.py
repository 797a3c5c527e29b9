"""The claim page's Denials panel (registered with ``claims.panels``), and the hook by which
apps above denials (remittances) add panels to the denial page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from denials import codes
from denials.models import Denial
from practices import permissions as perms

if TYPE_CHECKING:
    from django.http import HttpRequest

    from claims.models import Claim


def claim_denials(request: HttpRequest, claim: Claim) -> str:
    """The claim's denials the user may work, or "" when it has none."""
    rows = list(
        Denial.objects.visible_to(request.user, perms.WORK_CLAIMS)
        .filter(claim_id=claim.pk)
        .select_related("owner", "line")
        .order_by("-received_on", "-pk")
    )
    if not rows:
        return ""
    labelled = [(denial, codes.carc_label(denial.carc)) for denial in rows]
    return render_to_string("denials/claim_panel.html", {"rows": labelled}, request=request)


# --- panels on the denial page, from apps above denials (ar: the remittance lines) --------

# (request, denial) -> HTML of a rendered (autoescaped) template, or "" for nothing.
DenialPanel = Callable[["HttpRequest", "Denial"], str]
_denial_panels: dict[str, tuple[int, DenialPanel]] = {}


def register_denial_panel(key: str, panel: DenialPanel, order: int = 100) -> None:
    """Add (or replace, by key) a panel of the denial page; called from an AppConfig.ready."""
    _denial_panels[key] = (order, panel)


def render_denial_panels(request: HttpRequest, denial: Denial) -> SafeString:
    """Every registered panel's HTML for this denial, in order."""
    parts = [
        panel(request, denial)
        for _order, panel in sorted(_denial_panels.values(), key=lambda e: e[0])
    ]
    return mark_safe("".join(part for part in parts if part))  # noqa: S308  (escaped templates)
