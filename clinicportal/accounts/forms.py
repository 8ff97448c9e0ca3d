"""Forms shared by the office and the portal for signing in."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        # A recovery code is 24 letters and digits in groups, typed with spaces or hyphens.
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
        help_text=_(
            "The 6-digit code your authenticator app shows, or one of your recovery codes."
        ),
    )


class TurnOffForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
