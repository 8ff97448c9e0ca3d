"""SCHEDULE in the portal: the menu, the list, and booking a time step by step."""

from __future__ import annotations

import datetime
import html
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.accounts.models import PortalAccount
from clinicportal.audit.models import AuditEvent
from clinicportal.core.context import PortalActor
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice, StaffMember
from clinicportal.scheduling.models import (
    Appointment,
    AppointmentType,
    Provider,
    ScheduleSettings,
)
from clinicportal.scheduling.services import Choice, appointment_book, appointment_create
from tests.conftest import actor, add_patient
from tests.schedule_setup import at, patient_actor, provider_add, schedule_on, weekday_ahead

SLUG = "clinic-x"
LIST = reverse("portal:schedule", args=[SLUG])
BOOK = reverse("portal:schedule_book", args=[SLUG])


def utc(moment: datetime.datetime) -> str:
    """A time as the pages name it (``at``): its start in UTC, to the minute."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden fields of the page's (one) posting form: what its button sends."""
    form = re.search(r'<form method="post".*?</form>', page, re.S)
    assert form, "no form that posts"
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(0)))


def top_errors(page: str) -> str:
    found = re.search(r'<div class="form-errors" role="alert".*?</div>\s*</div>', page, re.S)
    found = found or re.search(r'<div class="form-errors" role="alert".*?</div>', page, re.S)
    assert found, "no errors at the top of the page"
    return found.group(0)


def times_on(page: str) -> list[str]:
    """The ``at`` of every time offered on a page of free times."""
    return re.findall(r'name="at" value="([^"]+)"', page)


def book(
    client: Client,
    kind: AppointmentType,
    provider: Provider | str,
    starts_at: datetime.datetime,
    url: str = BOOK,
) -> Any:
    """Open the confirmation of ``starts_at`` and post it, as the patient would."""
    params = {"provider": provider if isinstance(provider, str) else str(provider.public_id)}
    if url == BOOK:
        params["type"] = str(kind.public_id)
    confirm = client.get(url, {**params, "at": utc(starts_at)})
    assert confirm.status_code == 200, top_errors(text(confirm))
    return client.post(url, hidden_fields(text(confirm)))


def two_doctors(member: StaffMember) -> tuple[Provider, Provider, AppointmentType]:
    """SCHEDULE on (mode book): Dr. Chen and Dr. Diaz on weekdays, an eye exam (30 minutes)."""
    chen, exam = schedule_on(member)
    diaz = provider_add(member.practice, "Dr. Diaz")
    return chen, diaz, exam


@pytest.fixture
def booking(alice: StaffMember, patient_a: Patient, ada_portal: Client):
    return two_doctors(alice)


def other_patient(member: StaffMember, name: str = "Blaise") -> PortalActor:
    return patient_actor(member, add_patient(member, name, "Pascal"))


def ada_actor(client: Client, patient: Patient) -> PortalActor:
    """Ada's own account (the one the client is signed in as), as an actor."""
    account = PortalAccount.objects.select_related("practice").get(username="ada")
    return PortalActor(account=account, patient=patient)


def test_the_menu_shows_schedule_while_schedule_is_on_whatever_the_online_mode(
    alice, patient_a, ada_portal
):
    records = reverse("portal:records", args=[SLUG])
    assert "SCHEDULE" not in text(ada_portal.get(records))
    schedule_on(alice)
    assert f'href="{LIST}"' in text(ada_portal.get(records))
    # The office books: the patient still sees the appointments it made.
    ScheduleSettings.objects.filter(practice=alice.practice).update(mode="off")
    assert f'href="{LIST}"' in text(ada_portal.get(records))


def test_schedule_off_hides_every_route(booking, alice, patient_a, ada_portal):
    chen, _, exam = booking
    day = weekday_ahead(alice.practice)
    mine = appointment_book(
        actor=ada_actor(ada_portal, patient_a),
        choice=Choice(exam, chen, at(alice.practice, day, 9)),
        key="before-off",
    )
    Practice.objects.filter(slug=SLUG).update(schedule_enabled=False)
    records = text(ada_portal.get(reverse("portal:records", args=[SLUG])))
    assert "SCHEDULE" not in records
    shown = [LIST, reverse("portal:appointment", args=[SLUG, mine.public_id])]
    posted = [
        BOOK,
        reverse("portal:appointment_cancel", args=[SLUG, mine.public_id]),
        reverse("portal:appointment_move", args=[SLUG, mine.public_id]),
    ]
    for route in shown + posted:
        assert ada_portal.get(route).status_code == 404, route
    for route in posted:
        assert ada_portal.post(route, {}).status_code == 404, route
    assert ada_portal.get(BOOK, {"type": str(exam.public_id)}).status_code == 404
    mine.refresh_from_db()
    assert mine.status == Appointment.Status.BOOKED
    assert Appointment.objects.count() == 1


