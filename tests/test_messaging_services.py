"""The messaging services: what each write leaves behind, and what each refuses."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from clinicportal.accounts.models import PortalAccount
from clinicportal.audit.models import AuditEvent
from clinicportal.core.access import NotFound
from clinicportal.core.context import PortalActor
from clinicportal.messaging import services
from clinicportal.messaging.models import Conversation, Message, MessageRead, Task
from clinicportal.messaging.selectors import (
    messaging_settings_for,
    open_task_count,
    portal_messages,
    portal_unread_count,
)
from clinicportal.messaging.services import Draft
from clinicportal.notifications.models import OutboxEmail
from tests.conftest import actor, add_guardian, add_patient


def start(who: PortalActor, body: str = "I would like a refill.", key: str = "") -> Message:
    return services.conversation_start(
        actor=who,
        category="refill",
        subject="Refill",
        draft=Draft(body=body, key=key),
        requests_response=True,
    )


def test_a_patient_message_makes_a_task_and_the_practice_acknowledges_it(ada, alice):
    message = start(ada)
    history = list(message.conversation.messages.order_by("created_at", "id"))
    assert [m.writer for m in history] == ["patient", "automatic"]
    assert "within 2 business days" in history[1].body and "911" in history[1].body
    assert message.author_is_patient and message.author_name == ada.account.display_name
    task = Task.objects.get(message=message)
    assert task.is_open and task.category == "refill"
    assert open_task_count(actor=actor(alice)) == 1
    assert AuditEvent.objects.filter(action="message.sent", patient=ada.patient).count() == 1


def test_the_same_key_sends_one_message(ada):
    first = start(ada, key="k" * 32)
    again = start(ada, key="k" * 32)
    assert again.pk == first.pk
    assert Message.objects.filter(writer="patient").count() == 1
    assert Conversation.objects.count() == 1
    assert Task.objects.count() == 1


def test_another_patients_key_is_not_found(ada, alice, patient_b, issue_access):
    start(ada, key="shared-key")
    username, _ = issue_access(patient_b, "bea")
    bea = PortalActor(account=PortalAccount.objects.get(username=username), patient=patient_b)
    with pytest.raises(NotFound):
        start(bea, key="shared-key")


@pytest.mark.parametrize("body", ["", "   \n  "])
def test_an_empty_message_is_refused_and_nothing_is_written(ada, body):
    with pytest.raises(ValidationError) as refused:
        start(ada, body=body)
    assert "body" in refused.value.message_dict
    assert not Conversation.objects.exists() and not Task.objects.exists()


def test_a_category_switched_off_is_refused(ada, alice):
    services.messaging_settings_save(
        actor=actor(alice), response_time="within a day", names={}, off=["refill"]
    )
    with pytest.raises(ValidationError) as refused:
        start(ada)
    assert "category" in refused.value.message_dict
    assert not Message.objects.exists()


def test_an_authorized_user_writes_as_themselves(alice, patient_a):
    issued = add_guardian(alice, patient_a, display_name="Mary Lovelace")
    mary = PortalActor(account=issued.account, patient=patient_a)
    message = start(mary)
    assert message.author_name == "Mary Lovelace" and not message.author_is_patient


def test_the_office_reply_answers_the_checked_messages_and_queues_a_bare_email(ada, alice):
    asked = start(ada)
    reply = services.office_send(
        actor=actor(alice),
        patient=ada.patient,
        conversation=asked.conversation,
        draft=Draft(body="Your refill is at the pharmacy."),
        answering=[asked],
        office_notes="eRx to Walgreens",
        send_email=True,
    )
    asked.refresh_from_db()
    assert asked.answered_by_id == reply.pk and asked.response_at == reply.created_at
    email = OutboxEmail.objects.get(kind="message_waiting")
    assert reply.email_id == email.pk and email.to == ada.patient.email
    for text in (email.subject, email.body_text, email.body_html):
        assert "Refill" not in text and "refill" not in text and "Walgreens" not in text
    assert "You have a secure message waiting for you at" in email.body_text
    assert ada.practice.portal_path() in email.body_text


def test_a_reply_cannot_answer_another_patients_message(ada, alice, patient_b, issue_access):
    asked = start(ada)
    username, _ = issue_access(patient_b, "bea")
    bea = PortalActor(account=PortalAccount.objects.get(username=username), patient=patient_b)
    theirs = start(bea)
    with pytest.raises(NotFound):
        services.office_send(
            actor=actor(alice),
            patient=ada.patient,
            conversation=asked.conversation,
            draft=Draft(body="Done."),
            answering=[theirs],
            send_email=False,
        )
    assert not Message.objects.filter(writer="office").exists()
    theirs.refresh_from_db()
    assert theirs.response_at is None


def test_the_email_box_needs_an_address(ada, alice):
    no_email = add_patient(alice, "Nell", "Noaddress")
    with pytest.raises(ValidationError) as refused:
        services.office_send(
            actor=actor(alice),
            patient=no_email,
            subject="Hello",
            draft=Draft(body="Hi"),
            send_email=True,
        )
    assert "send_email" in refused.value.message_dict
    assert not Conversation.objects.exists()


def test_reading_marks_office_messages_once_and_logs_each(ada, alice):
    asked = start(ada)
    assert portal_unread_count(actor=ada) == 0  # the acknowledgement came back as it was sent
    for body in ("Done.", "And one more thing."):
        services.office_send(
            actor=actor(alice),
            patient=ada.patient,
            conversation=asked.conversation,
            draft=Draft(body=body),
            send_email=False,
        )
    assert portal_unread_count(actor=ada) == 2
    shown = portal_messages(actor=ada, conversation=asked.conversation).rows
    assert len(services.conversation_read(actor=ada, messages=shown)) == 2
    shown = portal_messages(actor=ada, conversation=asked.conversation).rows
    assert services.conversation_read(actor=ada, messages=shown) == []
    assert portal_unread_count(actor=ada) == 0
    assert MessageRead.objects.count() == 3  # the acknowledgement's too
    assert AuditEvent.objects.filter(action="message.read").count() == 2


def test_sign_off_records_who_and_a_second_sign_off_changes_nothing(ada, alice, bob):
    task = Task.objects.get(message=start(ada))
    services.task_sign_off(actor=actor(bob), task=task)
    task.refresh_from_db()
    assert task.signed_off_by_id == bob.user.pk and task.signed_off_at is not None
    with pytest.raises(services.TaskUnchanged):
        services.task_sign_off(actor=actor(alice), task=task)
    task.refresh_from_db()
    assert task.signed_off_by_id == bob.user.pk
    services.task_reopen(actor=actor(alice), task=task)
    task.refresh_from_db()
    assert task.is_open and task.signed_off_by is None
    actions = list(
        AuditEvent.objects.filter(action__startswith="task.").values_list("action", flat=True)
    )
    assert sorted(actions) == ["task.reopened", "task.signed_off"]


def test_another_practices_staff_cannot_sign_off(ada, carol):
    task = Task.objects.get(message=start(ada))
    with pytest.raises(NotFound):
        services.task_sign_off(actor=actor(carol), task=task)
    task.refresh_from_db()
    assert task.is_open


def test_settings_rename_and_switch_off_categories(alice):
    services.messaging_settings_save(
        actor=actor(alice),
        response_time=" within  one business day ",
        names={"optical": "Glasses & contacts orders", "bogus": "x"},
        off=["billing"],
    )
    config = messaging_settings_for(alice.practice)
    assert config.response_time == "within one business day"
    assert config.category_names == {"optical": "Glasses & contacts orders"}
    assert config.categories_off == ["billing"]


def test_only_admins_change_settings(bob):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.messaging_settings_save(actor=actor(bob), response_time="soon", names={}, off=[])
