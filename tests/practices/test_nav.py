"""The main navigation built from ``practices.nav.ENTRIES`` gives the links the template
gave before it (issue 10): ``old_nav.html`` is ``base.html``'s ``{% block nav %}`` as it was,
rendered for every entry's flag alone, every flag at once and none, on every page where an
entry is current; the same ``<li>`` elements come out, in the same order."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import override_settings
from django.urls import reverse, set_script_prefix

from practices import nav
from practices.nav import ENTRIES, FLAGS, nav_html
from practices.templatetags import kept
from work import views as work_views

# base.html's nav block before the table (git show 4328cf3:templates/base.html).
OLD_NAV = (Path(__file__).parent / "old_nav.html").read_text()

# ``base.html`` read "People" as ``can_manage_access or user.vendor_staff.is_lead``.
PEOPLE = "can_see_people"


def _old(flags: dict[str, bool], url_name: str, slug: str) -> list[str]:
    lead = bool(flags.get(PEOPLE))
    context = {
        **flags,
        "user": SimpleNamespace(vendor_staff=SimpleNamespace(is_lead=lead)),
        "request": SimpleNamespace(
            resolver_match=SimpleNamespace(url_name=url_name, kwargs={"slug": slug})
        ),
    }
    return _items(Template(OLD_NAV).render(Context(context)))


def _items(html: str) -> list[str]:
    return [m.strip() for m in re.findall(r"<li.*?</li>", html, flags=re.S)]


def _pages() -> list[tuple[str, str]]:
    pages = {("queue", "my-day"), ("queue", "payer-ar"), ("claim-detail", ""), ("", "")}
    for entry in ENTRIES:
        for current in entry.current:
            pages.add(current if isinstance(current, tuple) else (current, ""))
    return sorted(pages)


def _flag_sets() -> list[dict[str, bool]]:
    sets = [dict.fromkeys(FLAGS, False), dict.fromkeys(FLAGS, True)]
    sets += [{**dict.fromkeys(FLAGS, False), flag: True} for flag in sorted(FLAGS)]
    return sets


@pytest.mark.parametrize(("url_name", "slug"), _pages())
def test_the_table_writes_what_the_template_wrote(url_name, slug):
    for flags in _flag_sets():
        # The old template read "People" from two facts; the context processor gives the
        # table their "or" (PEOPLE alone stands for a vendor lead here).
        table = {**flags, PEOPLE: flags["can_manage_access"] or flags[PEOPLE]}
        assert _items(nav_html(table, url_name, slug)) == _old(flags, url_name, slug), flags


def test_every_entry_links_its_page_and_only_its_flag_shows_it():
    everything = nav_html(dict.fromkeys(FLAGS, True), None, None)
    for entry in ENTRIES:
        href = entry.href or reverse(entry.url_name, args=entry.args)
        assert f'href="{href}"' in everything
    nothing = _items(nav_html(dict.fromkeys(FLAGS, False), None, None))
    assert nothing == [
        '<li class="nav-item"><a class="nav-link" href="/patients/">Patients</a></li>',
        '<li class="nav-item"><a class="nav-link" href="/notifications/">Notifications</a></li>',
    ]


def test_people_shows_for_managers_and_vendor_leads_only(world, client_for):
    """``can_see_people`` (the context processor): managing access, or leading vendor staff."""
    people = '<a class="nav-link" href="/people/">People</a>'
    for who, shown in (("sam", True), ("val", True), ("bill", False), ("vera", False)):
        html = client_for(world.users[who]).get("/queues/my-day/").text
        assert (people in html) == shown, who


def test_links_follow_the_url_prefix(world, client_for):
    """The kept links are per URL prefix (and URLconf): a deployment under a path prefix,
    then the root again, each gets its own."""
    client = client_for(world.bill)
    # What a WSGI server under /billing/ sets (the test client sets no prefix). Django
    # keeps a relative STATIC_URL with the prefix of its first use: the override drops
    # what this request computes, for the tests after it (second reviewer).
    with override_settings(STATIC_URL="static/"):
        set_script_prefix("/billing/")
        try:
            html = client.get("/queues/my-day/").text
        finally:
            set_script_prefix("/")  # before the override ends and its receivers run
    assert 'href="/billing/queues/payer-ar/">Queues</a>' in html
    assert 'action="/billing/search/"' in html
    assert 'href="/billing/queues/rejections/"' in html  # the queue tabs
    html = client.get("/queues/my-day/").text
    assert 'href="/queues/payer-ar/">Queues</a>' in html and "/billing/" not in html


def test_kept_links_are_dropped_on_a_setting_change_and_bounded(world, client_for):
    """The nav's and the tabs' kept links go when a setting changes (a test's URLconf), and
    ``kept`` keeps at most MAX_KEPT links however many prefixes it sees."""
    client_for(world.bill).get("/queues/payer-ar/")
    assert nav._hrefs.cache_info().currsize and work_views._queue_hrefs.cache_info().currsize
    with override_settings(ROOT_URLCONF=settings.ROOT_URLCONF):
        assert nav._hrefs.cache_info().currsize == 0
        assert work_views._queue_hrefs.cache_info().currsize == 0
    try:
        for i in range(kept.MAX_KEPT + 10):
            set_script_prefix(f"/p{i}/")
            assert kept.kept_url("search") == f"/p{i}/search/"
            assert len(kept._links) <= kept.MAX_KEPT
    finally:
        set_script_prefix("/")
    assert kept.kept_url("search") == "/search/"
