"""The second-factor requirement, for every request (who needs one is a practices rule)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

from practices.recovery import SESSION_MFA_ENROLLED
from practices.selectors import mfa_required


class MfaRequiredMiddleware:
    """Sends users who need a second factor to enrolment or verification before anything else."""

    allowed_prefixes = ("/account/", "/static/", "/favicon")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(self.allowed_prefixes)
            and not user.is_verified()  # type: ignore[union-attr]
            and (mfa_required(user) or request.session.get(SESSION_MFA_ENROLLED))
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Second factor required: verify at /account/mfa/verify/."},
                    status=403,
                )
            target = "mfa-verify" if user_has_device(user) else "mfa-setup"
            return redirect(f"{reverse(target)}?next={request.path}")
        return self.get_response(request)