def test_with_online_scheduling_off_the_office_s_appointments_are_shown_and_changed_by_phone(
    booking, alice, patient_a, ada_portal
):
    chen, _, exam = booking
    day = weekday_ahead(alice.practice)
    mine = appointment_create(
        actor=actor(alice),
        patient=patient_a,
        choice=Choice(exam, chen, at(alice.practice, day, 9)),
        key="by-office",
    )
    ScheduleSettings.objects.filter(practice=alice.practice).update(mode="off")
    Practice.objects.filter(slug=SLUG).update(phone="555-0100")
    page = reverse("portal:appointment", args=[SLUG, mine.public_id])

    listed = text(ada_portal.get(LIST))
    assert f'href="{page}"' in listed
    assert "Appointments are made by the office. Please call the office at 555-0100." in listed
    assert BOOK not in listed

    shown = ada_portal.get(page)
    assert shown.status_code == 200
    html_text = text(shown)
    assert "Dr. Chen" in html_text
    assert "This appointment cannot be changed online. Please call the office at 555-0100." in (
        html_text
    )
    cancel = reverse("portal:appointment_cancel", args=[SLUG, mine.public_id])
    move = reverse("portal:appointment_move", args=[SLUG, mine.public_id])
    assert cancel not in html_text and move not in html_text
    for route in (BOOK, cancel, move):
        assert ada_portal.get(route).status_code == 404, route
        assert ada_portal.post(route, {}).status_code == 404, route
    mine.refresh_from_db()
    assert mine.status == Appointment.Status.BOOKED
    assert Appointment.objects.count() == 1


def test_the_patient_books_a_time_step_by_step(booking, alice, patient_a, ada_portal):
    chen, _, exam = booking
    AppointmentType.objects.create(
        practice=alice.practice, name="Surgery consult", minutes=60, online="office"
    )
    day = weekday_ahead(alice.practice)

    # 1. The kind of visit: only those booked online, each with its instructions.
    first = text(ada_portal.get(BOOK))
    assert "Eye exam" in first and "Bring your glasses." in first and "30 minutes" in first
    assert "Surgery consult" not in first

    # 2. The provider, or any.
    second = text(ada_portal.get(BOOK, {"type": str(exam.public_id)}))
    assert "Any provider" in second and "Dr. Chen" in second and "Dr. Diaz" in second

    # 3. A week of free times with Dr. Chen, from the week asked for, grouped by day.
    week = ada_portal.get(
        BOOK,
        {"type": str(exam.public_id), "provider": str(chen.public_id), "from": day.isoformat()},
    )
    page = text(week)
    assert day.strftime("%A, %B %-d") in page
    nine = at(alice.practice, day, 9)
    assert utc(nine) in times_on(page)
    assert "9:00 AM" in page and "12:00 PM" not in page  # lunch

    # 4. The confirmation: what, when, with whom, the instructions.
    confirm = text(
        ada_portal.get(
            BOOK,
            {"type": str(exam.public_id), "provider": str(chen.public_id), "at": utc(nine)},
        )
    )
    assert "Please check the details" in confirm
    for shown in ("Eye exam", "Dr. Chen", "9:00 AM to 9:30 AM", "Bring your glasses."):
        assert shown in confirm
    assert day.strftime("%A, %B %-d, %Y") in confirm
    assert "Book this time" in confirm and "will confirm" not in confirm
    assert not Appointment.objects.exists()  # nothing until the post

    done = ada_portal.post(BOOK, hidden_fields(confirm))
    booked = Appointment.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("portal:appointment", args=[SLUG, booked.public_id])
    assert (booked.provider, booked.type, booked.starts_at) == (chen, exam, nine)
    assert booked.status == Appointment.Status.BOOKED and booked.patient == patient_a
    shown = text(ada_portal.get(done["Location"]))
    assert "Your appointment is booked." in shown and "Dr. Chen" in shown
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.APPOINTMENT_BOOKED, patient=patient_a
    ).exists()

    listed = text(ada_portal.get(LIST))
    upcoming = listed.split('class="schedule-earlier"')[0]
    assert day.strftime("%A, %B %-d, %Y") in upcoming and "9:00 AM" in upcoming
    assert "Dr. Chen" in upcoming and "Eye exam" in upcoming and "Booked" in upcoming
    assert done["Location"] in upcoming


