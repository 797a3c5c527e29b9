"""MFA recovery codes, and the second-factor step's failure counting.

Ten one-time codes per user, generated on request from an MFA-verified session and shown
once; only their SHA-256 is stored (``RecoveryCode``), and generating again deletes the
old set. At the MFA step a recovery code is accepted instead of a TOTP code through the
``RecoveryCodeDevice`` (a django-otp device, so the session is verified the same way).

Every wrong code at the MFA step counts as a failed sign-in for django-axes (the same
per (account, address) and per-account limits as the password), so a stolen password (or
a password reset by e-mail) never buys unlimited guesses at the second factor; once
locked, the MFA step signs the user out and answers with the lockout page.
"""

from __future__ import annotations

import secrets
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from practices.models import RecoveryCode, RecoveryCodeDevice
from practices.stepup import step_up_response

CODE_COUNT = 10
# Set at sign-in: the user has a confirmed device, so the MFA step applies to them.
SESSION_MFA_ENROLLED = "mfa_enrolled"
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
CODE_GROUPS, GROUP_LENGTH = 4, 4  # 16 characters of 31 symbols: about 79 random bits


def _new_code() -> str:
    groups = (
        "".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


@transaction.atomic
def recovery_codes_generate(*, user: Any) -> list[str]:
    """A new set of one-time codes for the user; every earlier code stops working. The
    plain codes are returned once and never stored."""
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [_new_code() for _ in range(CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, code_hash=RecoveryCode.digest(code)) for code in codes
    )
    return codes


def recovery_codes_left(user: Any) -> int:
    """How many unused recovery codes the user has."""
    return RecoveryCode.objects.filter(device__user=user, used_at__isnull=True).count()


class SecondFactorForm(forms.Form):
    """A six-digit code from the authenticator app, or one recovery code."""

    token = forms.RegexField(
        regex=r"^\s*(\d{6}|[A-Za-z0-9]{4}(-?[A-Za-z0-9]{4}){3})\s*$",
        label="Six-digit code or a recovery code",
        error_messages={
            "invalid": "Enter the six digits your authenticator app shows, or a recovery code."
        },
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )

    def clean_token(self) -> str:
        return str(self.cleaned_data["token"]).strip()


def _credentials(user: Any) -> dict[str, str]:
    return {settings.AXES_USERNAME_FORM_FIELD: user.get_username()}


def second_factor_locked(request: HttpRequest, user: Any) -> bool:
    """Whether axes has locked this account at this address (password or MFA failures)."""
    return bool(AxesProxyHandler.is_locked(request, credentials=_credentials(user)))


def second_factor_failed(request: HttpRequest, user: Any) -> None:
    """Count a wrong MFA code as a failed sign-in (axes' failure log and lockout)."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)


def locked_out(request: HttpRequest) -> HttpResponse:
    """Sign out and answer with the lockout page (as axes does at the password step)."""
    logout(request)
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)


# login_required, not scoped_page: an account page about the user's own second factor.
@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Show how many codes are left; POST (after a step-up) makes a new set and shows it
    this once. Only from an MFA-verified session (this page is under /account/, which the
    MFA middleware lets through unverified)."""
    if not request.user.is_verified():  # type: ignore[union-attr]
        return redirect("mfa-verify")
    codes: list[str] = []
    if request.method == "POST":
        # New codes are a way past the second factor: confirm it is you first.
        if (ask := step_up_response(request)) is not None:
            return ask
        codes = recovery_codes_generate(user=request.user)
    context = {"codes": codes, "left": recovery_codes_left(request.user)}
    return render(request, "practices/people/recovery_codes.html", context)
