"""The queue pages' tabs (issue 10, speed): the queues a user works at the current
practice, one permission check per item type's permission, and their links reversed once
per process; the same tabs, in the same markup, as the per-queue checks and ``{% url %}``
tags they replace."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse

from billing_ops.access import request_access
from work import views
from work.registry import registry

OLD_TABS = (
    '{% for q in queues %}<li class="nav-item"><a class="nav-link py-1{% if q.slug == '
    'queue.slug %} active{% endif %}" href="{% url \'queue\' q.slug %}">{{ q.title }}</a>'
    "</li>{% endfor %}"
)
NEW_TABS = (
    '{% for q, href in queue_links %}<li class="nav-item"><a class="nav-link py-1{% if '
    'q.slug == queue.slug %} active{% endif %}" href="{{ href }}">{{ q.title }}</a>'
    "</li>{% endfor %}"
)


@pytest.mark.parametrize("who", ["sam", "fran", "bill", "mia", "vera", "vic", "val"])
def test_tabs_are_the_per_queue_checks_and_url_tags(world: Any, who: str) -> None:
    user = getattr(world, who)
    request = RequestFactory().get("/queues/payer-ar/")
    request.user = user
    request.session = {}  # type: ignore[assignment]
    access = request_access(request)
    expected = [q for q in registry.queues() if access.has(registry.type(q.item_type).permission)]
    queues = views._visible_queues(request)
    assert queues == expected
    engine = engines["django"]
    for current in [*registry.queues(), None]:
        context = {
            "queues": queues,
            "queue_links": views._queue_links(queues),
            "queue": {"slug": current.slug if current else "my-day"},
        }
        old = engine.from_string(OLD_TABS).render(context)
        assert engine.from_string(NEW_TABS).render(context) == old
        for q in queues:
            assert f'href="{reverse("queue", args=[q.slug])}">' in old


def test_the_queue_page_shows_its_tabs(world: Any, client_for: Any) -> None:
    html = client_for(world.bill).get("/queues/payer-ar/").content.decode()
    for slug in ("payer-ar", "rejections", "unassigned", "all-open"):
        assert f'href="{reverse("queue", args=[slug])}">{registry.queue(slug).title}<' in html
    assert 'class="nav-link py-1 active" href="/queues/payer-ar/">Payer AR<' in html
