"""``{{ claim|row_teeth }}``: a queue row's teeth per line, from lines the page prefetched
(``claims.teeth``); no query per row."""

from __future__ import annotations

from typing import Any

from django import template

from claims.teeth import row_teeth as _row_teeth

register = template.Library()


@register.filter
def row_teeth(claim: Any) -> list[str]:
    return _row_teeth(claim)
