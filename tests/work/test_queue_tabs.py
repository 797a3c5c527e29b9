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
from work import fragments, views
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


OLD_BAR = (
    '<select name="owner" class="form-select form-select-sm w-auto" aria-label="New owner">'
    '<option value="">Owner…</option>{% for u in bulk_owners %}<option value="{{ u.pk }}">'
    "{{ u.get_full_name|default:u.username }}</option>{% endfor %}</select>\n      "
    '<select name="next_action" class="form-select form-select-sm w-auto" '
    'aria-label="Next action"><option value="">Next action…</option>{% for value, label in '
    'next_actions %}<option value="{{ value }}">{{ label }}</option>{% endfor %}</select>'
)
OLD_UL = (
    '<ul class="nav nav-pills small">\n    <li class="nav-item"><a class="nav-link py-1{% if '
    "queue.slug == 'my-day' %} active{% endif %}\" href=\"{% url 'queue' 'my-day' %}\">My day"
    "</a></li>\n    " + NEW_TABS + '\n    {% if can_see_owners %}<li class="nav-item"><a '
    'class="nav-link py-1" href="{% url \'queue-owners\' %}">By owner</a></li>{% endif %}\n'
    '    {% if queue.slug == \'my-day\' %}<li class="nav-item"><a class="nav-link py-1" '
    'href="{% url \'kpi-mine\' %}" id="my-throughput">My throughput</a></li>{% endif %}\n'
    "  </ul>"
)


@pytest.mark.parametrize("who", ["sam", "bill", "vera", "val"])
def test_kept_tabs_and_bulk_bar_are_the_templates_markup(world: Any, who: str) -> None:
    """``work.fragments``: the tabs and the bulk bar's lists kept as HTML are what the
    page's template wrote inline, for every current queue, with and without "By owner";
    a renamed owner or queue is a new key, never the old HTML."""
    user = getattr(world, who)
    request = RequestFactory().get("/queues/payer-ar/")
    request.user = user
    request.session = {}  # type: ignore[assignment]
    queues = views._visible_queues(request)
    links = views._queue_links(queues)
    engine = engines["django"]
    for current in [*(q.slug for q in queues), "my-day"]:
        for owners_tab in (True, False):
            context = {"queue_links": links, "queue": {"slug": current}}
            context["can_see_owners"] = owners_tab
            old = engine.from_string(OLD_UL).render(context)
            assert fragments.tabs(links, current, owners_tab) == old
    owners = [world.bill, world.sam, world.vera]
    world.sam.first_name, world.sam.last_name = "Sam <&>", "O'Neil"
    world.vera.first_name = world.vera.last_name = ""
    actions = [("call_payer", "Call payer"), ("appeal", "Write <appeal>")]
    old_bar = engine.from_string(OLD_BAR).render({"bulk_owners": owners, "next_actions": actions})
    assert fragments.bulk_choices(owners, actions) == old_bar
    assert "Sam &lt;&amp;&gt; O&#x27;Neil" in old_bar and f">{world.vera.username}<" in old_bar
    world.sam.first_name = "Samuel"
    renamed = fragments.bulk_choices(owners, actions)
    assert "Samuel O&#x27;Neil" in renamed and renamed != old_bar


def test_the_page_shows_the_kept_bulk_bar(world: Any, client_for: Any) -> None:
    html = client_for(world.bill).get("/queues/payer-ar/").content.decode()
    assert '<select name="owner"' in html and '<option value="">Next action…</option>' in html
    assert f'<option value="{world.bill.pk}">' in html
