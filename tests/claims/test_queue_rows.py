"""The claim rows of the queue pages written in Python (``claims.queue_rows``) are the
markup of their plain templates, character for character, on the same rows: teeth,
escaping, overdue and undated next actions, owners with and without a name, money with
thousands, the rejection column, My day with and without the practice column."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils import timezone

from claims import queue_rows
from claims.models import Claim, ClaimLine
from claims.queues import CLAIM
from tests import factories
from work import selectors
from work import views as work_views
from work.registry import registry


def _varied_claims(world: Any, make_claim: Any) -> list[Claim]:
    today = timezone.localdate()
    odd = factories.PatientFactory(
        practice=world.sunrise, last_name="O'Brien <b>", first_name="A&B"
    )
    claims = [
        make_claim(),
        make_claim(patient=odd, next_action_due=today - dt.timedelta(days=3)),
        make_claim(
            next_action_due=today + dt.timedelta(days=9),
            lines=[{"procedure_code": "D2391", "charge": Decimal("12345.67")}],
        ),
        make_claim(owner=world.sam),
    ]
    line = ClaimLine.objects.get(claim=claims[0])
    ClaimLine.objects.filter(pk=line.pk).update(
        teeth=[{"tooth": "31", "surfaces": "MO"}, {"tooth": "30", "surfaces": ""}], tooth="31"
    )
    Claim.objects.filter(pk=claims[1].pk).update(rejection_reason="<A7> Missing & invalid")
    Claim.objects.filter(pk=claims[2].pk).update(priority_reasons=[])  # scored afresh
    get_user_model().objects.filter(pk=world.sam.pk).update(first_name="", last_name="")
    return claims


def test_queue_table_rows_are_the_templates_rows(world, make_claim):
    _varied_claims(world, make_claim)
    today = timezone.localdate()
    queue = registry.queue("all-open")
    page = selectors.keyset_page(
        queue, selectors.queue_queryset(queue, world.bill, today), "priority", None, 50
    )
    assert len(page.rows) == 4
    work_views._link_rows(page.rows)
    for slug in ("payer-ar", "rejections", "unassigned", "all-open"):
        fast = queue_rows.queue_table_rows(page.rows, slug, today)
        plain = queue_rows.queue_table_rows(page.rows, slug, today, plain=True)
        assert fast == plain, slug
    html = queue_rows.queue_table_rows(page.rows, "rejections", today)
    assert "&lt;A7&gt; Missing &amp; invalid" in html
    assert "O&#x27;Brien &lt;b&gt;, A&amp;B" in html
    assert "D1110 #31 MO, 30" in html
    assert "$12,345.67" in html
    assert "text-danger" in html


def test_my_day_claim_rows_are_the_templates_rows(world, make_claim):
    _varied_claims(world, make_claim)
    today = timezone.localdate()
    types = [t.key for t in registry.types()]
    rows = selectors.my_day_page(world.bill, None, None, 50, today, types).rows
    claim_rows = [row for row in rows if row.item_type is CLAIM]
    assert len(claim_rows) == 2  # bill's, due today or overdue
    work_views._link_rows(claim_rows)
    for row in claim_rows:
        row.item.practice_label = "Sunrise <Dental>"
        for everywhere in (False, True):
            fast = queue_rows.my_day_row(row, "my-day", today, everywhere)
            plain = queue_rows.my_day_row(row, "my-day", today, everywhere, plain=True)
            assert fast == plain, (row.item.pk, everywhere)


def test_the_pages_show_the_rows(world, client_for, make_claim):
    claims = _varied_claims(world, make_claim)
    client = client_for(world.bill)
    html = client.get("/queues/all-open/").content.decode()
    for claim in claims:
        assert f">{claim.pms_claim_number}</a>" in html
    assert client.get("/queues/rejections/").content.decode().count("queue-row") == 0
    day = client.get("/queues/my-day/").content.decode()
    assert day.count('class="queue-row"') == 2


def test_amounts_format_as_the_filters_do():
    for raw in ("0.00", "-1234.50", "1234567.89", "7", "1234.5", "0.125", "999999999.99"):

        class Row:
            total_billed = Decimal(raw)

        assert queue_rows._billed(Row) == intcomma(floatformat(Decimal(raw), 2)), raw


def test_labels_follow_choices_assigned_anew(monkeypatch):
    """The kept labels are those of the field's current choices: assigned anew (a test or
    a feature patching them), the next row shows the new label, as get_FOO_display does."""
    claim = Claim(status="draft")
    field = Claim._meta.get_field("status")
    assert queue_rows._display(claim, "status") == claim.get_status_display()
    for label in ("First label", "Second label"):
        monkeypatch.setattr(field, "choices", [("draft", label), ("submitted", "Sent")])
        assert queue_rows._display(claim, "status") == claim.get_status_display() == label
    assert queue_rows._display(Claim(status="bogus"), "status") == "bogus"
