from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from clinicportal.patients.services import PatientDetails
from clinicportal.patients.validators import validate_birth_date
from clinicportal.practices.selectors import staff_member_for_user


class StaffLoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": (
            "That username and password do not match. Please check them and try again."
        ),
        "inactive": "This account is not active. Please ask your practice admin.",
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if staff_member_for_user(user.pk) is None:
            raise forms.ValidationError(self.error_messages["inactive"], code="inactive")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class PatientForm(forms.Form):
    first_name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    last_name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    date_of_birth = forms.DateField(
        widget=DateInput(), validators=[validate_birth_date], help_text="For example 1984-03-27."
    )
    email = forms.EmailField(required=False)
    phone = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    address_line1 = forms.CharField(label="Address", max_length=200, required=False)
    address_line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    city = forms.CharField(max_length=100, required=False)
    region = forms.CharField(label="State", max_length=100, required=False)
    postal_code = forms.CharField(label="ZIP code", max_length=20, required=False)

    def details(self) -> PatientDetails:
        return PatientDetails(**self.cleaned_data)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            raise forms.ValidationError("Please choose at least one file.", code="required")
        return list(files)


class ChartFileUploadForm(forms.Form):
    uploads = MultipleFileField(
        label="Files", help_text="PDF, images (JPEG, PNG, GIF, TIFF, HEIC), text or Word (DOCX)."
    )
    document_date = forms.DateField(label="Date", widget=DateInput(), initial=timezone.localdate)
    description = forms.CharField(max_length=300, required=False)


class PracticeForm(forms.Form):
    name = forms.CharField(max_length=200)
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    phone = forms.CharField(max_length=40, required=False)
    forms_enabled = forms.BooleanField(label="Forms", required=False)
    schedule_enabled = forms.BooleanField(label="Schedule", required=False)
    pay_bills_enabled = forms.BooleanField(label="Pay Bills", required=False)
