from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicportal.accounts.services.common import SignInRefused
from clinicportal.accounts.services.sign_in import OfficeDoor, sign_in_attempt
from clinicportal.core.context import client_ip, user_agent
from clinicportal.core.forms import FormErrorsConcernField, MultipleFileField
from clinicportal.notifications.models import EmailSettings
from clinicportal.patients.services import PatientDetails
from clinicportal.patients.validators import validate_birth_date
from clinicportal.practices.models import Practice
from clinicportal.practices.selectors import staff_member_for_user
from clinicportal.practices.time_zones import time_zone_choices
from clinicportal.records.medlineplus import HealthTopic


class StaffLoginForm(AuthenticationForm):
    bound_field_class = FormErrorsConcernField  # a wrong password concerns both fields
    error_messages = {
        "invalid_login": (
            _("That username and password do not match. Please check them and try again.")
        ),
        "inactive": _("This account is not active. Please ask your practice admin."),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            assert self.request is not None, "LoginView passes the request"
            try:
                self.user_cache = sign_in_attempt(
                    OfficeDoor(),
                    username=username,
                    password=password,
                    ip=client_ip(self.request),
                    user_agent=user_agent(self.request),
                )
            except SignInRefused as refused:
                if refused.code in ("locked", "expired"):
                    raise forms.ValidationError(refused.message, code=refused.code) from None
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

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
        label=_("First name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=DateInput(),
        validators=[validate_birth_date],
        help_text=_("For example 1984-03-27."),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    address_line1 = forms.CharField(label=_("Address"), max_length=200, required=False)
    address_line2 = forms.CharField(label=_("Address line 2"), max_length=200, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    region = forms.CharField(label=_("State"), max_length=100, required=False)
    postal_code = forms.CharField(label=_("ZIP code"), max_length=20, required=False)

    def details(self) -> PatientDetails:
        return PatientDetails(**self.cleaned_data)


class ChartFileUploadForm(forms.Form):
    uploads = MultipleFileField(
        label=_("Files"),
        help_text=_("PDF, images (JPEG, PNG, GIF, TIFF, HEIC), text or Word (DOCX)."),
    )
    document_date = forms.DateField(label=_("Date"), widget=DateInput(), initial=timezone.localdate)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)


class PracticeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    address = forms.CharField(
        label=_("Address"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        help_text=_(
            "The office and the portal show dates and times in this zone, and each day (such as "
            "Payments of the day) begins and ends at midnight here."
        ),
        error_messages={
            "required": _("Please choose the practice’s time zone."),
            "invalid_choice": _(
                "“%(value)s” is not a time zone name. Please choose one from the list."
            ),
        },
    )
    forms_enabled = forms.BooleanField(label=_("Forms"), required=False)
    schedule_enabled = forms.BooleanField(label=_("Schedule"), required=False)
    pay_bills_enabled = forms.BooleanField(
        label=_("Pay Bills"),
        required=False,
        help_text=_(
            "Patients see their invoices and payments. To let them pay online, choose a "
            "card processor in Admin → Payments."
        ),
    )
    portal_idle_minutes = forms.IntegerField(
        label=_("Sign patients out after (minutes without activity)"),
        min_value=2,
        max_value=120,
        help_text=_("From 2 to 120 minutes; 15 is usual."),
    )
    logs_staff_as = forms.ChoiceField(
        label=_("When staff open a patient’s chart or portal files, the patient’s LOGS say"),
        choices=[
            (Practice.LogsStaffAs.OFFICE, _("“The office viewed …”")),
            (Practice.LogsStaffAs.NAME, _("The staff member’s name: “Jane Doe viewed …”")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose how LOGS name office staff.")},
    )


class PortalAccessForm(forms.Form):
    """Username and password for a patient's portal; "Default" fills both in."""

    username = forms.CharField(
        label=_("Username"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    password = forms.CharField(
        label=_("Temporary password"),
        required=False,
        strip=False,
        max_length=256,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "Leave empty for a strong one. The patient chooses their own at first sign-in."
        ),
    )


class AuthorizedUserForm(forms.Form):
    display_name = forms.CharField(label=_("Name"), max_length=200)
    username = forms.CharField(
        label=_("Username"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    password = forms.CharField(
        label=_("Temporary password"),
        required=False,
        strip=False,
        max_length=256,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=(
            _(
                "Leave empty (or press Default) for a strong one. Either way, they choose their "
                "own at first sign-in."
            )
        ),
    )
    note = forms.CharField(
        label=_("Notes"),
        max_length=200,
        required=False,
        help_text=_("For example: mother, spouse."),
    )
    email = forms.EmailField(label=_("Email"), required=False)


class AuthorizedUserLinkForm(forms.Form):
    username = forms.CharField(
        label=_("Their username"),
        max_length=150,
        help_text=_(
            "Someone already authorized for another patient of the practice, like a parent."
        ),
    )
    note = forms.CharField(label=_("Notes"), max_length=200, required=False)


class EmailSettingsForm(forms.Form):
    host = forms.CharField(
        label=_("SMTP server"), max_length=255, help_text=_("For example smtp.gmail.com.")
    )
    port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=587)
    security = forms.ChoiceField(label=_("Security"), choices=EmailSettings.Security.choices)
    username = forms.CharField(label=_("Username"), max_length=255, required=False)
    password = forms.CharField(
        label=_("Password"),
        max_length=255,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Never shown again once saved. Leave empty to keep the saved one."),
    )
    from_address = forms.EmailField(label=_("From address"))


class TestEmailForm(forms.Form):
    to = forms.EmailField(label=_("Send a test email to"))


class ShareToPortalForm(forms.Form):
    document_date = forms.DateField(label=_("Date"), widget=DateInput())
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    is_education = forms.BooleanField(label=_("Education resource"), required=False)


class PortalUploadForm(ShareToPortalForm):
    upload = forms.FileField(
        label=_("File"),
        help_text=_("PDF, images (JPEG, PNG, GIF, TIFF, HEIC), text or Word (DOCX)."),
    )
    field_order = ["upload", "document_date", "description", "is_education"]


class SystemDocumentForm(forms.Form):
    upload = forms.FileField(
        label=_("File"), help_text=_("PDF is best: every patient can open it.")
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=300,
        help_text=_("What patients see, e.g. “About glaucoma”."),
    )


class ReplaceFileForm(forms.Form):
    upload = forms.FileField(label=_("New file"))


class ChooseDocumentForm(forms.Form):
    """Pick one of ``choices`` (public id, label)."""

    document = forms.ChoiceField(
        label=_("Document"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose a file first.")},
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["document"].choices = choices  # type: ignore[attr-defined]


class AssignForm(ChooseDocumentForm):
    """Pick a document and say whether it is an education resource."""

    is_education = forms.BooleanField(label=_("Education resource"), required=False, initial=True)


class AssignOtherConfirmForm(forms.Form):
    """Confirm one file of another patient: the Education box starts as the file has it.

    A personal record asks the staff member to confirm that this patient may see it.
    """

    is_education = forms.BooleanField(label=_("Education resource"), required=False)
    confirm_personal = forms.BooleanField(required=True)

    def __init__(self, *args: Any, personal: bool, patient: str, other: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not personal:
            del self.fields["confirm_personal"]
            return
        names = {"patient": patient, "other": other}
        field = self.fields["confirm_personal"]
        field.label = _("I have checked that %(patient)s may see %(other)s’s information.") % names
        field.error_messages["required"] = (
            _("Please confirm that %(patient)s may see %(other)s’s information.") % names
        )


class TopicShareForm(forms.Form):
    """Share one Search Online result: the topic travels signed, so it is shared as found."""

    topic = forms.CharField(widget=forms.HiddenInput)
    is_education = forms.BooleanField(label=_("Education resource"), required=False, initial=True)

    def clean_topic(self) -> HealthTopic:
        try:
            return HealthTopic.from_signed(self.cleaned_data["topic"])
        except ValueError:
            raise ValidationError(
                _("That search result has expired. Please search again.")
            ) from None


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label=_("What will use it"),
        help_text=_("For example “Front desk printer” or “Optical lab”."),
    )
