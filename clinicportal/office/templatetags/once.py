"""``{% submission_field %}``: the one-time token of a form that creates something."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from clinicportal.office.once import FIELD, submission_token

register = template.Library()


@register.simple_tag
def submission_field() -> SafeString:
    """A hidden field with a new token: see clinicportal/office/once.py."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, submission_token())
