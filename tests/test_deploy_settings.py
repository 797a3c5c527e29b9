"""Production settings: `check --deploy` is clean, bad configuration is refused, and
gunicorn serves the production app (HTTPS redirect, security headers, hashed static).

Each case runs in a subprocess, since settings are read once per process.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import string
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
HOST = "billing.example.com"
DATABASE_URL = os.environ.get("DATABASE_URL", "")
needs_postgres = pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")),
    reason="needs DATABASE_URL=postgresql://... (make test provides one)",
)


def secret_key(length: int = 60) -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """The environment of a production process; an override of None unsets the variable."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COV_CORE_", "PYTEST_"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "billing_ops.settings.production",
        "DJANGO_SECRET_KEY": secret_key(),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DATABASE_URL": DATABASE_URL or "postgresql://x@127.0.0.1:5/x",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6/0"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6/1"),
        "BILLING_OPS_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def production_database() -> str:
    """DATABASE_URL, after making sure its database exists (an empty one will do)."""
    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return DATABASE_URL


@needs_postgres
def test_check_deploy_is_clean(tmp_path: Path, production_database: str) -> None:
    env = production_env(tmp_path, DATABASE_URL=production_database)
    result = run(
        [
            PYTHON,
            "manage.py",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            "--database",
            "default",
        ],
        env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_needs_no_database_connection(tmp_path: Path) -> None:
    # Port 5 on localhost: nothing listens, so any connection attempt would fail loudly.
    env = production_env(tmp_path, DATABASE_URL="postgresql://x@127.0.0.1:5/x")
    result = run([PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DJANGO_SECRET_KEY": "too-short-" * 3}, "DJANGO_SECRET_KEY must be a long random"),
        ({"DJANGO_SECRET_KEY": "insecure-" + "x" * 60}, "DJANGO_SECRET_KEY must be a long random"),
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY is required"),
        ({"DATABASE_URL": None}, "Production needs DATABASE_URL pointing at PostgreSQL"),
        ({"DATABASE_URL": "sqlite:///db.sqlite3"}, "DATABASE_URL must be a postgresql:// URL"),
        ({"CELERY_BROKER_URL": None}, "Production needs CELERY_BROKER_URL pointing at Redis"),
        ({"REDIS_URL": None}, "Production needs REDIS_URL"),
    ],
    ids=[
        "short-secret",
        "insecure-secret",
        "no-secret",
        "no-database",
        "sqlite-database",
        "no-broker",
        "no-cache",
    ],
)
def test_production_refuses_bad_configuration(
    tmp_path: Path, overrides: dict[str, str | None], message: str
) -> None:
    env = production_env(tmp_path, **overrides)
    result = run([PYTHON, "-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_settings_import_with_good_configuration(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.DATABASES['default']['ENGINE'], s.MAILERS['default']['BACKEND'])"
    )
    result = run([PYTHON, "-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "True",
        "True",
        "True",
        "django.db.backends.postgresql",
        "django.core.mail.backends.smtp.EmailBackend",
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port: int, path: str, https: bool = True) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) of a GET as the proxy in front would send it; status 0: no answer."""
    headers = {"Host": HOST}
    if https:
        headers["X-Forwarded-Proto"] = "https"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read().decode(errors="replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    except OSError as exc:
        return 0, {}, str(exc)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory, production_database: str) -> Iterator[int]:
    """A gunicorn serving billing_ops.wsgi with production settings; yields its port."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    env = production_env(tmp_path, DATABASE_URL=production_database)
    collected = run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    assert collected.returncode == 0, collected.stderr
    assert (tmp_path / "static" / "staticfiles.json").is_file()

    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                GUNICORN,
                "billing_ops.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--no-control-socket",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while request(port, "/account/login/")[0] == 0:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.25)
        yield port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@needs_postgres
def test_gunicorn_serves_the_production_login_page(gunicorn: int) -> None:
    status, headers, body = request(gunicorn, "/account/login/")
    assert status == 200, body
    assert "Sign in" in body
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert "csrftoken=" in headers["set-cookie"] and "Secure" in headers["set-cookie"]

    # Static files come hashed from the manifest, and whitenoise serves them.
    stylesheets = re.findall(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', body)
    assert stylesheets, body
    css_status, css_headers, _ = request(gunicorn, stylesheets[0])
    assert css_status == 200
    assert "immutable" in css_headers.get("cache-control", "")


@needs_postgres
def test_gunicorn_redirects_plain_http_to_https(gunicorn: int) -> None:
    status, headers, _ = request(gunicorn, "/account/login/", https=False)
    assert status == 301
    assert headers["location"] == f"https://{HOST}/account/login/"


@needs_postgres
def test_gunicorn_refuses_unknown_hosts(gunicorn: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=5)
    try:
        conn.request(
            "GET", "/account/login/", headers={"Host": "evil.example", "X-Forwarded-Proto": "https"}
        )
        assert conn.getresponse().status == 400
    finally:
        conn.close()


def test_the_wsgi_application_settles_its_loaded_objects(tmp_path: Path) -> None:
    """``billing_ops.wsgi`` (what gunicorn loads) imports every view module and freezes what
    is alive then out of the collector's generations (``billing_ops.startup``): nothing a
    request creates is frozen, and nothing needs the database (port 5: nothing listens)."""
    env = production_env(tmp_path, DATABASE_URL="postgresql://x@127.0.0.1:5/x")
    probe = (
        "import gc, sys, billing_ops.wsgi as w; "
        "print(gc.get_freeze_count(), 'claims.views' in sys.modules, callable(w.application))"
    )
    result = run([PYTHON, "-c", probe], env)
    assert result.returncode == 0, result.stdout + result.stderr
    frozen, views, app = result.stdout.split()
    assert int(frozen) > 50_000
    assert (views, app) == ("True", "True")