def test_a_time_inside_the_cut_off_says_before_booking_that_it_cannot_be_changed_online(
    booking, alice, ada_portal
):
    """Booking a time closer than the cut-off is allowed, but it cannot then be changed
    online: the confirmation says so, not only the appointment's page afterwards."""
    chen, _, exam = booking
    nine = at(alice.practice, weekday_ahead(alice.practice), 9)
    params = {"type": str(exam.public_id), "provider": str(chen.public_id), "at": utc(nine)}
    warning = "once it is booked, it can be changed or cancelled only by calling the office"
    ScheduleSettings.objects.filter(practice=alice.practice).update(cutoff_hours=0)
    assert warning not in text(ada_portal.get(BOOK, params))
    ScheduleSettings.objects.filter(practice=alice.practice).update(cutoff_hours=720)
    confirm = text(ada_portal.get(BOOK, params))
    assert f"This time is less than 720 hours away: {warning} at (207) 555-0100." in confirm
    assert "Book this time" in confirm


def test_request_mode_says_the_office_will_confirm(booking, alice, patient_a, ada_portal):
    chen, _, exam = booking
    ScheduleSettings.objects.filter(practice=alice.practice).update(mode="request")
    assert "Request an appointment" in text(ada_portal.get(LIST))
    nine = at(alice.practice, weekday_ahead(alice.practice), 9)
    confirm = text(
        ada_portal.get(
            BOOK,
            {"type": str(exam.public_id), "provider": str(chen.public_id), "at": utc(nine)},
        )
    )
    assert "The office will confirm the time" in confirm and "Send the request" in confirm
    done = ada_portal.post(BOOK, hidden_fields(confirm))
    asked = Appointment.objects.get()
    assert asked.status == Appointment.Status.REQUESTED
    page = text(ada_portal.get(done["Location"]))
    assert "Your request was sent. The office will confirm the time" in page
    assert "Requested" in page
    assert "Requested" in text(ada_portal.get(LIST)).split('class="schedule-earlier"')[0]


def test_any_provider_shows_each_time_once_and_books_the_first_free(
    booking, alice, patient_a, ada_portal
):
    chen, diaz, exam = booking
    day = weekday_ahead(alice.practice)
    nine = at(alice.practice, day, 9)
    # Dr. Chen (the first) is taken at 9:00 by someone else; Dr. Diaz is free then.
    appointment_book(actor=other_patient(alice), choice=Choice(exam, chen, nine), key="other")
    params = {"type": str(exam.public_id), "provider": "any", "from": day.isoformat()}
    offered = times_on(text(ada_portal.get(BOOK, params)))
    assert len(offered) == len(set(offered))
    assert utc(nine) in offered
    assert utc(at(alice.practice, day, 9, 15)) in offered

    confirm = text(ada_portal.get(BOOK, {**params, "at": utc(nine)}))
    assert "Dr. Diaz" in confirm
    ada_portal.post(BOOK, hidden_fields(confirm))
    mine = Appointment.objects.get(patient=patient_a)
    assert mine.provider == diaz and mine.starts_at == nine

    # With both free, "any" books the first of them.
    ten = at(alice.practice, day, 10)
    book(ada_portal, exam, "any", ten)
    assert Appointment.objects.get(patient=patient_a, starts_at=ten).provider == chen


def test_weeks_go_forward_and_back_up_to_the_horizon(booking, alice, ada_portal):
    _, _, exam = booking
    ScheduleSettings.objects.filter(practice=alice.practice).update(horizon_days=10)
    params = {"type": str(exam.public_id), "provider": "any"}
    first = text(ada_portal.get(BOOK, params))
    assert "Next week" in first and "Previous week" not in first
    following = re.search(r'href="\?([^"]+)" rel="next"', first)
    assert following
    second = text(ada_portal.get(f"{BOOK}?{following.group(1)}"))
    assert "Previous week" in second and "Next week" not in second  # day 10 is the last
    starts = re.search(r"from=([\d-]+)", following.group(1))
    assert starts
    last = datetime.date.fromisoformat(starts.group(1))
    for offered in times_on(second):
        moment = datetime.datetime.strptime(offered, "%Y-%m-%dT%H:%MZ").replace(tzinfo=datetime.UTC)
        assert moment.astimezone(alice.practice.zone).date() >= last
    # A week asked for past the horizon shows the last days, no further.
    far = (last + datetime.timedelta(days=100)).isoformat()
    assert "Next week" not in text(ada_portal.get(BOOK, {**params, "from": far}))


