"""What the office's Schedule tests share: appointments put in place, and pages read as words."""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlencode

from django.urls import reverse

from clinicportal.patients.models import Patient
from clinicportal.practices.models import StaffMember
from clinicportal.scheduling.models import Appointment, AppointmentType, Provider
from tests.pages import page_text
from tests.schedule_setup import at, provider_add, schedule_on, weekday_ahead


def place(
    patient: Patient,
    provider: Provider,
    kind: AppointmentType,
    starts_at: datetime.datetime,
    status: str = Appointment.Status.BOOKED,
) -> Appointment:
    """An appointment as the services would leave it (the calendar only reads them)."""
    return Appointment.objects.create(
        practice=patient.practice,
        patient=patient,
        provider=provider,
        type=kind,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=kind.minutes),
        status=status,
    )


def text(response) -> str:
    """The page's words, tags dropped and spaces squeezed, as a reader would meet them."""
    return page_text(response.content.decode())


def errors_of(html: str, field_id: str) -> list[str]:
    found = re.search(rf'id="{field_id}_error">(.*?)</div>', html, flags=re.S)
    return re.findall(r"<p>(.*?)</p>", found.group(1)) if found else []


class Desk:
    """Schedule on with Dr. Chen and Dr. Lee; an online eye exam and an office-only consult."""

    def __init__(self, alice: StaffMember, patient: Patient) -> None:
        self.chen, self.exam = schedule_on(alice)
        self.lee = provider_add(alice.practice, "Dr. Lee")
        self.consult = AppointmentType.objects.create(
            practice=alice.practice, name="Surgery consult", minutes=60, online="office"
        )
        self.consult.providers.add(self.lee)  # only Dr. Lee sees it
        self.practice = alice.practice
        self.patient = patient
        self.tuesday = weekday_ahead(alice.practice, 1)

    @property
    def url(self) -> str:
        return reverse("office:appointment_new", args=[self.patient.public_id])

    def find(
        self, kind: AppointmentType, day: datetime.date | None = None, **more: str
    ) -> dict[str, str]:
        return {"type": str(kind.public_id), "day": (day or self.tuesday).isoformat(), **more}

    def query(self, kind: AppointmentType, **more: str) -> str:
        return f"{self.url}?{urlencode(self.find(kind, None, **more))}"

    def slot(
        self, provider: Provider, hour: int, minute: int = 0, day: datetime.date | None = None
    ) -> str:
        starts_at = at(self.practice, day or self.tuesday, hour, minute)
        return f"{provider.public_id}@{int(starts_at.timestamp())}"
