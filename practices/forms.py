"""Forms for sign-in, the second factor and the practice switcher."""

from django import forms


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
