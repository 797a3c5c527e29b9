"""Sign-in protection: the client address a request came from, and the lockout rules.

Lockout (django-axes, ``AXES_HANDLER``): failures count per (account, address) pair, so
one person's typos never lock out the rest of an office behind the same address, and per
account over a rolling hour across every address, so spreading guesses over many
addresses buys no more than ``AXES_ACCOUNT_FAILURE_LIMIT`` of them.

Password checks (``password_check_allowed``): each one costs ~127 ms of CPU (Argon2, kept
on purpose), so one address may ask for at most ``PASSWORD_CHECKS_PER_MINUTE`` of them;
beyond that the sign-in and step-up forms answer without hashing. A burst of sign-ins (a
script, or a whole office at 8 a.m. behind one address far beyond normal) then cannot hold
the web workers' CPU away from page requests.
"""

from __future__ import annotations

import ipaddress
import time
from datetime import timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessFailureLog
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone


def _meta_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the socket's, or behind a TLS proxy (``CLIENT_IP_HEADER``)
    only what that header says, read from the right past ``TRUSTED_PROXY_COUNT`` proxies.

    Entries left of the trusted ones are whatever the client sent and are never read; a
    request without the header (it did not come through the proxy) has no address rather
    than a guessed one.
    """
    header: str | None = settings.CLIENT_IP_HEADER
    if header is None:
        candidate = request.META.get("REMOTE_ADDR", "")
    else:
        hops = [hop.strip() for hop in request.META.get(_meta_key(header), "").split(",")]
        hops = [hop for hop in hops if hop]
        count: int = settings.TRUSTED_PROXY_COUNT
        if len(hops) < count:
            return None
        candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def account_failures_last_hour(username: str | None) -> int:
    """Failed sign-ins for ``username`` (known or not) from any address in the past hour."""
    if not username:
        return 0
    since = timezone.now() - timedelta(hours=1)
    failures: int = AccessFailureLog.objects.filter(
        username=username, attempt_time__gte=since
    ).count()
    return failures


THROTTLED_MESSAGE = (
    "Too many sign-in attempts from your network in the last minute. Wait a minute, then try again."
)


def password_check_allowed(request: HttpRequest) -> bool:
    """Count one password check for the request's address in the current minute (in the
    shared cache, so every web worker counts together); False once the address has made
    more than ``PASSWORD_CHECKS_PER_MINUTE``. Requests with no known address count together."""
    limit: int = settings.PASSWORD_CHECKS_PER_MINUTE
    window = int(time.time() // 60)
    key = f"password-checks:{client_ip(request) or 'unknown'}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this is the window's first check
        cache.set(key, 1, timeout=120)
        count = 1
    return count <= limit


# axes ships no type information: its handler is ``Any`` to mypy.
class LockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]
    """axes' database handler plus the per-account limit over a rolling hour.

    The pair limit is axes' own (``AXES_LOCKOUT_PARAMETERS``, ``AXES_FAILURE_LIMIT``). The
    per-account count reads the failure log (``AXES_ENABLE_ACCESS_FAILURE_LOG``), which
    neither a success nor the cool-off clears; it lifts as the hour rolls on.
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """The pair's failures, or the failure limit itself once the account has reached
        its hourly limit: axes then refuses the attempt and answers with the lockout page
        exactly as for a locked pair."""
        failures: int = super().get_failures(request, credentials)
        username = get_client_username(request, credentials)
        limit: int = settings.AXES_ACCOUNT_FAILURE_LIMIT
        if account_failures_last_hour(username) >= limit:
            failure_limit: int = get_failure_limit(request, credentials)
            return max(failures, failure_limit)
        return failures
