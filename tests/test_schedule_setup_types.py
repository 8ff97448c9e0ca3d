"""Admin → Schedule's appointment types: added, changed, refused by field, and what patients
are offered by them.

Every refusal names the field it is about and writes nothing, not even an audit row.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from clinicportal.core.access import NotFound
from clinicportal.scheduling.models import AppointmentType
from clinicportal.scheduling.services import Choice, appointment_book
from clinicportal.scheduling.setup import (
    appointment_type_create,
    appointment_type_update,
    provider_create,
)
from tests.conftest import actor, add_patient
from tests.schedule_setup import (
    WEEKDAY_HOURS,
    at,
    audited,
    patient_actor,
    refused,
    schedule_on,
    weekday_ahead,
)


def test_an_appointment_type_is_added_and_changed(alice):
    chen = provider_create(actor=actor(alice), name="Dr. Chen")
    kind = appointment_type_create(
        actor=actor(alice),
        name=" Contact lens fitting ",
        minutes=45,
        online="office",
        instructions="  Bring your lenses.\n",
        providers=[chen],
    )
    assert (kind.name, kind.minutes, kind.online, kind.instructions) == (
        "Contact lens fitting",
        45,
        "office",
        "Bring your lenses.",
    )
    assert list(kind.providers.all()) == [chen] and kind.active and not kind.is_online
    changed = appointment_type_update(
        actor=actor(alice),
        kind=kind,
        name="Contact lens fitting",
        minutes=60,
        online="patients",
        instructions="",
        providers=[],
        active=False,
    )
    assert (changed.minutes, changed.online, changed.active) == (60, "patients", False)
    assert list(changed.providers.all()) == []  # none named: every provider
    assert audited("appointment_type.added") == 1 and audited("appointment_type.changed") == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "  "}, "name", "Please give the appointment type a name."),
        ({"minutes": 0}, "minutes", "from 5 to 480 minutes, in steps of 5"),
        ({"minutes": 485}, "minutes", "from 5 to 480 minutes, in steps of 5"),
        ({"minutes": 32}, "minutes", "from 5 to 480 minutes, in steps of 5"),
        ({"online": "anyone"}, "online", "Please choose who may book it."),
        ({"instructions": "x" * 2001}, "instructions", "2000 characters"),
        ({"name": "EYE EXAM"}, "name", "There is already an appointment type called"),
    ],
)
def test_bad_appointment_types_are_refused_by_field(alice, change, field, message):
    appointment_type_create(actor=actor(alice), name="Eye exam", minutes=30, online="patients")
    data = {"name": "Follow-up", "minutes": 15, "online": "patients", **change}
    errors = refused(appointment_type_create, actor=actor(alice), **data)
    assert list(errors) == [field] and message in errors[field][0]
    assert AppointmentType.objects.count() == 1 and audited("appointment_type.added") == 1


def test_renaming_a_type_to_its_own_name_in_other_letters_is_fine(alice):
    kind = appointment_type_create(actor=actor(alice), name="Eye exam", minutes=30, online="office")
    changed = appointment_type_update(
        actor=actor(alice),
        kind=kind,
        name="Eye Exam",
        minutes=30,
        online="office",
        instructions="",
        providers=[],
        active=True,
    )
    assert changed.name == "Eye Exam"


def test_a_type_of_another_practice_is_not_found(alice, carol):
    theirs = AppointmentType.objects.create(practice=carol.practice, name="Exam", minutes=30)
    with pytest.raises(NotFound):
        appointment_type_update(
            actor=actor(alice),
            kind=theirs,
            name="Mine",
            minutes=30,
            online="patients",
            instructions="",
            providers=[],
            active=True,
        )
    theirs.refresh_from_db()
    assert theirs.name == "Exam"


def test_a_patient_booking_meets_the_types_providers(alice):
    provider, kind = schedule_on(alice)
    park = provider_create(actor=actor(alice), name="Dr. Park", hours=WEEKDAY_HOURS)
    appointment_type_update(
        actor=actor(alice),
        kind=kind,
        name=kind.name,
        minutes=kind.minutes,
        online="patients",
        instructions="",
        providers=[park],
        active=True,
    )
    day = weekday_ahead(alice.practice)
    with pytest.raises(ValidationError) as raised:
        appointment_book(
            actor=patient_actor(alice, add_patient(alice, "Zed", "Zero")),
            choice=Choice(kind, provider, at(alice.practice, day, 9)),
            key="k2",
        )
    assert "provider" in raised.value.message_dict
