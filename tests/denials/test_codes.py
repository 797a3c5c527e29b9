"""CARC/RARC: our own labels, and the official texts a practice loads from its file."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from denials import codes
from denials.choices import DenialCategory
from denials.models import ReasonCode

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent / "files"


def test_every_category_has_guidance_and_labels_are_short() -> None:
    assert set(codes.GUIDANCE) == set(DenialCategory.values)
    assert all(len(entry.label) <= 60 for entry in codes.CARC.values())
    assert codes.carc_label("50") == "Payer says not medically necessary"
    assert codes.carc_label("ZZ") == "Code not in our list"
    assert codes.rarc_label("m127") == "Medical record needed"


def test_load_carc_rarc_loads_and_repeats_harmlessly() -> None:
    out = StringIO()
    call_command("load_carc_rarc", str(FILES / "codes.csv"), stdout=out)
    assert "2 created" in out.getvalue()
    assert ReasonCode.objects.get(kind="rarc", code="M127").official_text.startswith("Test")

    again = StringIO()
    call_command("load_carc_rarc", str(FILES / "codes.csv"), stdout=again)
    assert "0 created, 0 updated, 2 unchanged" in again.getvalue()
    assert ReasonCode.objects.count() == 2


def test_load_carc_rarc_with_kind_option(tmp_path: Path) -> None:
    path = tmp_path / "carc.csv"
    path.write_text("Code;Description\n16;Loaded text\n", encoding="utf-8")
    call_command("load_carc_rarc", str(path), "--kind", "carc", stdout=StringIO())
    assert ReasonCode.objects.get(kind="carc", code="16").official_text == "Loaded text"


@pytest.mark.parametrize(
    "content",
    ["code,description\n16,x\n", "nothing,here\n1,2\n", "kind,code,description\nxyz,16,t\n"],
)
def test_bad_files_are_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("load_carc_rarc", str(path), stdout=StringIO())
    assert not ReasonCode.objects.exists()


def test_the_denial_page_shows_label_and_loaded_text(
    world: Any, make_denial: Any, client_for: Any
) -> None:
    call_command("load_carc_rarc", str(FILES / "codes.csv"), stdout=StringIO())
    denial = make_denial(carc="50", rarcs=["M127"])
    page = client_for(world.bill).get(f"/denials/{denial.pk}/").content.decode()
    assert "Payer says not medically necessary" in page
    assert "Test official text for code fifty" in page
    assert "Medical record needed" in page
