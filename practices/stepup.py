"""Step-up authentication: sensitive actions ask again for the password or a fresh code.

Revoking access, changing a role or service areas, issuing API tokens and bulk exports
need the signed-in user to have confirmed who they are (password, or a fresh TOTP code
from their authenticator app) within ``STEP_UP_MAX_AGE`` seconds (default 300). Until
then they are sent to ``/account/step-up/?next=...``, which records the time in the
session and returns them to ``next`` (checked: only this site).

Three forms of the same rule, for views of any kind:

- ``step_up_required``: decorator for function views. Put it *below* ``scoped_page`` so a
  user without the permission gets the 404 first, never a step-up prompt.
- ``StepUpRequiredMixin``: for class-based views; list it *after* ``ScopedPageMixin``.
  ``step_up_methods`` limits it to some methods (e.g. only POST of a form page).
- ``step_up_response(request)``: for a view that must look its object up (404) before
  asking: returns the redirect to answer, or None when the step-up is fresh.
- ``StepUpFresh``: a DRF permission. Session-authenticated calls need a fresh step-up
  (403 naming the step-up page); token calls pass (a token is issued only after a
  step-up from an MFA-verified session, or by the service-account command).

A POST cannot be replayed after a redirect: for a refused POST the step-up page returns
the user to the page the form was on (the Referer, when it is this site's) to submit
again; for a GET it returns to the URL itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.permissions import BasePermission

from billing_ops.security import THROTTLED_MESSAGE, password_check_allowed

logger = logging.getLogger(__name__)

SESSION_STEP_UP_AT = "_step_up_at"
DEFAULT_MAX_AGE = 300  # seconds


def max_age() -> int:
    """Seconds a step-up stays fresh (setting ``STEP_UP_MAX_AGE``)."""
    return int(getattr(settings, "STEP_UP_MAX_AGE", DEFAULT_MAX_AGE))


def step_up_is_fresh(request: HttpRequest) -> bool:
    """Whether the session's user confirmed who they are within ``STEP_UP_MAX_AGE``."""
    if not request.user.is_authenticated:
        return False
    at = request.session.get(SESSION_STEP_UP_AT)
    if not isinstance(at, int):
        return False
    age = int(time.time()) - at
    return 0 <= age <= max_age()


def record_step_up(request: HttpRequest) -> None:
    """Mark the session as stepped up now (the step-up page calls this)."""
    request.session[SESSION_STEP_UP_AT] = int(time.time())


def _safe(request: HttpRequest, target: str | None) -> str | None:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def _return_to(request: HttpRequest) -> str:
    """Where to come back after the step-up: the URL itself for a GET; for other methods
    the page the form was on (the Referer, if it is this site's), else the home page."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    return _safe(request, request.headers.get("Referer")) or reverse("home")


def step_up_redirect(request: HttpRequest) -> HttpResponse:
    """The answer to a request that needs a fresh step-up: the step-up page with ``next``."""
    messages.info(request, "Please confirm it is you before you continue.", fail_silently=True)
    return redirect(f"{reverse('step-up')}?{urlencode({'next': _return_to(request)})}")


def step_up_response(request: HttpRequest) -> HttpResponse | None:
    """None when the step-up is fresh, else the redirect to answer with."""
    return None if step_up_is_fresh(request) else step_up_redirect(request)


def step_up_required[**P, R: HttpResponse](view: Callable[P, R]) -> Callable[P, HttpResponse]:
    """Function views: answer only with a fresh step-up, else send to the step-up page.
    Anonymous callers pass through to the view (whose login rule answers them)."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        request = args[0]
        assert isinstance(request, HttpRequest)
        if request.user.is_authenticated and not step_up_is_fresh(request):
            return step_up_redirect(request)
        return view(*args, **kwargs)

    wrapper.step_up = True  # type: ignore[attr-defined]
    return wrapper


class StepUpRequiredMixin:
    """Class-based views: the methods in ``step_up_methods`` (None: all) need a fresh
    step-up. List it after the scoping mixin, which answers 404 first."""

    step_up_methods: frozenset[str] | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        needs = self.step_up_methods is None or request.method in self.step_up_methods
        if needs and request.user.is_authenticated and not step_up_is_fresh(request):
            return step_up_redirect(request)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class StepUpFresh(BasePermission):
    """DRF: session callers need a fresh step-up; token callers pass (see the module)."""

    message = "Confirm it is you first: /account/step-up/ (then retry)."

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.auth is not None:  # token authentication
            return True
        return step_up_is_fresh(request._request)


# --- the step-up page -------------------------------------------------------------------


class StepUpForm(forms.Form):
    """The password, or the current six-digit code from the authenticator app."""

    password = forms.CharField(
        label="Password", required=False, strip=False, widget=forms.PasswordInput
    )
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="Or the six-digit code from your authenticator app",
        required=False,
        error_messages={"invalid": "Enter the six digits your authenticator app shows."},
    )

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password") or ""
        code = (data.get("code") or "").strip()
        if self.errors:
            return data
        if not password and not code:
            raise forms.ValidationError("Enter your password or a code from your app.")
        user = self.request.user
        if password:
            if not password_check_allowed(self.request):
                raise forms.ValidationError(THROTTLED_MESSAGE, code="throttled")
            # Through the authentication backends, so lockout (axes) counts wrong passwords.
            confirmed = authenticate(self.request, username=user.get_username(), password=password)
            if confirmed is None or confirmed.pk != user.pk:
                logger.info("step-up refused (password) for user %s", user.pk)
                raise forms.ValidationError("That password is not right. Try again.")
            return data
        # TOTP only (not one-time recovery codes): each code verifies once (django-otp
        # refuses a replayed code) and repeated failures are throttled.
        devices = TOTPDevice.objects.devices_for_user(user, confirmed=True)
        if not any(device.verify_token(code) for device in devices):
            logger.info("step-up refused (code) for user %s", user.pk)
            raise forms.ValidationError("That code did not match. Enter the current code.")
        return data


# login_required, not scoped_page: an account page about the caller's own identity.
@login_required
@require_http_methods(["GET", "POST"])
def step_up(request: HttpRequest) -> HttpResponse:
    """Ask for the password or a fresh code; on success note the time and go to ``next``."""
    target = _safe(request, request.POST.get("next") or request.GET.get("next"))
    target = target or reverse("home")
    form = StepUpForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        record_step_up(request)
        logger.info("step-up confirmed for user %s", request.user.pk)
        return redirect(target)
    has_device = TOTPDevice.objects.devices_for_user(request.user, confirmed=True).exists()
    context = {"form": form, "next": target, "has_device": has_device, "max_age": max_age()}
    return render(request, "practices/step_up.html", context)
