"""Booking: patients book or request a free time, move or cancel it; the office confirms.

No double booking: every write that gives a provider a time locks the provider's row first and
then looks for a live appointment overlapping the time, so two patients taking the last slot at
once are served one after the other and the second hears "that time was just taken". A unique
index on (provider, start) of live appointments backs the lock up.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.access import NotFound, require_in_practice, require_reachable
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.messaging.services.tasks import appointment_task_record
from clinicportal.patients.models import Patient
from clinicportal.scheduling.models import Appointment, AppointmentType, Provider, ScheduleSettings
from clinicportal.scheduling.notices import appointment_notify
from clinicportal.scheduling.selectors import (
    LONGEST,
    change_deadline,
    earliest_online,
    last_online_day,
    providers_for,
    schedule_settings_for,
    slots_for,
)

Actor = PortalActor | StaffActor


class SlotTaken(ValidationError):
    """Someone else took the time between the page and the post."""

    def __init__(self) -> None:
        super().__init__(_("That time was just taken. Please choose another time."), code="taken")


@dataclass(frozen=True)
class Choice:
    """A time asked for: the type, the provider and the start (aware)."""

    kind: AppointmentType
    provider: Provider
    starts_at: datetime.datetime


def _open_online(actor: PortalActor) -> ScheduleSettings:
    config = schedule_settings_for(actor.practice)
    if not actor.practice.schedule_enabled or not config.online:
        raise NotFound("Online scheduling is off.")
    return config


def _check_offered(actor: Actor, choice: Choice, config: ScheduleSettings) -> None:
    """The time is one the schedule offers: in the provider's hours, on the grid, not past."""
    practice = actor.practice
    require_in_practice(actor, choice.kind)
    require_in_practice(actor, choice.provider)
    online = isinstance(actor, PortalActor)
    if online and not choice.kind.is_online:
        raise ValidationError(
            {"type": _("This kind of visit cannot be booked online. Please call the office.")}
        )
    if not choice.kind.active:
        raise ValidationError({"type": _("This kind of visit is no longer offered.")})
    if choice.provider not in providers_for(practice, choice.kind):
        raise ValidationError(
            {
                "provider": _("%(provider)s does not see patients for this visit.")
                % {"provider": choice.provider.name}
            }
        )
    now = timezone.now()
    if choice.starts_at <= now:
        raise ValidationError({"starts_at": _("That time has passed. Please choose another.")})
    day = choice.starts_at.astimezone(practice.zone).date()
    if online:
        if choice.starts_at < earliest_online(config, now):
            raise ValidationError(
                {
                    "starts_at": _(
                        "That time is too soon to book online. Please choose a later "
                        "time, or call the office."
                    )
                }
            )
        if day > last_online_day(practice, config):
            raise ValidationError(
                {"starts_at": _("That time is too far ahead to book online yet.")}
            )
    # Offered that day, whoever has booked it: in hours, on the grid, not a day off. Whether
    # it is free is asked under the provider's lock (_hold).
    offered = slots_for(
        practice=practice,
        kind=choice.kind,
        providers=[choice.provider],
        days=[day],
        earliest=now,
        config=config,
        bookings=False,
    )
    if not any(s.starts_at == choice.starts_at for s in offered):
        raise ValidationError(
            {
                "starts_at": _(
                    "%(provider)s does not see patients at that time. Please choose one of "
                    "the times shown."
                )
                % {"provider": choice.provider.name}
            }
        )


def _hold(
    choice: Choice, patient: Patient, moving: Appointment | None, *, office: bool = False
) -> datetime.datetime:
    """Lock the provider; refuse a time that overlaps a live appointment. Inside a transaction.

    ``office``: the office asks, about the patient (not "you").
    """
    Provider.objects.select_for_update().get(pk=choice.provider.pk)
    ends_at = choice.starts_at + datetime.timedelta(minutes=choice.kind.minutes)
    overlapping = Appointment.objects.filter(
        status__in=Appointment.LIVE,
        starts_at__gt=choice.starts_at - LONGEST,  # lets the index skip the history
        starts_at__lt=ends_at,
        ends_at__gt=choice.starts_at,
    )
    if moving is not None:
        overlapping = overlapping.exclude(pk=moving.pk)
    if overlapping.filter(provider=choice.provider).exists():
        raise SlotTaken
    if overlapping.filter(patient=patient).exists():
        if office:
            raise ValidationError(
                {"starts_at": _("The patient already has an appointment at that time.")}
            )
        raise ValidationError(
            {"starts_at": _("There is already an appointment for you at that time.")}
        )
    return ends_at


