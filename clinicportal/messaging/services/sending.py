"""Send secure messages: from the patient's side and from the office.

A message, its attachments, its task and its email are written in one transaction: all of
them, or (on any refusal or fault) none. Each form that sends carries a one-time key; a second
post with the key (a double click, a retried request, two at the same moment) finds the first
message instead of writing another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinicportal.accounts.models import PortalGrant
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.content.services import (
    CheckedUpload,
    blob_put_upload,
    uploads_validate,
)
from clinicportal.content.uploads import HashedUpload
from clinicportal.core.access import NotFound, portal_patient, require_reachable
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.core.http import absolute_url
from clinicportal.messaging.models import (
    ATTACHMENTS_MAX,
    BODY_MAX,
    SUBJECT_MAX,
    Attachment,
    Category,
    Conversation,
    Message,
    MessageRead,
    MessagingSettings,
    Task,
)
from clinicportal.messaging.selectors import categories_offered, messaging_settings_for
from clinicportal.messaging.services.quota import portal_upload_quota_check
from clinicportal.notifications.services import email_queue
from clinicportal.patients.models import ChartFile, Patient
from clinicportal.records.services import portal_document_from_patient

KEY_MAX = 64


@dataclass(frozen=True)
class Draft:
    """What a sender typed: the same for the patient's side and the office."""

    body: str
    uploads: Sequence[HashedUpload] = ()
    key: str = ""  # the form's one-time key


# Checking what was typed -----------------------------------------------------------------------


def _clean_body(body: str) -> str:
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError({"body": _("Please type your message.")}, code="required")
    if len(text) > BODY_MAX:
        raise ValidationError(
            {
                "body": _("Please keep the message under %(max)d characters (it has %(n)d).")
                % {"max": BODY_MAX, "n": len(text)}
            },
            code="max_length",
        )
    return text


def _clean_subject(subject: str) -> str:
    text = " ".join(subject.split())
    if not text:
        raise ValidationError({"subject": _("Please give the message a subject.")}, code="required")
    if len(text) > SUBJECT_MAX:
        raise ValidationError(
            {
                "subject": _("Please keep the subject under %(max)d characters.")
                % {"max": SUBJECT_MAX}
            },
            code="max_length",
        )
    return text


def _checked_uploads(uploads: Sequence[HashedUpload]) -> list[tuple[HashedUpload, CheckedUpload]]:
    """Check every file like a record; refuse all of them if any is refused."""
    if len(uploads) > ATTACHMENTS_MAX:
        raise ValidationError(
            {
                "attachments": ngettext(
                    "Please attach at most %(max)d file.",
                    "Please attach at most %(max)d files.",
                    ATTACHMENTS_MAX,
                )
                % {"max": ATTACHMENTS_MAX}
            },
            code="too_many",
        )
    try:
        return uploads_validate(uploads)
    except ValidationError as exc:
        raise ValidationError({"attachments": exc.error_list}) from None


def _sent_or_checked(
    actor: PortalActor, patient: Patient, key: str, draft: Draft
) -> tuple[Message | None, list[tuple[HashedUpload, CheckedUpload]]]:
    """The message the form's ``key`` already made (the form posted again: its files are not
    checked again); or else the form's files, checked. The quota comes first, as it stands
    (files past it are not worth a scan); it is counted again, for good, as the message is
    written."""
    if (sent := _sent_before(actor, patient, key)) is not None:
        return sent, []
    try:
        portal_upload_quota_check(actor=actor, uploads=draft.uploads, lock=False)
    except ValidationError:
        # The same form, posted at the same moment, may have been sent since the look-up:
        # then its files are in the count, and this post is no new message to refuse.
        if (sent := _sent_before(actor, patient, key)) is not None:
            return sent, []
        raise
    return None, _checked_uploads(draft.uploads)


def _gather(errors: dict[str, str], clean: Callable[[str], str], text: str) -> str:
    """Return ``clean(text)``; or note why it is refused in ``errors``, to say all at once."""
    try:
        return clean(text)
    except ValidationError as exc:
        errors.update({field: said[0] for field, said in exc.message_dict.items()})
        return text


def _clean_key(key: str) -> str:
    return key.strip()[:KEY_MAX]


# Writing ---------------------------------------------------------------------------------------


def _sent_before(actor: PortalActor | StaffActor, patient: Patient, key: str) -> Message | None:
    """The message the form's ``key`` already made, if any (a form posted again)."""
    if not key:
        return None
    found = (
        Message.objects.filter(practice=actor.practice, idempotency_key=key)
        .select_related("conversation")
        .first()
    )
    if found is not None and found.patient_id != patient.pk:
        raise NotFound("That key was another patient's message.")
    return found


