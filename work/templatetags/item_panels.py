"""``{% item_panels "<item type key>" item %}``: the panels other apps registered with
``work.panels`` for a work item's page (escalations with their answers, ...)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from work import panels

register = template.Library()


@register.simple_tag(takes_context=True)
def item_panels(context: Any, item_type: str, item: Any) -> SafeString:
    request = context.get("request")
    if request is None or item is None:
        return SafeString("")
    return panels.render(request, item_type, item)
