"""A practice's schedule as the office would set it up, for the scheduling tests."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from clinicportal.accounts.models import PortalGrant
from clinicportal.accounts.services.portal_access import portal_access_issue
from clinicportal.audit.models import AuditEvent
from clinicportal.core.context import PortalActor
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice, StaffMember
from clinicportal.scheduling.models import (
    AppointmentType,
    Provider,
    ScheduleSettings,
    WorkingHours,
)
from clinicportal.scheduling.slots import Block
from tests.conftest import actor

MORNING = (datetime.time(9), datetime.time(12))
AFTERNOON = (datetime.time(13), datetime.time(17))
T = datetime.time
WEEKDAY_HOURS = [
    Block(day, starts, ends) for day in range(5) for starts, ends in ((T(9), T(12)), (T(13), T(17)))
]


def audited(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def refused(call, *args, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        call(*args, **kwargs)
    return {key: [str(m) for m in messages] for key, messages in raised.value.message_dict.items()}


def provider_add(practice: Practice, name: str, weekdays: range = range(5)) -> Provider:
    """A provider seeing patients 9:00–12:00 and 13:00–17:00 (lunch between) on ``weekdays``."""
    provider = Provider.objects.create(practice=practice, name=name)
    for weekday in weekdays:
        for starts, ends in (MORNING, AFTERNOON):
            WorkingHours.objects.create(
                practice=practice, provider=provider, weekday=weekday, starts=starts, ends=ends
            )
    return provider


def schedule_on(
    member: StaffMember, mode: str = ScheduleSettings.Mode.BOOK, minutes: int = 30
) -> tuple[Provider, AppointmentType]:
    """SCHEDULE on, one provider with weekday hours, and an exam patients may book online."""
    practice = member.practice
    Practice.objects.filter(pk=practice.pk).update(schedule_enabled=True)
    practice.refresh_from_db()
    ScheduleSettings.objects.update_or_create(
        practice=practice,
        defaults={"mode": mode, "cutoff_hours": 24, "notice_hours": 2, "horizon_days": 60},
    )
    provider = provider_add(practice, "Dr. Chen")
    kind = AppointmentType.objects.create(
        practice=practice, name="Eye exam", minutes=minutes, instructions="Bring your glasses."
    )
    return provider, kind


def patient_actor(member: StaffMember, patient: Patient) -> PortalActor:
    """The patient's own portal account, as a signed-in actor (set up the first time only: a
    second setup would be a reissue, which emails the patient)."""
    grant = PortalGrant.objects.filter(patient=patient, kind=PortalGrant.Kind.PATIENT).first()
    if grant is not None:
        return PortalActor(account=grant.account, patient=patient)
    issued = portal_access_issue(
        actor=actor(member),
        patient=patient,
        username=f"{patient.first_name.lower()}{patient.pk}",
        password=None,
    )
    return PortalActor(account=issued.account, patient=patient)


def weekday_ahead(practice: Practice, weekday: int = 0, weeks: int = 1) -> datetime.date:
    """A ``weekday`` at least a week away, in the practice's calendar."""
    today = datetime.datetime.now(practice.zone).date()
    day = today + datetime.timedelta(days=7 * weeks)
    return day + datetime.timedelta(days=(weekday - day.weekday()) % 7)


def at(practice: Practice, day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """``day`` at hour:minute on the practice's clocks."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=practice.zone)