def _once(
    actor: PortalActor | StaffActor, patient: Patient, key: str, write: Callable[[], Message]
) -> Message:
    """Run ``write`` in one transaction unless the form's ``key`` already made a message.

    Two posts at once: the database holds the second at the unique key until the first
    commits, then refuses it; it then finds and returns the first's message.
    """
    first = _sent_before(actor, patient, key)
    if first is not None:
        return first
    try:
        with transaction.atomic():
            return write()
    except IntegrityError:
        first = _sent_before(actor, patient, key)
        if first is None:
            raise
        return first


def _message_create(
    *,
    actor: PortalActor | StaffActor,
    conversation: Conversation,
    writer: Message.Writer,
    body: str,
    key: str,
    requests_response: bool = False,
    office_notes: str = "",
    author_is_patient: bool = False,
) -> Message:
    now = timezone.now()
    message = Message(
        practice=actor.practice,
        patient=conversation.patient,
        conversation=conversation,
        writer=writer,
        author_account=actor.account if isinstance(actor, PortalActor) else None,
        author_user=actor.user if isinstance(actor, StaffActor) else None,
        author_name=actor.name if writer != Message.Writer.AUTOMATIC else actor.practice.name,
        author_is_patient=author_is_patient,
        body=body,
        requests_response=requests_response,
        office_notes=office_notes,
        idempotency_key=key,
    )
    message.save()
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    conversation.last_message_at = now
    message.conversation = conversation
    return message


def _attach_uploads(
    actor: PortalActor | StaffActor,
    message: Message,
    accepted: list[tuple[HashedUpload, CheckedUpload]],
) -> None:
    for upload, checked in accepted:
        blob = blob_put_upload(practice=actor.practice, upload=upload, file_type=checked.file_type)
        document = None
        if isinstance(actor, PortalActor):
            # In the patient's Online Portal files too, "Sent by the patient".
            document = portal_document_from_patient(
                actor=actor,
                blob=blob,
                filename=checked.filename,
                description=message.conversation.subject,
            )
        Attachment.objects.create(
            practice=actor.practice,
            patient=message.patient,
            message=message,
            blob=blob,
            filename=checked.filename,
            portal_document=document,
        )


def _from_patient_side(
    actor: PortalActor,
    conversation: Conversation,
    draft: Draft,
    requests_response: bool,
    accepted: list[tuple[HashedUpload, CheckedUpload]],
) -> Message:
    """Write a message from the patient's side with its attachments (checked and scanned
    before the transaction: a scan may take seconds) and its office task."""
    own = PortalGrant.objects.filter(
        account=actor.account, patient=conversation.patient, kind=PortalGrant.Kind.PATIENT
    ).exists()
    message = _message_create(
        actor=actor,
        conversation=conversation,
        writer=Message.Writer.PATIENT,
        body=_clean_body(draft.body),
        key=_clean_key(draft.key),
        requests_response=requests_response,
        author_is_patient=own,
    )
    # After the message: a twin post with its key waits on it and finds it (see _once),
    # rather than count its files and be refused.
    portal_upload_quota_check(actor=actor, uploads=[upload for upload, _checked in accepted])
    _attach_uploads(actor, message, accepted)
    Task.objects.create(
        practice=actor.practice,
        patient=conversation.patient,
        message=message,
        category=conversation.category,
        created_at=message.created_at,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.MESSAGE_SENT,
        target=message,
        patient=conversation.patient,
        label=conversation.subject,
    )
    return message


def conversation_start(
    *, actor: PortalActor, category: str, subject: str, draft: Draft, requests_response: bool
) -> Message:
    """Send a new message to the office; the practice's acknowledgement follows it at once."""
    patient = portal_patient(actor)
    config = messaging_settings_for(actor.practice)
    errors: dict[str, str] = {}
    if category not in dict(categories_offered(config)):
        errors["category"] = _("Please choose what your message is about.")
    subject = _gather(errors, _clean_subject, subject)
    _gather(errors, _clean_body, draft.body)
    if errors:
        raise ValidationError(errors)
    sent, accepted = _sent_or_checked(actor, patient, _clean_key(draft.key), draft)
    if sent is not None:
        return sent

    def write() -> Message:
        now = timezone.now()
        conversation = Conversation.objects.create(
            practice=actor.practice,
            patient=patient,
            category=category,
            subject=subject,
            last_message_at=now,
        )
        message = _from_patient_side(actor, conversation, draft, requests_response, accepted)
        _acknowledge(actor, conversation, config)
        return message

    return _once(actor, patient, _clean_key(draft.key), write)