def appointment_book(*, actor: PortalActor, choice: Choice, key: str) -> Appointment:
    """Book (or, in request mode, ask for) a free time; the same ``key`` books once."""
    config = _open_online(actor)
    patient = actor.patient
    if patient is None:
        raise NotFound("No patient chosen.")
    if not key or len(key) > 64:
        raise ValidationError(_("This form has expired. Please try again."))
    earlier = Appointment.objects.filter(practice=actor.practice, idempotency_key=key).first()
    if earlier is not None:
        if earlier.booked_by_account_id != actor.account.pk:
            raise ValidationError(_("This form was already used. Please try again."))
        return earlier
    _check_offered(actor, choice, config)
    booked = config.mode == ScheduleSettings.Mode.BOOK
    try:
        with transaction.atomic():
            ends_at = _hold(choice, patient, None)
            appointment = Appointment.objects.create(
                practice=actor.practice,
                patient=patient,
                provider=choice.provider,
                type=choice.kind,
                starts_at=choice.starts_at,
                ends_at=ends_at,
                status=Appointment.Status.BOOKED if booked else Appointment.Status.REQUESTED,
                booked_by_account=actor.account,
                idempotency_key=key,
            )
            _changed(
                actor,
                appointment,
                AuditEvent.Action.APPOINTMENT_BOOKED
                if booked
                else AuditEvent.Action.APPOINTMENT_REQUESTED,
            )
    except IntegrityError:
        # The same form twice at once (the key), or a start the lock did not cover.
        again = Appointment.objects.filter(practice=actor.practice, idempotency_key=key).first()
        if again is not None:
            return again
        raise SlotTaken from None
    return appointment


def appointment_create(
    *, actor: StaffActor, patient: Patient, choice: Choice, key: str
) -> Appointment:
    """The office books a free time for a patient, confirmed at once; the same ``key`` once.

    Any type the practice offers (those booked by the office only too), with no notice or
    horizon limit, but not in the past and in the provider's hours; the same lock and overlap
    rules as a patient's booking.
    """
    require_reachable(actor, patient)
    if not key or len(key) > 64:
        raise ValidationError(_("This form has expired. Please try again."))
    earlier = Appointment.objects.filter(practice=actor.practice, idempotency_key=key).first()
    if earlier is not None:
        if earlier.booked_by_user_id != actor.user.pk or earlier.patient_id != patient.pk:
            raise ValidationError(_("This form was already used. Please try again."))
        return earlier
    _check_offered(actor, choice, schedule_settings_for(actor.practice))
    try:
        with transaction.atomic():
            ends_at = _hold(choice, patient, None, office=True)
            appointment = Appointment.objects.create(
                practice=actor.practice,
                patient=patient,
                provider=choice.provider,
                type=choice.kind,
                starts_at=choice.starts_at,
                ends_at=ends_at,
                status=Appointment.Status.BOOKED,
                booked_by_user=actor.user,
                idempotency_key=key,
            )
            _changed(actor, appointment, AuditEvent.Action.APPOINTMENT_BOOKED)
    except IntegrityError:
        again = Appointment.objects.filter(practice=actor.practice, idempotency_key=key).first()
        if again is not None:
            return again
        raise SlotTaken from None
    return appointment


