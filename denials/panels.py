"""The claim page's Denials panel (registered with ``claims.panels``), and the hook by which
apps above denials (remittances) add panels to the denial page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import connections, router
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from billing_ops.access import visible_practice_ids
from billing_ops.bulk import column_sql
from denials import codes
from denials.models import Denial
from practices import permissions as perms

CLAIM_PANEL = "denials/claim_panel.html"

if TYPE_CHECKING:
    from django.http import HttpRequest

    from claims.models import Claim


def claim_denials(request: HttpRequest, claim: Claim, *, plain: bool = False) -> str:
    """The claim's denials the user may work, or "" when it has none.

    The ids are read by one plain statement (issue 10, speed: most claims have no denial,
    and the ORM's compile of the scoped, joined query was the panel's cost), the rows only
    when there are some; the template is rendered without the request's context processors
    (it uses none). ``plain=True`` is the scoped ORM query and the request context, as
    before; ``tests/denials/test_claim_panel_fast.py`` compares both."""
    if plain or connections[router.db_for_read(Denial)].vendor != "postgresql":
        # (``= ANY(array)`` below is PostgreSQL's: SQLite, for `make run`, reads this way.)
        rows = list(
            Denial.objects.visible_to(request.user, perms.WORK_CLAIMS)
            .filter(claim_id=claim.pk)
            .select_related("owner", "line")
            .order_by("-received_on", "-pk")
        )
    else:
        rows = _claim_rows(request.user, claim.pk)
    if not rows:
        return ""
    labelled = [(denial, codes.carc_label(denial.carc)) for denial in rows]
    context = {"rows": labelled}
    if plain:
        return render_to_string(CLAIM_PANEL, context, request=request)
    return render_to_string(CLAIM_PANEL, context)


def _claim_rows(user: Any, claim_id: int) -> list[Denial]:
    """``Denial.objects.visible_to(user, WORK_CLAIMS).filter(claim_id=claim_id)`` in the
    panel's order (``-received_on``, ``-pk``)."""
    practice_ids = visible_practice_ids(user, perms.WORK_CLAIMS)
    if not practice_ids:
        return []
    meta = Denial._meta
    alias = router.db_for_read(Denial)
    quote = connections[alias].ops.quote_name

    def col(name: str) -> str:
        return column_sql(Denial, name, using=alias)

    sql = (
        f"SELECT {col('id')} FROM {quote(meta.db_table)} WHERE {col('claim')} = %s "
        f"AND {col('practice')} = ANY(%s) ORDER BY {col('received_on')} DESC, {col('id')} DESC"
    )
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [claim_id, sorted(practice_ids)])
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return []
    found = Denial.objects.select_related("owner", "line").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


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