def test_times_are_the_practices_wall_clock(booking, alice, patient_a, ada_portal):
    chen, _, exam = booking
    Practice.objects.filter(slug=SLUG).update(time_zone="America/Los_Angeles")
    practice = Practice.objects.get(slug=SLUG)
    day = weekday_ahead(practice)
    params = {"type": str(exam.public_id), "provider": str(chen.public_id)}
    page = text(ada_portal.get(BOOK, {**params, "from": day.isoformat()}))
    nine = at(practice, day, 9)  # 9:00 in Los Angeles: 16:00 or 17:00 UTC
    assert utc(nine) in times_on(page)
    assert re.search(rf'value="{utc(nine)}">9:00 AM<', page)
    # Named as patients know it, not by its database name.
    assert "the office's local time: Pacific time (Los Angeles)." in page
    assert "America/Los_Angeles" not in page
    book(ada_portal, exam, chen, nine)
    listed = text(ada_portal.get(LIST))
    assert "9:00 AM" in listed and Appointment.objects.get().starts_at == nine


def test_the_list_has_upcoming_then_past_and_cancelled(booking, alice, patient_a, ada_portal):
    chen, _, exam = booking
    ada = ada_actor(ada_portal, patient_a)
    day = weekday_ahead(alice.practice)
    later = appointment_book(
        actor=ada, choice=Choice(exam, chen, at(alice.practice, day, 10)), key="later"
    )
    sooner = appointment_book(
        actor=ada, choice=Choice(exam, chen, at(alice.practice, day, 9)), key="sooner"
    )
    dropped = appointment_book(
        actor=ada, choice=Choice(exam, chen, at(alice.practice, day, 11)), key="dropped"
    )
    Appointment.objects.filter(pk=dropped.pk).update(status="cancelled")
    past = Appointment.objects.create(
        practice=alice.practice,
        patient=patient_a,
        provider=chen,
        type=exam,
        starts_at=at(alice.practice, day - datetime.timedelta(days=28), 9),
        ends_at=at(alice.practice, day - datetime.timedelta(days=28), 9, 30),
        status="booked",
    )
    page = text(ada_portal.get(LIST))
    upcoming, earlier = page.split('class="schedule-earlier"')
    assert upcoming.index(str(sooner.public_id)) < upcoming.index(str(later.public_id))
    assert str(dropped.public_id) not in upcoming and str(past.public_id) not in upcoming
    assert earlier.index(str(dropped.public_id)) < earlier.index(str(past.public_id))
    assert "Cancelled" in earlier and "Past" in earlier


def _many(member: StaffMember, patient: Patient, chen: Provider, exam, count: int) -> None:
    """``count`` appointments of ``patient`` with ``chen``, on the weekdays ahead."""
    practice = member.practice
    made, day = 0, weekday_ahead(practice)
    while made < count:
        if day.weekday() < 5:
            for hour in (9, 10, 11, 13, 14, 15, 16):
                if made == count:
                    break
                Appointment.objects.create(
                    practice=practice,
                    patient=patient,
                    provider=chen,
                    type=exam,
                    starts_at=at(practice, day, hour),
                    ends_at=at(practice, day, hour, 30),
                    status="booked",
                )
                made += 1
        day += datetime.timedelta(days=1)


def _queries(client: Client, url: str, params: dict[str, str] | None = None) -> list[str]:
    client.get(url, params)  # the first page after sign-in may stamp the session
    with CaptureQueriesContext(connection) as done:
        assert client.get(url, params).status_code == 200
    return [q["sql"] for q in done.captured_queries]


def test_the_list_takes_as_many_queries_for_20_appointments_as_for_2(
    booking, alice, patient_a, ada_portal
):
    chen, _, exam = booking
    _many(alice, patient_a, chen, exam, 2)
    few = _queries(ada_portal, LIST)
    Appointment.objects.all().delete()
    _many(alice, patient_a, chen, exam, 20)
    many = _queries(ada_portal, LIST)
    assert len(few) == len(many), many
    assert text(ada_portal.get(LIST)).count("Details<span") == 20


def test_the_times_take_as_many_queries_for_20_appointments_as_for_2(
    booking, alice, patient_a, ada_portal
):
    chen, _, exam = booking
    someone = add_patient(alice, "Blaise", "Pascal")
    day = weekday_ahead(alice.practice)
    params = {"type": str(exam.public_id), "provider": "any", "from": day.isoformat()}
    _many(alice, someone, chen, exam, 2)
    few = _queries(ada_portal, BOOK, params)
    Appointment.objects.all().delete()
    _many(alice, someone, chen, exam, 20)
    many = _queries(ada_portal, BOOK, params)
    assert len(few) == len(many), many
    confirm = {**params, "at": utc(at(alice.practice, day, 9, 30))}
    few_confirm = _queries(ada_portal, BOOK, confirm)
    Appointment.objects.all().delete()
    assert len(_queries(ada_portal, BOOK, confirm)) == len(few_confirm)
