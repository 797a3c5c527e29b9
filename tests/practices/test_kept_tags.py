"""``{% load kept %}`` (``base.html``): the same URLs as Django's ``{% static %}`` and
``{% url %}``, asked once, and asked again after a settings change."""

from __future__ import annotations

from django.template import Context, Template
from django.test import override_settings

KEPT = Template("{% load kept %}{% static 'css/app.css' %} {% kept_url 'search' %}")
DJANGO = Template("{% load static %}{% static 'css/app.css' %} {% url 'search' %}")


def test_kept_tags_write_what_djangos_write():
    assert KEPT.render(Context()) == DJANGO.render(Context())
    assert KEPT.render(Context()) == DJANGO.render(Context())  # the kept answers


def test_a_changed_setting_is_seen():
    KEPT.render(Context())
    with override_settings(STATIC_URL="/elsewhere/"):
        assert KEPT.render(Context()).startswith("/elsewhere/css/app.css ")
        assert KEPT.render(Context()) == DJANGO.render(Context())
    assert not KEPT.render(Context()).startswith("/elsewhere/")
