"""Claim rows of the queue pages written in Python (issue 10): the markup of
``claims/_queue_rows.html`` (the claim queues' table) and ``claims/_my_day_row.html`` (a
claim in My day; the claim type's row template ``claims/claim_row.html`` calls
``my_day_row``), character for character, without the template engine's lookups.

Fifty rows through the templates cost more CPU than the page's SQL (about 25 lookups,
filters and tags a row); these functions build the same strings from the row's values.
``tests/claims/test_queue_rows.py`` renders the same rows both ways and compares them: a
change to the markup goes into the template and here together.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from claims.teeth import row_teeth

PLAIN_TABLE_ROWS = "claims/_queue_rows.html"
PLAIN_MY_DAY_ROW = "claims/_my_day_row.html"


# Whether a string holds a character ``html.escape`` replaces (most values hold none).
_SPECIAL = re.compile("[&<>\"']").search


def _e(value: Any) -> str:
    """What ``{{ value }}`` writes: ``conditional_escape`` (Django's ``escape`` is
    ``html.escape``), without its lazy-string wrappers for a plain value, and a plain
    string with nothing to escape as it is (about 700 values a page)."""
    kind = type(value)
    if kind is str:
        return html.escape(value) if _SPECIAL(value) else value
    if kind is int:
        return str(value)
    if hasattr(value, "__html__"):
        return str(conditional_escape(value))
    return html.escape(str(value))


# A choice field's labels by value, per field, kept with the choices object they were
# built from: Django's ``get_FOO_display`` builds this dict from the field's choices on
# every call (two calls a row, ~10 % of a queue page's CPU in the profile of dataset L).
# Choices assigned anew are seen (compared by identity, the old object held so its
# address is not reused); choices changed in place are not (no model here does that).
_LABELS: dict[Any, tuple[Any, dict[Any, Any]]] = {}


def _display(obj: Any, name: str) -> str:
    """``obj.get_<name>_display()``, the same value (labels forced to str per call, as
    Django does, so a lazy label follows the active language)."""
    field = obj._meta.get_field(name)
    entry = _LABELS.get(field)
    if entry is None or entry[0] is not field.choices:
        entry = _LABELS[field] = (field.choices, dict(make_hashable(field.flatchoices)))
    value = getattr(obj, field.attname)
    return str(force_str(entry[1].get(make_hashable(value), value), strings_only=True))


def _due(claim: Any, today: dt.date) -> str:
    """``Call payer <span class="small text-danger">05/01</span>``: the next action and its
    due date (red when overdue), as ``|date:"m/d"`` and ``<`` do in the template."""
    due = claim.next_action_due
    late = due is not None and today is not None and due < today
    css = "text-danger" if late else "text-body-secondary"
    shown = f"{due.month:02d}/{due.day:02d}" if due is not None else ""  # strftime's "%m/%d"
    return f'{_e(_display(claim, "next_action"))} <span class="small {css}">{shown}</span>'


def _owner(claim: Any) -> str:
    owner = claim.owner
    if not owner:
        return "—"
    return _e(owner.get_full_name() or owner.username)


def _billed(claim: Any) -> str:
    """``|floatformat:2|intcomma``: an amount of whole cents formats the same with Python's
    thousands separator (nothing to round); anything else goes through the filters."""
    value = claim.total_billed
    if isinstance(value, Decimal) and value.is_finite() and value.as_tuple().exponent == -2:
        return f"{value:,.2f}"
    return _e(intcomma(floatformat(value, 2)))


def _teeth(claim: Any) -> str:
    teeth = row_teeth(claim)
    if not teeth:
        return ""
    joined = "; ".join(_e(t) for t in teeth)
    return f'<div class="row-teeth mono small text-body-secondary">{joined}</div>'


def queue_table_rows(
    rows: Iterable[Any], slug: str, today: dt.date, *, plain: bool = False
) -> SafeString:
    """The ``<tr>`` of every row of a claim queue's table (``claims/queue_table.html``)."""
    rows = list(rows)
    if plain:
        context = {"rows": rows, "queue": {"slug": slug}, "today": today}
        return mark_safe(render_to_string(PLAIN_TABLE_ROWS, context))  # noqa: S308
    q = _e(slug)
    rejections = slug == "rejections"
    parts = []
    for row in rows:
        claim = row.item
        href = f"{_e(claim.queue_href)}?from={q}"
        number = _e(claim.pms_claim_number)
        patient = claim.patient
        reason = (
            f'<td class="small" data-col="rejection-reason">'
            f"{_e(claim.rejection_reason or '—')}</td>"
            if rejections
            else ""
        )
        parts.append(
            f'\n        <tr data-href="{href}" class="queue-row">'
            f'\n          <td><input type="checkbox" name="items" value="{_e(row.ref)}" '
            f'aria-label="Select {number}"></td>'
            f'\n          <td class="text-nowrap"><a href="{href}" class="mono">{number}</a>'
            f"{_teeth(claim)}</td>"
            f'\n          <td class="text-nowrap">{_e(patient.last_name)}, '
            f"{_e(patient.first_name)}</td>"
            f"\n          <td>{_e(claim.payer.name)}</td>"
            f'\n          <td><span class="badge text-bg-light border">'
            f"{_e(_display(claim, 'status'))}</span></td>"
            f"\n          <td>{_due(claim, today)}</td>"
            f'\n          <td class="small text-nowrap">{_owner(claim)}</td>'
            f'\n          <td class="text-end">${_billed(claim)}</td>'
            f"\n          <td>{_e(claim.follow_up_count)}</td>"
            f"\n          {reason}"
            f'\n          <td class="small text-body-secondary">{_e(row.why)}</td>'
            "\n        </tr>\n      "
        )
    return mark_safe("".join(parts))  # noqa: S308  (every value escaped above)


