"""The portal's forms for secure messages: a new conversation, and a reply in one.

The services check what is typed (an empty message, a subject too long, a refused file) and say
why; these forms only carry it to them. The lengths are the browser's to count as well
(``maxlength``), but the services count them, after line breaks are made one character each.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinicportal.core.forms import MultipleFileField, OneTimeKeyField
from clinicportal.messaging.models import BODY_MAX, SUBJECT_MAX


def _body_field() -> forms.CharField:
    return forms.CharField(
        label=_("Message"),
        strip=False,  # the service keeps the lines as typed, and trims the ends itself
        error_messages={"required": _("Please type your message.")},
        widget=forms.Textarea(
            attrs={"rows": 8, "maxlength": BODY_MAX, "placeholder": _("Type message here")}
        ),
    )


def _attachments_field() -> MultipleFileField:
    return MultipleFileField(label=_("Attach Files"), required=False)


class ReplyForm(forms.Form):
    """A message from the patient's side in a conversation that exists."""

    body = _body_field()
    requests_response = forms.BooleanField(label=_("I would like a response"), required=False)
    attachments = _attachments_field()
    key = OneTimeKeyField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The same limit as every upload (content.uploads stops reading past it).
        self.fields["attachments"].help_text = gettext(
            "PDF, images (JPEG, PNG, GIF, TIFF, HEIC), text or Word (DOCX), up to %(size)s "
            "each. You can choose several files at once."
        ) % {"size": filesizeformat(settings.CLINICPORTAL_UPLOAD_MAX_BYTES)}


class ComposeForm(ReplyForm):
    """A new conversation: what it is about, its subject, and its first message."""

    field_order = ["category", "subject", "body", "requests_response", "attachments", "key"]

    category = forms.ChoiceField(
        label=_("What is your message about?"),
        error_messages={
            "required": _("Please choose what your message is about."),
            "invalid_choice": _("Please choose what your message is about."),
        },
    )
    subject = forms.CharField(
        label=_("Subject"),
        error_messages={"required": _("Please give the message a subject.")},
        widget=forms.TextInput(attrs={"maxlength": SUBJECT_MAX}),
    )

    def __init__(self, *args: Any, categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose one")), *categories]
