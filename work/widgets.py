"""Form widgets written in Python, byte for byte as Django's widget templates write them
(issue 10, speed): a queue's filter panel and the claim page's four forms render ~20
widgets a page, each through the template engine (a context, ``attrs.html`` and one
include per ``<option>``).

``FastRenderer`` is a form renderer for the common widgets (``input.html`` and the input
types that include it, ``select.html`` with its plain options, ``textarea.html``); any
other template, or a value it does not write the way the template would (a number or a
date as an option's label, which the template localizes), goes to Django's renderer as
before. ``tests/work/test_fast_widgets.py`` renders every field of the forms that use it
both ways and compares them.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeData

_INPUTS = {
    f"django/forms/widgets/{name}.html"
    for name in (
        "input",
        "text",
        "date",
        "number",
        "hidden",
        "email",
        "password",
        "url",
        "search",
        "tel",
        "checkbox",
        "datetime",
        "time",
    )
}
_SELECT = "django/forms/widgets/select.html"
_OPTION = "django/forms/widgets/select_option.html"
_TEXTAREA = "django/forms/widgets/textarea.html"


class _Fallback(Exception):
    """A value this module does not write as the template would."""


def _formatted(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: ``"%s" % value``, escaped unless it was safe."""
    if isinstance(value, tuple):
        value = str(value)
    text = "%s" % value  # noqa: UP031 - the filter's own formatting
    return text if isinstance(value, SafeData) else str(escape(text))


def _plain(value: Any) -> str:
    """``{{ value }}`` for a string (the template localizes other types: not here)."""
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        raise _Fallback
    return value if isinstance(value, SafeData) else str(escape(value))


def _attrs(attrs: dict[str, Any]) -> str:
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {_plain(name)}")
        else:
            parts.append(f' {_plain(name)}="{_formatted(value)}"')
    return "".join(parts)


def _input(widget: dict[str, Any]) -> str:
    value = widget["value"]
    shown = f' value="{_formatted(value)}"' if value is not None else ""
    return (
        f'<input type="{_plain(widget["type"])}" name="{_plain(widget["name"])}"'
        f"{shown}{_attrs(widget['attrs'])}>"
    )


def _select(widget: dict[str, Any]) -> str:
    out = [f'<select name="{_plain(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_plain(group_name)}">')
        for option in group_choices:
            if option.get("template_name") != _OPTION:
                raise _Fallback
            out.append(
                f'\n  <option value="{_formatted(option["value"])}"'
                f"{_attrs(option['attrs'])}>{_plain(option['label'])}</option>\n"
            )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _textarea(widget: dict[str, Any]) -> str:
    value = widget["value"]
    body = _plain(value) if value else ""
    return f'<textarea name="{_plain(widget["name"])}"{_attrs(widget["attrs"])}>\n{body}</textarea>'


class FastRenderer(DjangoTemplates):
    """Django's default renderer, with the common widget templates written in Python."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        widget = context.get("widget") if request is None else None
        if isinstance(widget, dict):
            try:
                if template_name in _INPUTS:
                    return _input(widget)
                if template_name == _SELECT:
                    return _select(widget)
                if template_name == _TEXTAREA:
                    return _textarea(widget)
            except (_Fallback, KeyError):
                pass
        return super().render(template_name, context, request=request)


RENDERER = FastRenderer()


def use_fast_widgets(form: Any) -> Any:
    """Render ``form``'s widgets with ``FastRenderer`` (its labels, errors and layout are the
    page template's, unchanged); returns the form."""
    if form is not None:
        form.renderer = RENDERER
    return form
