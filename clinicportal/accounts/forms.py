"""Forms shared by the office and the portal: signing in, two-step sign-in and passwords."""

from __future__ import annotations

from typing import Any

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


class ConfirmForm(CodeForm):
    """The password and a code, asked again before two-step sign-in changes."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["password", "code"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.pop("autofocus", None)


class TurnOnForm(ConfirmForm):
    """Turning it on: the code comes from the app just added."""

    field_order = ["code", "password"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _("The 6-digit code the app shows now.")


class NewPasswordForm(forms.Form):
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters. A few unrelated words make a strong password."),
    )
    confirm_password = forms.CharField(
        label=_("New password again"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        new, again = data.get("new_password"), data.get("confirm_password")
        if new and again and new != again:
            self.add_error(
                "confirm_password", _("The two passwords do not match. Please type them again.")
            )
        return data


class ChangePasswordForm(NewPasswordForm):
    current_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["current_password", "new_password", "confirm_password"]
