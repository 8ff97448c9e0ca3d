"""The office's message forms: a new conversation, and the reply window's reply.

The messaging service checks everything again (and words its refusals for these fields: the
form's field names are the service's), so a refusal lands next to the field it is about.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from clinicportal.core.forms import MultipleFileField, OneTimeKeyField
from clinicportal.patients.models import ChartFile, Patient


class ReplyForm(forms.Form):
    """What the office sends: the message, its notes, its attachments and the email box."""

    body = forms.CharField(
        label=_("Message to send to patient"),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Please type your message.")},
    )
    office_notes = forms.CharField(
        label=_("Notes [office use only]"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional. Never shown to the patient, never in an email."),
    )
    chart_files = forms.MultipleChoiceField(
        label=_("Attach files from the chart"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    attachments = MultipleFileField(
        label=_("Attach files from this computer"),
        required=False,
        help_text=_("PDF, images (JPEG, PNG, GIF, TIFF, HEIC), text or Word (DOCX)."),
    )
    send_email = forms.BooleanField(
        label=_("Send email to the patient informing them of a response waiting for them"),
        required=False,
    )
    key = OneTimeKeyField()

    def __init__(
        self, *args: Any, patient: Patient, chart_files: list[ChartFile], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._chart_files = {str(f.public_id): f for f in chart_files}
        field = self.fields["chart_files"]
        field.choices = [  # type: ignore[attr-defined]
            (key, _chart_file_label(f)) for key, f in self._chart_files.items()
        ]
        email = self.fields["send_email"]
        if patient.email:
            email.initial = True
            email.help_text = _(
                "The email says only that a message is waiting, with the portal’s address: "
                "never the message, its subject or the notes."
            )
        else:
            # Nothing to send it to: say so, and leave the box unchecked.
            email.initial = False
            email.disabled = True
            email.help_text = _(
                "%(name)s has no email address, so no email can be sent. Add one with Edit details."
            ) % {"name": patient.first_name}

    def chosen_chart_files(self) -> list[ChartFile]:
        """The chart files checked (the field only takes the patient's own)."""
        return [self._chart_files[key] for key in self.cleaned_data.get("chart_files", [])]


class NewMessageForm(ReplyForm):
    """A new conversation: what it is about and its subject, then the message."""

    category = forms.ChoiceField(
        label=_("Category"),
        error_messages={"required": _("Please choose what the message is about.")},
    )
    subject = forms.CharField(
        label=_("Subject"),
        error_messages={"required": _("Please give the message a subject.")},
    )
    field_order = ["category", "subject", "body", "office_notes", "chart_files", "attachments"]

    def __init__(self, *args: Any, categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose…")),
            *categories,
        ]


def _chart_file_label(chart_file: ChartFile) -> str:
    date = date_format(chart_file.document_date, "m/d/Y")
    if chart_file.description:
        return f"{chart_file.filename} · {chart_file.description} ({date})"
    return f"{chart_file.filename} ({date})"