def _acknowledge(actor: PortalActor, conversation: Conversation, config: MessagingSettings) -> None:
    """Write the practice's acknowledgement, read already: the sender sees it as they send."""
    acknowledgement = _message_create(
        actor=actor,
        conversation=conversation,
        writer=Message.Writer.AUTOMATIC,
        body=_(
            "Thank you for your message. We have received it and will reply %(time)s. "
            "If this is an emergency, call 911."
        )
        % {"time": config.response_time},
        key="",
    )
    MessageRead.objects.create(
        practice=actor.practice,
        patient=conversation.patient,
        message=acknowledgement,
        account=actor.account,
    )


def conversation_reply(
    *, actor: PortalActor, conversation: Conversation, draft: Draft, requests_response: bool
) -> Message:
    """Send a message from the patient's side in an existing conversation."""
    patient = portal_patient(actor)
    require_reachable(actor, conversation)
    _clean_body(draft.body)
    sent, accepted = _sent_or_checked(actor, patient, _clean_key(draft.key), draft)
    if sent is not None:
        return sent
    return _once(
        actor,
        patient,
        _clean_key(draft.key),
        lambda: _from_patient_side(actor, conversation, draft, requests_response, accepted),
    )


def office_send(
    *,
    actor: StaffActor,
    patient: Patient,
    draft: Draft,
    conversation: Conversation | None = None,
    category: str = Category.OTHER,
    subject: str = "",
    answering: Sequence[Message] = (),
    office_notes: str = "",
    chart_files: Sequence[ChartFile] = (),
    send_email: bool = True,
) -> Message:
    """Send a message from the office: a reply in ``conversation``, or a new one.

    The checked messages in ``answering`` (the patient's, in this conversation) get this
    message as their answer and today as their response date. With ``send_email``, the patient
    gets an email that says only that a message is waiting, with the portal's address.
    """
    require_reachable(actor, patient)
    errors: dict[str, str] = {}
    if conversation is None:
        if category not in Category.values:
            errors["category"] = _("Please choose what the message is about.")
        subject = _gather(errors, _clean_subject, subject)
    else:
        require_reachable(actor, conversation)
        if conversation.patient_id != patient.pk:
            raise NotFound("Not this patient's conversation.")
    for message in answering:
        require_reachable(actor, message)
        if conversation is None or message.conversation_id != conversation.pk:
            raise NotFound("Not a message of this conversation.")
    for chart_file in chart_files:
        require_reachable(actor, chart_file)
        if chart_file.patient_id != patient.pk:
            raise NotFound("Not this patient's chart file.")
    body = _gather(errors, _clean_body, draft.body)
    notes = office_notes.replace("\r\n", "\n").strip()
    if len(notes) > BODY_MAX:
        errors["office_notes"] = _("Please keep the notes under %(max)d characters.") % {
            "max": BODY_MAX
        }
    if send_email and not patient.email:
        errors["send_email"] = _(
            "%(name)s has no email address: uncheck the box, or add one with Edit details."
        ) % {"name": patient.first_name}
    if errors:
        raise ValidationError(errors)
    accepted = _checked_uploads(draft.uploads)

    def write() -> Message:
        nonlocal conversation
        if conversation is None:
            conversation = Conversation.objects.create(
                practice=actor.practice,
                patient=patient,
                category=category,
                subject=subject,
                started_by_office=True,
                last_message_at=timezone.now(),
            )
        message = _message_create(
            actor=actor,
            conversation=conversation,
            writer=Message.Writer.OFFICE,
            body=body,
            key=_clean_key(draft.key),
            office_notes=notes,
        )
        _attach_uploads(actor, message, accepted)
        for chart_file in chart_files:
            Attachment.objects.create(
                practice=actor.practice,
                patient=patient,
                message=message,
                blob=chart_file.blob,
                filename=chart_file.filename,
            )
        if answering:
            Message.objects.filter(
                practice=actor.practice, pk__in=[m.pk for m in answering]
            ).update(response_at=message.created_at, answered_by=message)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.MESSAGE_OFFICE_SENT,
            target=message,
            patient=patient,
            label=conversation.subject,
        )
        if send_email:  # after the audit row, so that the log reads in the order it happened
            message.email = email_queue(
                practice=actor.practice,
                to=patient.email,
                template="message_waiting",
                context={"portal_url": absolute_url(actor.practice.portal_path())},
            )
            message.save(update_fields=["email"])
        return message

    return _once(actor, patient, _clean_key(draft.key), write)
