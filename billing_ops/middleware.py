"""Session limits (idle and absolute), and no caching of what a signed-in user is shown."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

SESSION_STARTED = "_auth_started"
SESSION_LAST_SEEN = "_auth_last_seen"
LAST_SEEN_GRANULARITY = 30  # seconds; avoids a session write on every request


class SessionLimitsMiddleware:
    """Logs a user out after SESSION_IDLE_TIMEOUT idle seconds or SESSION_ABSOLUTE_TIMEOUT."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.setdefault(SESSION_STARTED, now)
            last_seen = session.get(SESSION_LAST_SEEN, now)
            idle = now - last_seen > settings.SESSION_IDLE_TIMEOUT
            expired = now - started > settings.SESSION_ABSOLUTE_TIMEOUT
            if idle or expired:
                logout(request)
                reason = "inactivity" if idle else "the maximum session length"
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": f"Signed out after {reason}."}, status=401)
                messages.info(request, f"You were signed out after {reason}. Please sign in.")
                return redirect(f"{reverse('login')}?next={request.path}")
            if now - last_seen >= LAST_SEEN_GRANULARITY or SESSION_LAST_SEEN not in session:
                session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


class NoStoreForUsersMiddleware:
    """Marks every answer to a signed-in user ``no-store``: pages and API responses carry PHI,
    which no browser cache, history snapshot or shared proxy may keep.

    Runs after authentication; DRF's token authentication sets ``request.user`` on the
    Django request too, so token-authenticated API answers are covered. Static files never
    get here (WhiteNoise answers them first) and keep their long-lived caching.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # max-age=0, no-cache, no-store, must-revalidate, private; and Expires now.
            add_never_cache_headers(response)
            response.headers["Pragma"] = "no-cache"  # HTTP/1.0 caches
        return response
