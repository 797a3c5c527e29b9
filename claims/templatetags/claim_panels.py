"""``{% claim_panels claim %}``: the panels apps above claims registered (``claims.panels``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from claims import panels

register = template.Library()


@register.simple_tag(takes_context=True)
def claim_panels(context: dict[str, Any], claim: Any) -> SafeString:
    request = context.get("request")
    if request is None:
        return mark_safe("")
    return mark_safe("".join(panels.render(request, claim)))  # noqa: S308  (escaped templates)