def my_day_row(
    row: Any, slug: str, today: dt.date, everywhere: bool, *, plain: bool = False
) -> SafeString:
    """One claim of My day (``claims/claim_row.html``, the claim type's row template)."""
    claim = row.item
    if plain:
        context = {
            "row": row,
            "item": claim,
            "queue": {"slug": slug},
            "today": today,
            "everywhere": everywhere,
        }
        return mark_safe(render_to_string(PLAIN_MY_DAY_ROW, context))  # noqa: S308
    href = f"{_e(claim.queue_href)}?from={_e(slug)}"
    number = _e(claim.pms_claim_number)
    patient = claim.patient
    why = _e(row.why)
    practice = (
        f'<td class="small text-nowrap" data-label="Practice">{_e(claim.practice_label)}</td>'
        if everywhere
        else ""
    )
    return mark_safe(  # noqa: S308  (every value escaped above)
        f'\n        <tr data-href="{href}" class="queue-row">'
        f'\n          <td class="cell-select"><input type="checkbox" name="items" '
        f'value="{_e(row.ref)}" aria-label="Select {number}"></td>'
        f'\n          <td class="text-nowrap cell-item" data-label="Item"><span class="badge '
        f'text-bg-secondary">Claim</span> <a href="{href}" class="mono">{number}</a></td>'
        f"\n          {practice}"
        f'\n          <td class="small cell-details" data-label="Details">'
        f"{_e(patient.last_name)}, {_e(patient.first_name)} · {_e(claim.payer.name)} · "
        f'<span class="badge text-bg-light border">{_e(_display(claim, "status"))}</span>'
        f"{_teeth(claim)}</td>"
        f'\n          <td class="text-nowrap" data-label="Next action">{_due(claim, today)}</td>'
        f'\n          <td class="small text-nowrap" data-label="Owner">{_owner(claim)}</td>'
        f'\n          <td class="text-end text-nowrap" data-label="Billed">${_billed(claim)}</td>'
        f'\n          <td class="small text-body-secondary cell-why" data-label="Why here" '
        f'title="{why}">{why}</td>'
        "\n        </tr>\n"
    )
