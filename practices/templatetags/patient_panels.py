"""``{% patient_panels patient %}``: the panels other apps register for the patient page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from practices import patient_panels as registry

register = template.Library()


@register.simple_tag(takes_context=True)
def patient_panels(context: Any, patient: Any) -> SafeString:
    return registry.render(context["request"], patient)
