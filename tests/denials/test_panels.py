"""The denial page renders panels that apps above denials register (remittance lines)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils.html import format_html

from denials import panels

pytestmark = pytest.mark.django_db


@pytest.fixture
def remittance_panel() -> Any:
    panels.register_denial_panel(
        "test-remittance",
        lambda request, denial: format_html(
            '<div id="test-panel">Paid lines of {}</div>', denial.source_ref
        ),
    )
    yield
    panels._denial_panels.pop("test-remittance", None)


def test_registered_panels_show_on_the_denial_page_escaped(
    world: Any, make_denial: Any, client_for: Any, remittance_panel: Any
) -> None:
    denial = make_denial(source="835", source_ref="<i>TRN1</i>")
    page = client_for(world.bill).get(f"/denials/{denial.pk}/").content.decode()
    assert '<div id="test-panel">Paid lines of &lt;i&gt;TRN1&lt;/i&gt;</div>' in page
