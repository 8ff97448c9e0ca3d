"""Forms shared by the office and the portal: signing in, two-step sign-in and passwords."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicportal.accounts.selectors import SignedInDevice
from clinicportal.core.access import NotFound


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


class PasswordAgainForm(forms.Form):
    """The current password alone, asked again before signing devices out."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


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
        help_text=_(
            "At least 12 characters, and not mostly the practice's name or words like “portal” "
            "or “password”. A few unrelated words make a strong password."
        ),
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


# The list of signed-in devices: a "Sign out this device" form on each other device's row, and
# one "Sign out everywhere" form. Each asks for the password, so each has its own prefix.

END_ALL_PREFIX = "end-all"


def session_end_prefix(public_id: uuid.UUID) -> str:
    return f"end-{public_id}"


@dataclass(frozen=True)
class DeviceRow:
    device: SignedInDevice
    end_form: PasswordAgainForm | None  # none for this very device: that is Sign out


def device_rows(
    devices: list[SignedInDevice], *, refused: PasswordAgainForm | None = None
) -> list[DeviceRow]:
    """The list's rows, with ``refused`` (a row's form sent back with its error) in its place.

    A form sent for a session not on the list (another person's, this one, an unknown id, one
    ended meanwhile) is refused like an unknown id, as the service refuses it.
    """
    rows = []
    for device in devices:
        form = None
        if not device.current:
            prefix = session_end_prefix(device.public_id)
            form = refused if refused and refused.prefix == prefix else None
            form = form or PasswordAgainForm(prefix=prefix)
            # Name the device this password is for, next to the field's own error.
            bound = form["password"]
            described = [f"session-{device.public_id}"]
            if bound.errors:
                described.append(f"{bound.auto_id}_error")
            form.fields["password"].widget.attrs["aria-describedby"] = " ".join(described)
        rows.append(DeviceRow(device, form))
    if refused is not None and not any(row.end_form is refused for row in rows):
        raise NotFound("No such session.")
    return rows
