from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicportal.core.forms import FormErrorsConcernField


class PortalLoginForm(forms.Form):
    bound_field_class = FormErrorsConcernField  # a wrong password concerns both fields

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ChoosePatientForm(forms.Form):
    patient = forms.UUIDField(widget=forms.HiddenInput)


class ForgotPasswordForm(forms.Form):
    identifier = forms.CharField(
        label=_("Username or email address"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
