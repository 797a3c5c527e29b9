"""``{% claim_form_fields form %}``: a form's fields as ``claims/_form_fields.html`` writes
them, from ``claims.form_fields`` (the same markup, without the template's lookups)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from claims.form_fields import form_fields_html

register = template.Library()


@register.simple_tag
def claim_form_fields(form: Any) -> SafeString:
    return form_fields_html(form)
