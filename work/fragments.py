"""Parts of the queue pages kept as rendered HTML, per everything they show (issue 10,
speed): the tabs (the queues the user works, the current one, their links) and the bulk
bar's choices (the owners and next actions offered). Both are the same few strings page
after page, and rendering them through the template engine cost ~0.3 ms a page (a tab, an
option, one loop iteration and a few lookups each).

``fragment(template, key, context)`` renders ``template`` with ``context()`` the first
time ``key`` is seen and keeps the HTML (bounded; emptied when a setting changes, as a
test may change the URL prefix or the templates). The key must name everything the
template writes; the templates stay the one source of the markup. Their variables have
names of their own: the test client's ``response.context`` merges every template's.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.core.signals import setting_changed
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString, mark_safe

from billing_ops.compiled import kept

TABS = "work/_queue_tabs.html"
BULK_CHOICES = "work/_bulk_choices.html"
SIZE = 1024

_kept: OrderedDict[tuple[Any, ...], SafeString] = OrderedDict()


def fragment(
    template: str, key: tuple[Any, ...], context: Callable[[], dict[str, Any]]
) -> SafeString:
    """``template`` rendered with ``context()`` (no request: a fragment uses none of its
    context processors), kept under ``key`` and the URL prefix and URLconf its links are
    reversed under."""
    full = (template, get_script_prefix(), get_urlconf(), key)
    return kept(
        _kept,
        full,
        lambda: mark_safe(render_to_string(template, context())),  # noqa: S308  (autoescaped)
        SIZE,
    )


def tabs(queue_links: list[tuple[Any, str]], current: str, can_see_owners: bool) -> SafeString:
    """The queue pages' tabs: My day, each queue the user works, "By owner", "My
    throughput"."""
    key = (tuple((q.slug, str(q.title), href) for q, href in queue_links), current, can_see_owners)
    return fragment(
        TABS,
        key,
        lambda: {
            "tab_links": queue_links,
            "tab_current": current,
            "tab_owners": can_see_owners,
        },
    )


def bulk_choices(owners: list[Any], next_actions: list[tuple[str, str]]) -> SafeString:
    """The bulk bar's owner and next-action lists."""
    shown = tuple((u.pk, u.get_full_name() or u.username) for u in owners)
    actions = tuple((value, str(label)) for value, label in next_actions)
    return fragment(
        BULK_CHOICES,
        (shown, actions),
        lambda: {
            "bar_owners": [{"pk": pk, "name": name} for pk, name in shown],
            "bar_actions": actions,
        },
    )


def clear(**_kwargs: object) -> None:
    _kept.clear()


setting_changed.connect(clear, dispatch_uid="work.fragments.clear")
