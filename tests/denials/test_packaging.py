"""The image has what WeasyPrint (appeal letter PDFs) needs, and the README says so."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)


def test_the_image_installs_pango_for_weasyprint() -> None:
    dockerfile = BASE.joinpath("Dockerfile").read_text()
    apt = [line for line in dockerfile.splitlines() if "apt-get install" in line]
    assert apt and "libpango-1.0-0" in apt[0] and "libpangoft2-1.0-0" in apt[0]


def test_the_readme_names_the_pdf_library() -> None:
    readme = BASE.joinpath("README.md").read_text()
    assert "WeasyPrint" in readme and "load_carc_rarc" in readme
