"""Deployment checks of content: in production, uploads are scanned for viruses (ASVS 5.4.3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


def virus_scanner_check(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """``check --deploy`` warns while no clamd is named: patients' and staff's files are kept
    unscanned."""
    if settings.CLINICPORTAL_CLAMD:
        return []
    return [
        checks.Warning(
            "Uploads are not scanned for viruses: CLINICPORTAL_CLAMD is not set.",
            hint=(
                "Run ClamAV's clamd (Debian: clamav-daemon and clamav-freshclam) and set "
                "CLINICPORTAL_CLAMD to its socket, such as /run/clamav/clamd.ctl."
            ),
            id="content.W001",
        )
    ]
