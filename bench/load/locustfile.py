"""Twenty people working the queues at once (issue 10), for ``bench/load/run.py``.

Each simulated user is a biller with a signed-in, second-factor-verified session that the
runner made before the run (``LOAD_SESSIONS``: a JSON list of {"session", "claims"}); each
opens My day, payer AR, a claim page, calls ``GET /api/v1/claims/?queue=payer-ar`` or logs a
follow-up with its next action through the claim page's form (CSRF token from the page, the
version the page showed), on claims of its own so no two users post to the same claim.

``LOAD_THINK=1``: a request every ~2 s per user (``between(1.5, 2.5)``); otherwise none.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
from typing import Any

from locust import HttpUser, between, constant, events, task

SESSIONS: list[dict[str, Any]] = json.loads(
    open(os.environ["LOAD_SESSIONS"]).read()  # noqa: SIM115, PTH123
)
_slots = itertools.count()
THINK = os.environ.get("LOAD_THINK", "1") == "1"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# The follow-up form: the hidden version of the claim as the page showed it.
VERSION_FIELD = re.compile(
    r'<form[^>]*action="/claims/\d+/follow-up/".*?name="version" value="(\d+)"', re.S
)


class Biller(HttpUser):
    wait_time = between(1.5, 2.5) if THINK else constant(0)

    def on_start(self) -> None:
        slot = SESSIONS[next(_slots) % len(SESSIONS)]
        self.claims = itertools.cycle(slot["claims"])
        host = (self.host or "http://127.0.0.1").split("://", 1)[1].split(":")[0]
        self.client.cookies.set("sessionid", slot["session"], domain=host)
        self.client.headers["X-Forwarded-For"] = "127.0.0.1"

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        # Production marks its cookies Secure; the bench talks plain HTTP on loopback (the
        # TLS proxy is not part of it), so the cookies the server set are sent back anyway.
        for cookie in self.client.cookies:
            cookie.secure = False
        return self.client.request(method, url, **kwargs)

    def _page(self, url: str, name: str) -> None:
        """A GET that must answer 200 itself (a redirect to the sign-in page is an error)."""
        with self._send("GET", url, name=name, allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")

    @task(3)
    def my_day(self) -> None:
        self._page("/queues/my-day/", "my day")

    @task(3)
    def payer_ar(self) -> None:
        self._page("/queues/payer-ar/", "payer AR")

    @task(2)
    def claim_page(self) -> None:
        self._page(f"/claims/{next(self.claims)}/?from=payer-ar", "claim page")

    @task(2)
    def api_queue(self) -> None:
        self._page("/api/v1/claims/?queue=payer-ar", "api ?queue=payer-ar")

    @task(1)
    def follow_up(self) -> None:
        claim = next(self.claims)
        with self._send(
            "GET",
            f"/claims/{claim}/?from=payer-ar",
            name="claim page",
            allow_redirects=False,
            catch_response=True,
        ) as page:
            token, version = CSRF_FIELD.search(page.text), VERSION_FIELD.search(page.text)
            if token is None or version is None:
                page.failure(f"no follow-up form (status {page.status_code})")
                return
        due = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)).isoformat()
        with self._send(
            "POST",
            f"/claims/{claim}/follow-up/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "version": version.group(1),
                "queue": "payer-ar",
                "channel": "phone",
                "contact": "Rep #12 (load run)",
                "outcome": "In process, call back in a week.",
                "next_action": "call_payer",
                "next_action_due": due,
            },
            headers={"Referer": f"{self.host}/claims/{claim}/"},
            allow_redirects=False,
            name="follow-up post",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")


@events.quitting.add_listener
def _exit_code(environment: Any, **_kwargs: Any) -> None:
    # The runner reads the CSV stats; errors do not fail the process.
    environment.process_exit_code = 0
