"""The Escalations panel: on the claim page (registered with ``claims.panels``) and on the
page of every other work item that renders ``work.panels`` (a denial, an eligibility check,
a patient account): the item's escalations the user may read, with their answers, and the
form to raise one (for those who may work the item)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string

from billing_ops.access import has_perm
from practices import permissions as perms
from sops.choices import BillingFunctionKind
from sops.escalation_services import ESCALATION_KEY, readable
from work.registry import registry

if TYPE_CHECKING:
    from django.http import HttpRequest

    from claims.models import Claim


def claim_escalations(request: HttpRequest, claim: Claim) -> str:
    """Escalations about this claim and the raise form (for those who work claims)."""
    rows = list(
        readable(request.user)
        .filter(subject_type="claim", subject_id=claim.pk)
        .select_related("owner", "answered_by", "function")
        .order_by("-raised_at", "-pk")
    )
    can_raise = has_perm(request.user, perms.WORK_CLAIMS, claim.practice_id)
    if not rows and not can_raise:
        return ""
    context = {
        "rows": rows,
        "claim": claim,
        "can_raise": can_raise,
        "kinds": BillingFunctionKind.choices,
    }
    return render_to_string("sops/claim_panel.html", context, request=request)


def item_escalations(request: HttpRequest, item_type_key: str, item: Any) -> str:
    """Escalations about any other work item (registered with ``work.panels``)."""
    try:
        item_type = registry.type(item_type_key)
    except KeyError:
        return ""
    if item_type.key == ESCALATION_KEY or not isinstance(item, item_type.model):
        return ""
    rows = list(
        readable(request.user)
        .filter(subject_type=item_type.key, subject_id=item.pk)
        .select_related("owner", "answered_by", "function")
        .order_by("-raised_at", "-pk")
    )
    can_raise = has_perm(request.user, item_type.permission, item.practice_id)
    if not rows and not can_raise:
        return ""
    context = {
        "rows": rows,
        "subject_type": item_type.key,
        "subject_id": item.pk,
        "default_kind": item_type.billing_function or BillingFunctionKind.CLAIM_FOLLOW_UP,
        "can_raise": can_raise,
        "kinds": BillingFunctionKind.choices,
    }
    return render_to_string("sops/item_panel.html", context, request=request)
