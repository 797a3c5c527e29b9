"""``{% static %}`` and ``{% kept_url %}`` whose answers are kept for the process: what
``base.html`` writes on every page (five static files, five links without arguments).

Django's ``{% static %}`` asks the static files storage on every call and ``{% url %}``
reverses on every call (~25-45 µs each: name cleaning, the manifest lookup in production,
URL joining, the resolver's reverse dictionary), ~0.3 ms of every page (issue 10). Neither
answer changes while the process runs: the kept ones are dropped when a test changes a
setting (``setting_changed``), links are kept per URL prefix and URLconf, and at most
``MAX_KEPT`` of each are kept.
"""

from __future__ import annotations

from collections.abc import Callable

from django import template
from django.core.signals import setting_changed
from django.templatetags.static import static as storage_url
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

_static: dict[str, str] = {}
_links: dict[tuple[str, str, object], str] = {}
# A bound on what is kept (a prefix sent by a proxy is per request): past it, start over.
MAX_KEPT = 256


@register.simple_tag
def static(path: str) -> str:
    """``{% static path %}``: the same URL, asked of the storage once per path."""
    return _kept(_static, path, lambda: storage_url(path))


@register.simple_tag
def kept_url(name: str) -> str:
    """``{% url name %}`` of a URL without arguments, reversed once per name and prefix."""
    return _kept(_links, (name, get_script_prefix(), get_urlconf()), lambda: reverse(name))


def _kept[K](cache: dict[K, str], key: K, answer: Callable[[], str]) -> str:
    url = cache.get(key)
    if url is None:
        if len(cache) >= MAX_KEPT:
            cache.clear()
        url = cache[key] = answer()
    return url


def _forget(**_kwargs: object) -> None:
    _static.clear()
    _links.clear()


setting_changed.connect(_forget, dispatch_uid="practices.templatetags.kept")
