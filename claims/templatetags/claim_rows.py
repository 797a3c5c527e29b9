"""``{% claim_queue_rows page.rows queue.slug today %}`` and ``{% claim_my_day_row row
queue.slug today everywhere %}``: claim rows of the queue pages written by
``claims.queue_rows`` (the same markup as the row templates, without their lookups)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.safestring import SafeString

from claims import queue_rows

register = template.Library()


@register.simple_tag
def claim_queue_rows(rows: Any, slug: str, today: dt.date) -> SafeString:
    return queue_rows.queue_table_rows(rows, slug, today)


@register.simple_tag
def claim_my_day_row(row: Any, slug: str, today: dt.date, everywhere: bool) -> SafeString:
    return queue_rows.my_day_row(row, slug, today, bool(everywhere))
