"""``{% plan_card account %}``: the payment plan card of the account page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from ar.plan_views import account_card

register = template.Library()


@register.simple_tag(takes_context=True)
def plan_card(context: dict[str, Any], account: Any) -> SafeString:
    """The rendered (autoescaped) card, or nothing for people who do not work balances."""
    return mark_safe(account_card(context["request"], account))  # noqa: S308
