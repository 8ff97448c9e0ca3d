from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone


def validate_birth_date(value: datetime.date) -> None:
    """Refuse dates of birth in the future or before 1900."""
    if value > timezone.localdate():
        raise ValidationError("The date of birth cannot be in the future.", code="future")
    if value.year < 1900:
        raise ValidationError("Please check the year: it is before 1900.", code="too_old")
