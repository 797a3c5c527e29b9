"""No PHI in URLs or access logs (issue 8, point 3): the patient search is a POST whose
term never reaches a URL, and gunicorn's access log has no query strings or referrers."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.test import Client

from practices.models import Patient
from practices.views import PATIENT_SEARCH_KEY
from tests import factories
from tests.conftest import login
from tests.permission_matrix import SIGNED_IN, Case, Endpoint, PermissionMatrixMixin
from tests.test_embedded_processes import BASE_DIR, PYTHON, free_port, get, stop, wait_until

LIST = "/patients/"


def names(response) -> list[str]:
    return [p.last_name for p in response.context["page_obj"]]


@pytest.fixture
def fran(world) -> Client:
    factories.PatientFactory(practice=world.sunrise, last_name="Okafor", first_name="Ada")
    return login(Client(), world.fran)


def assert_no_term_in_urls(response, term: str) -> None:
    """Neither a redirect nor the page's links or form actions carry the term."""
    for url, _status in getattr(response, "redirect_chain", []):
        assert term.lower() not in unquote(url).lower()
    if "Location" in response:
        assert term.lower() not in unquote(response["Location"]).lower()
    for attribute in ("href", "action", "hx-get", "hx-post", "hx-push-url"):
        for chunk in response.text.split(f'{attribute}="')[1:]:
            assert term.lower() not in unquote(chunk.split('"')[0]).lower()


class TestPatientSearchByPost:
    def test_search_by_post_redirects_to_the_plain_list_and_shows_the_matches(self, fran):
        response = fran.post(LIST, {"q": "okafor"})

        assert response.status_code == 302
        assert response["Location"] == LIST
        page = fran.get(response["Location"])
        assert names(page) == ["Okafor"]
        assert page.context["q"] == "okafor"
        assert_no_term_in_urls(page, "okafor")

    def test_following_the_search_never_lands_on_a_url_with_the_term(self, fran):
        response = fran.post(LIST, {"q": "Sunriser"}, follow=True)

        assert response.status_code == 200
        assert response.redirect_chain == [(LIST, 302)]
        assert response.request["PATH_INFO"] == LIST
        assert response.request["QUERY_STRING"] == ""
        assert names(response) == ["Sunriser"]
        assert_no_term_in_urls(response, "Sunriser")

    def test_htmx_search_answers_with_the_table_and_no_url_change(self, fran):
        response = fran.post(LIST, {"q": "Okafor"}, HTTP_HX_REQUEST="true", follow=True)

        assert response.status_code == 200
        assert names(response) == ["Okafor"]
        assert "HX-Push-Url" not in response
        assert "HX-Location" not in response
        assert_no_term_in_urls(response, "Okafor")

    def test_pages_keep_the_search_without_the_term_in_their_links(self, world, fran):
        for n in range(55):
            factories.PatientFactory(practice=world.sunrise, last_name=f"Zed{n:02d}")
        fran.post(LIST, {"q": "zed"})

        first = fran.get(LIST)
        second = fran.get(f"{LIST}?page=2")

        assert first.context["page_obj"].paginator.count == 55
        assert len(names(second)) == 5
        assert 'href="?page=2"' in first.text
        assert_no_term_in_urls(first, "zed")

    def test_an_empty_search_clears_it(self, fran):
        fran.post(LIST, {"q": "Okafor"})
        fran.post(LIST, {"q": "  "})

        assert sorted(names(fran.get(LIST))) == ["Okafor", "Sunriser"]

    def test_a_term_in_the_query_string_is_ignored(self, fran):
        response = fran.get(f"{LIST}?q=Okafor")

        assert sorted(names(response)) == ["Okafor", "Sunriser"]
        assert response.context["q"] == ""

    def test_the_search_form_posts_with_a_csrf_token(self, fran):
        page = fran.get(LIST).text
        # The page's own search form (the header has the global search form too).
        start = page.index('<form method="post" action="/patients/"')
        form = page[start : page.index("</form>", start)]
        assert 'method="post"' in form
        assert 'hx-post="/patients/"' in form
        assert "csrfmiddlewaretoken" in form
        assert "hx-get" not in form and "hx-push-url" not in form

    def test_the_search_is_kept_per_practice(self, world):
        other = factories.PatientFactory(practice=world.maple, last_name="Okafor")
        client = login(Client(), world.val)  # works at both practices
        session = client.session
        session["practice_id"] = world.sunrise.pk
        session.save()
        client.post(LIST, {"q": "Sunriser"})
        session = client.session
        session["practice_id"] = world.maple.pk
        session.save()

        response = client.get(LIST)

        assert response.context["q"] == ""
        assert other in list(response.context["page_obj"])
        assert Patient.objects.filter(practice=world.maple).count() == 2


def _search_kept(c: Case) -> bool:
    return PATIENT_SEARCH_KEY in c.client.session


class TestPatientSearchMatrix(PermissionMatrixMixin):
    """The search POST, for every persona: anyone who may list patients at their current
    practice keeps a term for it (Sunrise staff at Sunrise, mia at Maple); anonymous
    users are sent to sign in and keep nothing."""

    endpoints = [
        Endpoint(
            "patient search",
            "post",
            lambda w: LIST,
            SIGNED_IN,
            ok_status=302,
            data=lambda w: {"q": "Sunriser"},
            route="patient-list",
            done=_search_kept,
        ),
    ]


@pytest.mark.slow
def test_gunicorn_access_log_has_no_query_strings(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}
        and not k.startswith(("COV_CORE_", "PYTEST_", "DJANGO_"))
    }
    env |= {
        "BILLING_OPS_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "billing_ops.settings.local",
        "PYTHONUNBUFFERED": "1",
    }
    access_log = tmp_path / "access.log"
    port = free_port()
    # The same command line as docker-compose.yml's web service (gunicorn.conf.py is read
    # from the working directory), logging to a file instead of stdout.
    with (tmp_path / "gunicorn.log").open("wb") as out:
        web = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "billing_ops.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--access-logfile",
                str(access_log),
            ],
            cwd=BASE_DIR,
            env=env | {"DJANGO_SETTINGS_MODULE": "billing_ops.settings.local"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert wait_until(lambda: get(port, "/account/login/")[0] == 200, 60), (
            tmp_path / "gunicorn.log"
        ).read_text()
        get(port, "/account/login/?q=Sunriser&next=/patients/%3Fq%3DOkafor")
        assert wait_until(lambda: access_log.read_text().count("/account/login/") >= 2, 10)
    finally:
        stop(web)
    log = access_log.read_text()
    assert '"GET /account/login/ HTTP/1.1" 200' in log
    assert "Sunriser" not in log and "Okafor" not in log and "?" not in log
