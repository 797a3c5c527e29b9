"""Widgets written in Python (``work.widgets.FastRenderer``, issue 10): every field of the
claim page's four forms and of a queue's filter panel renders the same HTML as through
Django's widget templates, unbound, with initial values, bound with errors and with text
that needs escaping; the pages use it and still show what they showed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.forms.renderers import DjangoTemplates

from claims import forms
from claims.choices import ClaimStatus
from claims.models import Claim
from claims.queues import ClaimQueueFilter
from tests import factories
from work import views as work_views
from work import widgets
from work.widgets import use_fast_widgets

NASTY = 'O\'Brien <b>&amp; "quoted"</b>'


def _makers(world: Any) -> list[Any]:
    claims = Claim.objects.filter(practice=world.sunrise)

    def filters(data: Any) -> Any:
        panel = ClaimQueueFilter(data, queryset=claims, user=world.bill)
        work_views._listed_choices(panel)
        work_views._style(panel)
        return panel.form

    return [
        lambda: forms.NextActionForm(
            initial={
                "version": 3,
                "queue": "payer-ar",
                "rank": 55,
                "next_action": "call_payer",
                "next_action_due": dt.date(2026, 12, 1),
                "wait_reason": NASTY,
            }
        ),
        lambda: forms.NextActionForm({"version": "x", "next_action": "nope", "wait_reason": NASTY}),
        lambda: forms.FollowUpForm(initial={"version": 1, "queue": "", "rank": 2}),
        lambda: forms.FollowUpForm({"version": "1", "notes": NASTY, "contact": NASTY}),
        lambda: forms.NoteForm(),
        lambda: forms.NoteForm({"text": f"line one\n{NASTY}"}),
        lambda: forms.AttachmentForm(clinical=True),
        lambda: forms.AttachmentForm(clinical=False),
        lambda: filters(None),
        lambda: filters({"status": ["submitted", "denied"], "min_balance": "5", "q": NASTY}),
    ]


def test_every_field_renders_as_through_the_widget_templates(world, make_claim):
    make_claim(status=ClaimStatus.SUBMITTED)
    factories.PayerFactory(practice=world.sunrise, name=NASTY)
    compared = 0
    for make in _makers(world):
        plain, fast = make(), use_fast_widgets(make())
        if plain.is_bound:
            plain.is_valid()
            fast.is_valid()
        assert not isinstance(plain.renderer, widgets.FastRenderer)
        for name in plain.fields:
            assert str(fast[name]) == str(plain[name]), (type(plain).__name__, name)
            compared += 1
    assert compared > 20


def test_the_common_widgets_are_written_without_templates(world, monkeypatch):
    """Only the file input (not one of the common widgets) goes through a template."""
    through_templates: list[str] = []
    real = DjangoTemplates.render

    def counting(self: Any, template_name: str, *args: Any, **kwargs: Any) -> str:
        through_templates.append(template_name)
        return real(self, template_name, *args, **kwargs)

    monkeypatch.setattr(DjangoTemplates, "render", counting)
    for make in _makers(world):
        form = use_fast_widgets(make())
        for name in form.fields:
            str(form[name])
    assert set(through_templates) <= {"django/forms/widgets/clearable_file_input.html"}
    assert through_templates  # the attachment forms' file inputs


@pytest.mark.parametrize("url", ["/queues/payer-ar/filters/", "/queues/payer-ar/?status=denied"])
def test_the_queue_page_filter_panel_is_rendered_fast_and_still_filters(
    world, client_for, make_claim, url
):
    make_claim(status=ClaimStatus.DENIED)
    response = client_for(world.bill).get(url)
    assert response.status_code == 200
    form = response.context["filters"].form
    assert isinstance(form.renderer, widgets.FastRenderer)
    html = response.content.decode()
    assert 'id="queue-filters"' in html and '<select name="status"' in html


def test_the_claim_page_forms_are_rendered_fast(world, client_for, make_claim):
    claim = make_claim()
    response = client_for(world.bill).get(f"/claims/{claim.pk}/?from=payer-ar")
    assert response.status_code == 200
    for name in ("next_action_form", "follow_up_form", "note_form", "attachment_form"):
        assert isinstance(response.context[name].renderer, widgets.FastRenderer), name
    html = response.content.decode()
    assert f'name="version" value="{claim.version}"' in html
    assert '<select name="next_action"' in html
