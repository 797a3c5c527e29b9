"""The Dockerfile's build steps run as written (Docker itself cannot run here).

The collectstatic step runs under production settings with only the environment the
Dockerfile gives it (ENV lines plus the step's own assignments): a setting production
requires but the step lacks fails the image build, and this test.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from django.conf import settings

DOCKERFILE = Path(settings.BASE_DIR) / "Dockerfile"


def _instructions() -> list[str]:
    """Dockerfile instructions with their continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _env_lines() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in _instructions():
        if line.startswith("ENV "):
            for word in shlex.split(line[4:]):
                key, _, value = word.partition("=")
                env[key] = value
    return env


def _collectstatic_step() -> tuple[dict[str, str], list[str]]:
    """The assignments and the command of the RUN step that calls collectstatic."""
    [run] = [line for line in _instructions() if "collectstatic" in line]
    last = run.split("&&")[-1]
    words = shlex.split(last)
    assignments = {}
    while "=" in words[0] and not words[0].startswith("-"):
        key, _, value = words.pop(0).partition("=")
        assignments[key] = value
    return assignments, words


def test_the_collectstatic_step_runs_with_the_dockerfiles_environment(tmp_path: Path) -> None:
    assignments, command = _collectstatic_step()
    assert command[:3] == ["python", "manage.py", "collectstatic"]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **_env_lines(), **assignments}
    env["BILLING_OPS_VAR_DIR"] = str(tmp_path / "var")
    env["DJANGO_STATIC_ROOT"] = str(tmp_path / "staticfiles")
    result = subprocess.run(
        [sys.executable, *command[1:]],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles" / "staticfiles.json").is_file()
