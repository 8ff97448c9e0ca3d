from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _


def validate_birth_date(value: datetime.date) -> None:
    """Refuse dates of birth in the future or before 1900."""
    if value > timezone.localdate():
        raise ValidationError(_("The date of birth cannot be in the future."), code="future")
    if value.year < 1900:
        raise ValidationError(_("Please check the year: it is before 1900."), code="too_old")
