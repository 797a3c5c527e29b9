"""The claim page's forms written by ``claims.form_fields`` (issue 10, speed): the same
HTML as ``claims/_form_fields.html`` for each form unbound, with initial values, bound
with field errors, with non-field errors, with help text and hidden fields, and with
text that needs escaping; the claim page shows each form as the template wrote it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms as django_forms

from claims import forms
from claims.form_fields import form_fields_html
from work.widgets import use_fast_widgets

NASTY = 'O\'Brien <b>&amp; "quoted"</b>'


class _Helpful(django_forms.Form):
    name = django_forms.CharField(label=NASTY, help_text=f"Say {NASTY}")
    secret = django_forms.CharField(widget=django_forms.HiddenInput, initial=NASTY)
    count = django_forms.IntegerField(required=False, show_hidden_initial=True, initial=3)

    def clean(self) -> dict[str, Any]:
        self.add_error(None, f"Whole form: {NASTY}")
        self.add_error(None, "second")
        return self.cleaned_data


def _forms() -> list[Any]:
    return [
        forms.NextActionForm(
            initial={
                "version": 3,
                "queue": "payer-ar",
                "rank": 55,
                "next_action": "call_payer",
                "next_action_due": dt.date(2026, 12, 1),
                "wait_reason": NASTY,
            }
        ),
        forms.NextActionForm({"version": "x", "next_action": "nope", "wait_reason": NASTY}),
        forms.FollowUpForm(initial={"version": 1, "queue": "", "rank": 2}),
        forms.FollowUpForm({"version": "1", "notes": NASTY, "contact": NASTY}),
        forms.NoteForm(),
        forms.NoteForm({"text": f"line one\n{NASTY}"}),
        forms.NoteForm({}),
        forms.AttachmentForm(clinical=True),
        forms.AttachmentForm(clinical=False),
        _Helpful(),
        _Helpful({"name": "", "count": "x"}),
        _Helpful({"name": NASTY, "secret": "s", "count": "4"}),
    ]


def test_every_form_renders_as_through_the_template(db: Any) -> None:
    compared = 0
    for fast_widgets in (False, True):
        for form in _forms():
            if fast_widgets:
                use_fast_widgets(form)
            if form.is_bound:
                form.is_valid()
            plain = form_fields_html(form, plain=True)
            assert form_fields_html(form) == plain, type(form).__name__
            compared += 1
    assert compared == 24
    # What the comparison covered: errors, non-field errors, help text, hidden fields.
    helpful = _Helpful({"name": "", "count": "x"})
    helpful.is_valid()
    html = form_fields_html(helpful)
    assert 'role="alert">Whole form: O&#x27;Brien &lt;b&gt;' in html
    assert 'class="text-danger small field-error"' in html and 'class="form-text"' in html
    assert 'name="secret"' in html and 'id="id_count"' in html


def test_the_claim_page_shows_each_form_as_the_template_wrote_it(
    world: Any, client_for: Any, make_claim: Any
) -> None:
    claim = make_claim()
    response = client_for(world.bill).get(f"/claims/{claim.pk}/?from=payer-ar")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("next_action_form", "follow_up_form", "note_form", "attachment_form"):
        form = response.context[name]
        assert str(form_fields_html(form, plain=True)) in html, name
