"""Sign-in, second-factor enrolment and verification, sign-out.

These are account pages, not staff pages: they stay on ``login_required`` rather than the
kernel's ``scoped_page``, because they must work for a signed-in user who holds nothing at
any practice yet (a new account, a user between memberships) and before the second factor
is verified, i.e. before any practice scoping means anything. They read and write only the
user's own account and devices, never practice data.
"""

from __future__ import annotations

import base64
import io
import time
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from billing_ops.middleware import SESSION_LAST_SEEN, SESSION_STARTED
from practices import recovery
from practices.forms import SignInForm, TokenForm
from practices.stepup import record_step_up


class LoginView(auth_views.LoginView):
    """Django's login (session id rotated) plus the session clock for idle logoff."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True
    form_class = SignInForm

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if getattr(form, "throttled", False):
            response.status_code = 429
            response["Retry-After"] = "60"
        return response

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        now = int(time.time())
        self.request.session[SESSION_STARTED] = now
        self.request.session[SESSION_LAST_SEEN] = now
        record_step_up(self.request)  # the password was just given: sensitive actions may run
        # Whoever enrolled a second factor (e.g. through an invitation) must pass it, even
        # in a role that does not require one: a password alone (after a reset by e-mail,
        # say) never opens the pages. Read once here, not on every request.
        self.request.session[recovery.SESSION_MFA_ENROLLED] = user_has_device(form.get_user())
        return response


def safe_next(request: HttpRequest, default: str = "/") -> str:
    """The ``next`` parameter if it points inside this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# login_required, not scoped_page: an account page (see the module docstring).
@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """First-login enrolment: scan the QR code, then confirm with one code."""
    user = request.user
    if user_has_device(user):
        return redirect("mfa-verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            # A new session id for the verified session (as at sign-in): an id seen
            # before the second factor opens nothing after it.
            request.session.cycle_key()
            messages.success(request, "Two-factor sign-in is set up.")
            return redirect(safe_next(request))
        form.add_error("token", "That code did not match. Check the time on your phone and retry.")
    svg = io.BytesIO()
    write_qrcode_image(device.config_url, svg)
    context = {
        "form": form,
        # An <img> of the SVG: inline namespaced SVG is not drawn by browsers.
        "qr_src": "data:image/svg+xml;base64," + base64.b64encode(svg.getvalue()).decode(),
        "secret": base64.b32encode(device.bin_key).decode(),
        "next": safe_next(request),
    }
    return render(request, "registration/mfa_setup.html", context)


# login_required, not scoped_page: an account page (see the module docstring).
@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """Ask once per session for a code from the enrolled device, or a recovery code; wrong
    codes count toward the sign-in lockout (``practices.recovery``)."""
    if not user_has_device(request.user):
        return redirect("mfa-setup")
    if recovery.second_factor_locked(request, request.user):
        return recovery.locked_out(request)
    form = recovery.SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            request.session.cycle_key()  # as at enrolment: a new id for the verified session
            record_step_up(request)  # a fresh code counts as a step-up too
            return redirect(safe_next(request))
        recovery.second_factor_failed(request, request.user)
        if recovery.second_factor_locked(request, request.user):
            return recovery.locked_out(request)
        form.add_error("token", "That code did not match. Enter the current code.")
    return render(
        request, "registration/mfa_verify.html", {"form": form, "next": safe_next(request)}
    )
