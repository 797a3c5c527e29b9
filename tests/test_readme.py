"""README.md's tour (issue 9): its API examples run as written against a live server with a
token from ``create_api_token``, and every screenshot it shows is in the repository (the
browser tour, ``tests/browser/test_tour.py``, takes them)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

README = Path(settings.BASE_DIR) / "README.md"
README_HOST = "http://127.0.0.1:8000"


def readme() -> str:
    return README.read_text()


def curl_lines() -> list[str]:
    return [line for line in readme().splitlines() if line.startswith("curl ")]


def test_the_readme_describes_the_product_in_the_repository():
    text = readme()
    overview = text.split("## ", 1)[0]
    assert "http" not in overview and len(overview.split()) > 80
    for heading in ("## What works today", "## Quick tour", "Not built yet"):
        assert heading in text
    for persona in ("**Front desk**", "**Biller**", "**Vendor staff**", "**Practice manager**"):
        assert persona in text


def test_every_screenshot_the_readme_shows_is_committed_and_small():
    shots = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme())
    assert len(shots) == 6
    for shot in shots:
        path = Path(settings.BASE_DIR) / shot
        assert path.suffix == ".png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", shot
        assert path.stat().st_size <= 150_000, shot


@pytest.mark.django_db(transaction=True)
def test_the_readmes_curl_examples_answer_with_the_callers_data(live_server):
    call_command("seed_demo", stdout=io.StringIO())
    # The README's token command, for the demo biller.
    token = io.StringIO()
    call_command("create_api_token", "bill.biller", stdout=token, stderr=io.StringIO())
    env = {**os.environ, "BILLING_OPS_TOKEN": token.getvalue().strip()}
    lines = curl_lines()
    assert len(lines) == 2
    answers = []
    for line in lines:
        command = line.replace(README_HOST, live_server.url) + " --silent --fail-with-body"
        done = subprocess.run(  # noqa: S603 (the README's own command line)
            ["/bin/bash", "-c", command], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        answers.append(json.loads(done.stdout))
    my_day, claims = answers
    # My day: the biller's own claims; the claim list: claims of his practice.
    bill = get_user_model().objects.get(username="bill.biller")
    assert my_day["results"] and {c["owner"] for c in my_day["results"]} == {bill.pk}
    assert claims["results"] and len(claims["results"]) >= len(my_day["results"])
    # Without the token: refused.
    bare = subprocess.run(  # noqa: S603
        [
            "curl",
            "--silent",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            f"{live_server.url}/api/v1/claims/",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bare.stdout in ("401", "403")
