"""Session limits (idle and absolute) and the second-factor requirement, for every request."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

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
