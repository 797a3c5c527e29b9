"""A form's fields as ``claims/_form_fields.html`` writes them, character for character,
without the template engine (issue 10, speed): the claim page includes that template for
each of its four forms, ~2 ms of CPU each for a dozen lookups, loops and filters a field.
The widgets themselves are rendered by the form's renderer as the template's
``{{ field }}`` / ``{{ field.as_widget }}`` do. ``tests/claims/test_form_fields.py``
renders the same forms both ways (unbound, initial values, errors, non-field errors, help
text, hidden fields, text needing escaping): a change to the markup goes into the
template and here together.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from claims.queue_rows import _e

PLAIN_TEMPLATE = "claims/_form_fields.html"


def form_fields_html(form: Any, *, plain: bool = False) -> SafeString:
    """What ``{% include "claims/_form_fields.html" with form=form %}`` writes."""
    if plain:
        return mark_safe(render_to_string(PLAIN_TEMPLATE, {"form": form}))  # noqa: S308
    parts = [
        f'<div class="alert alert-danger py-1 small" role="alert">{_e(error)}</div>'
        for error in form.non_field_errors()
    ]
    parts.append("\n")
    for field in form:
        if field.is_hidden:
            parts.append(_e(field))
            continue
        errors = "".join(
            f'<div class="text-danger small field-error">{_e(error)}</div>'
            for error in field.errors
        )
        help_text = field.help_text
        helps = f'<div class="form-text">{_e(help_text)}</div>' if help_text else ""
        parts.append(
            '\n<div class="mb-2">'
            f'\n  <label class="form-label small mb-0" for="{_e(field.id_for_label)}">'
            f"{_e(field.label)}</label>"
            f"\n  {_e(field.as_widget())}"
            f"\n  {errors}"
            f"\n  {helps}"
            "\n</div>"
        )
    parts.append("\n")
    return mark_safe("".join(parts))  # noqa: S308  (every value escaped above)
