"""The API tokens page: a person lists, creates and revokes their own tokens.

An account page (like the MFA pages): ``login_required`` rather than ``scoped_page``, since
a token belongs to its person, not to a practice; every lookup is of the caller's own
tokens (another person's token id answers 404). The page needs an MFA-verified session
(users without a device enrol first); creating and revoking also need a fresh step-up.
A new token is shown once, in the answer to the POST that made it (``no-store``, never
kept in the session or the database).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import user_has_device

from practices import tokens
from practices.models import ApiToken
from practices.stepup import step_up_response


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=80,
        help_text="What will use it, e.g. “nightly claims export script”.",
    )


def _is_verified(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_verified", lambda: False)())


def _verify_first(request: HttpRequest) -> HttpResponse:
    """Send a session without a verified second factor to enrol or verify, then back."""
    target = "mfa-verify" if user_has_device(request.user) else "mfa-setup"
    messages.info(request, "API tokens need a session verified with your authenticator app.")
    return redirect(f"{reverse(target)}?{urlencode({'next': reverse('account-tokens')})}")


def _page(
    request: HttpRequest, form: TokenCreateForm, new_token: str | None = None
) -> HttpResponse:
    context = {
        "form": form,
        "records": tokens.tokens_for(request.user)[:100],
        "new_token": new_token,
        "ttl_days": tokens.ttl().days,
    }
    return render(request, "practices/tokens.html", context)


# login_required, not scoped_page: an account page (see the module docstring).
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """List the caller's tokens; POST creates one (after a step-up) and shows it once."""
    if not _is_verified(request):
        return _verify_first(request)
    if request.method != "POST":
        return _page(request, TokenCreateForm())
    if (ask := step_up_response(request)) is not None:
        return ask
    form = TokenCreateForm(request.POST)
    if form.is_valid():
        try:
            record, plain = tokens.token_create(
                actor=request.user, name=form.cleaned_data["name"], mfa_verified=True
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("name", message)
        else:
            messages.success(
                request,
                f"Token “{record.name}” created. Copy it now: it is not shown again.",
            )
            return _page(request, TokenCreateForm(), new_token=plain)
    return _page(request, form)


# login_required, not scoped_page: an account page (see the module docstring).
@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the caller's own tokens (another person's answers 404)."""
    if not _is_verified(request):
        return _verify_first(request)
    record = ApiToken.objects.filter(user=request.user, pk=pk).first()
    if record is None:
        raise Http404("Not found.")
    if (ask := step_up_response(request)) is not None:
        return ask
    tokens.token_revoke(actor=request.user, record=record)
    messages.success(request, f"Token “{record.name}” revoked. It stops working at once.")
    return redirect("account-tokens")
