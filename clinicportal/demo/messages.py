"""The demo practice's secure messages: a few conversations, replies and tasks in every state.

Jordan (the demo patient) has three conversations: one answered and read, one answered and
not read yet (the unread office reply), and one waiting for the office. Morgan, a parent,
wrote about Avery, and that one waits too. So Tasks has open and signed-off web messages.

Everything is written through the messaging services, as the portal and the office would, at
times in the past days: the clock is set back while each step runs, so the messages, their
tasks, read receipts and audit rows agree on when it happened. No email is queued: the demo's
addresses are not real people's, and the outbox starts empty.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django.db import transaction
from django.utils import timezone

from clinicportal.accounts.models import PortalAccount, PortalGrant
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.messaging.models import Conversation, Message, Task
from clinicportal.messaging.selectors import portal_messages
from clinicportal.messaging.services import (
    Draft,
    conversation_read,
    conversation_start,
    office_send,
    task_sign_off,
)
from clinicportal.patients.models import ChartFile, Patient


@contextmanager
def _at(when: datetime.datetime) -> Iterator[None]:
    """Run the services as if it were ``when`` (demo data only: it patches the clock)."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


def _ago(days: int, hour: int, minute: int = 0) -> datetime.datetime:
    day = timezone.localdate() - datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _portal_actor(practice_id: int, username: str, patient: Patient | None = None) -> PortalActor:
    account = PortalAccount.objects.get(practice_id=practice_id, username=username)
    if patient is None:
        patient = PortalGrant.objects.get(account=account, kind=PortalGrant.Kind.PATIENT).patient
    return PortalActor(account=account, patient=patient)


def _write(
    who: PortalActor,
    when: datetime.datetime,
    category: str,
    subject: str,
    body: str,
    *,
    requests_response: bool = False,
    reads_acknowledgement: bool = True,
) -> Message:
    """The patient's side starts a conversation, and opens it again a minute later."""
    with _at(when):
        message = conversation_start(
            actor=who,
            category=category,
            subject=subject,
            draft=Draft(body=body),
            requests_response=requests_response,
        )
    if reads_acknowledgement:
        _read(who, message.conversation, when + datetime.timedelta(minutes=1))
    return message


def _read(who: PortalActor, conversation: Conversation, when: datetime.datetime) -> None:
    with _at(when):
        conversation_read(
            actor=who, messages=portal_messages(actor=who, conversation=conversation).rows
        )


def _reply(
    staff: StaffActor,
    when: datetime.datetime,
    to: Message,
    body: str,
    notes: str,
    chart_files: tuple[ChartFile, ...] = (),
) -> Message:
    with _at(when):
        return office_send(
            actor=staff,
            patient=to.patient,
            conversation=to.conversation,
            draft=Draft(body=body),
            answering=[to],
            office_notes=notes,
            chart_files=chart_files,
            send_email=False,
        )


def _sign_off(staff: StaffActor, message: Message, when: datetime.datetime) -> None:
    with _at(when):
        task_sign_off(actor=staff, task=Task.objects.get(message=message))


def demo_messages(
    *, admin: StaffActor, staff: StaffActor, patient_username: str, guardian_username: str
) -> None:
    """Give the demo patients their messages, once: nothing happens if the practice has some."""
    practice = admin.practice
    if Conversation.objects.filter(practice=practice).exists():
        return
    jordan = _portal_actor(practice.pk, patient_username)
    avery = Patient.objects.get(practice=practice, first_name="Avery", last_name="Rivera")
    morgan = _portal_actor(practice.pk, guardian_username, patient=avery)
    summary = ChartFile.objects.filter(patient=jordan.patient, description="Visit summary")
    with transaction.atomic():
        # Answered, read and signed off, with the visit summary attached.
        moving = _write(
            jordan,
            _ago(12, 9, 14),
            "appointment",
            "Moving my eye exam",
            "Hi, my yearly exam next month falls in a week when I will be travelling. Could "
            "we move it a week later, ideally to a morning?\n\nThank you,\nJordan",
        )
        _reply(
            staff,
            _ago(12, 11, 2),
            moving,
            "Hi Jordan,\n\nYour exam is now one week later, at 9:30 AM. If that time does not "
            "suit you, reply here and we will find another.\n\nI attached the summary of your "
            "last visit, as you asked at the front desk.\n\nSam, Clearview Eye Care",
            "Moved in the schedule; the old time is free again.",
            chart_files=tuple(summary[:1]),
        )
        _sign_off(staff, moving, _ago(12, 11, 3))
        _read(jordan, moving.conversation, _ago(12, 18, 40))

        # Answered and signed off; Jordan has not opened the reply yet.
        refill = _write(
            jordan,
            _ago(3, 19, 30),
            "refill",
            "Refill of my dry eye drops",
            "My prescription eye drops for dry eye run out next week. Could you send a refill "
            "to Harbor Pharmacy on Fore Street?",
            requests_response=True,
        )
        _reply(
            staff,
            _ago(2, 10, 15),
            refill,
            "Hi Jordan,\n\nThe doctor approved the refill and we sent it to Harbor Pharmacy on "
            "Fore Street this morning. It is usually ready the same day.\n\n"
            "Sam, Clearview Eye Care",
            "Approved by the doctor; sent to the pharmacy at 10:05. Recheck the dry eye at the "
            "next yearly exam.",
        )
        _sign_off(admin, refill, _ago(2, 10, 20))

        # Waiting for the office: a question that asks for an answer, and a parent's message.
        _write(
            jordan,
            _ago(1, 21, 5),
            "clinical",
            "Gritty eyes in the evening",
            "For about a week my eyes have felt gritty and a little red by the evening, "
            "mostly after a day at the computer. No pain and my vision is the same. Should I "
            "come in, or try something first?",
            requests_response=True,
        )
        _write(
            morgan,
            _ago(1, 16, 20),
            "optical",
            "Avery's glasses broke",
            "Avery's glasses snapped at the hinge at school today. Can they be repaired, or do "
            "we need a new pair? We would also like to order a spare pair.\n\nMorgan Rivera",
            reads_acknowledgement=False,
        )
