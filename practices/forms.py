"""Forms for sign-in, the second factor and the practice switcher."""

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from billing_ops.security import THROTTLED_MESSAGE, password_check_allowed


class SignInForm(AuthenticationForm):
    """Django's sign-in form, refusing before the password is hashed once the address has
    made too many checks this minute (``billing_ops.security.password_check_allowed``)."""

    throttled = False

    def clean(self) -> dict[str, Any]:
        if self.request is not None and not password_check_allowed(self.request):
            self.throttled = True
            raise forms.ValidationError(THROTTLED_MESSAGE, code="throttled")
        return super().clean()


class TokenForm(forms.Form):
    """A six-digit code from an authenticator app."""

    token = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="Six-digit code",
        error_messages={"invalid": "Enter the six digits your authenticator app shows."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].strip()


class PracticeSwitchForm(forms.Form):
    """Choose the practice the pages show."""

    practice = forms.IntegerField()
