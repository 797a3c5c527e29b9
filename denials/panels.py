"""The claim page's Denials panel (registered with ``claims.panels``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string

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
