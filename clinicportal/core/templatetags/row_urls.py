"""``{{ url|with_id:row.public_id }}``: a row's link from a URL reversed once for the page."""

from __future__ import annotations

import uuid

from django import template

from clinicportal.core import reversing

register = template.Library()


@register.filter
def with_id(url: str, row_id: uuid.UUID) -> str:
    """See clinicportal/core/reversing.py."""
    return reversing.with_id(url, row_id)