def appointment_move(
    *, actor: Actor, appointment: Appointment, choice: Choice, message: str = ""
) -> Appointment:
    """Move a live appointment to another free time (patients: before the cut-off)."""
    require_reachable(actor, appointment)
    if isinstance(actor, PortalActor):
        config = _open_online(actor)
        _before_cutoff(appointment, config)
    else:
        config = schedule_settings_for(actor.practice)
    if not appointment.is_live:
        raise ValidationError(_("This appointment was cancelled; book a new one instead."))
    if choice.kind.pk != appointment.type_id:
        raise ValidationError({"type": _("A move keeps the kind of visit.")})
    _check_offered(actor, choice, config)
    request_mode = config.mode == ScheduleSettings.Mode.REQUEST
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if not locked.is_live:
            raise ValidationError(_("This appointment was cancelled; book a new one instead."))
        if locked.provider_id == choice.provider.pk and locked.starts_at == choice.starts_at:
            return locked  # already there: the same move twice (a double click) is one move
        ends_at = _hold(choice, appointment.patient, locked, office=isinstance(actor, StaffActor))
        status = (
            Appointment.Status.REQUESTED
            if isinstance(actor, PortalActor) and request_mode
            else Appointment.Status.BOOKED
        )
        try:
            with transaction.atomic():
                Appointment.objects.filter(pk=locked.pk).update(
                    provider=choice.provider,
                    starts_at=choice.starts_at,
                    ends_at=ends_at,
                    status=status,
                    office_message=message[:500] if isinstance(actor, StaffActor) else "",
                    version=F("version") + 1,
                    reminder_sent_at=None,
                    updated_at=timezone.now(),
                )
        except IntegrityError:
            raise SlotTaken from None
        locked.refresh_from_db()
        _changed(actor, locked, AuditEvent.Action.APPOINTMENT_MOVED)
    return locked


def appointment_cancel(*, actor: Actor, appointment: Appointment, message: str = "") -> Appointment:
    """Cancel: the time is free again (patients: before the cut-off). Twice is once."""
    require_reachable(actor, appointment)
    if isinstance(actor, PortalActor):
        _before_cutoff(appointment, _open_online(actor))
    with transaction.atomic():
        changed = Appointment.objects.filter(pk=appointment.pk, status__in=Appointment.LIVE).update(
            status=Appointment.Status.CANCELLED,
            cancelled_at=timezone.now(),
            cancelled_by_name=actor.name,
            office_message=message[:500] if isinstance(actor, StaffActor) else "",
            version=F("version") + 1,  # the invitation's SEQUENCE: a calendar takes the newest
            updated_at=timezone.now(),
        )
        appointment.refresh_from_db()
        if changed:
            _changed(actor, appointment, AuditEvent.Action.APPOINTMENT_CANCELLED)
    return appointment


def appointment_confirm(
    *, actor: StaffActor, appointment: Appointment, message: str = ""
) -> Appointment:
    """The office confirms a requested time. Twice is once."""
    require_reachable(actor, appointment)
    with transaction.atomic():
        changed = Appointment.objects.filter(
            pk=appointment.pk, status=Appointment.Status.REQUESTED
        ).update(
            status=Appointment.Status.BOOKED,
            office_message=message[:500],
            version=F("version") + 1,  # the invitation's SEQUENCE: a calendar takes the newest
            updated_at=timezone.now(),
        )
        appointment.refresh_from_db()
        if changed:
            _changed(actor, appointment, AuditEvent.Action.APPOINTMENT_CONFIRMED)
        elif not appointment.is_live:
            raise ValidationError(_("This appointment was cancelled."))
    return appointment


def appointment_view(*, actor: StaffActor, appointment: Appointment) -> None:
    """Record a staff member opening an appointment (it names the patient's visit)."""
    require_reachable(actor, appointment)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditEvent.Action.APPOINTMENT_VIEWED,
            target=appointment,
            patient=appointment.patient,
        )


def _before_cutoff(appointment: Appointment, config: ScheduleSettings) -> None:
    if timezone.now() > change_deadline(appointment.starts_at, config):
        raise ValidationError(
            _(
                "It is too late to change this appointment online (up to %(hours)s hours before). "
                "Please call the office."
            )
            % {"hours": config.cutoff_hours}
        )


def _changed(actor: Actor, appointment: Appointment, action: AuditEvent.Action) -> None:
    """What every change of an appointment does, inside its transaction: the audit row, the
    email to the patient, and (for a change the patient made online) the office's task."""
    audit_record(actor=actor, action=action, target=appointment, patient=appointment.patient)
    appointment_notify(actor=actor, appointment=appointment, action=action)
    appointment_task_record(actor=actor, appointment=appointment, action=action)
