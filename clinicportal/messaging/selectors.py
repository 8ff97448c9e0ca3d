"""Reads of secure messages: by the patient's side for its patient, and by the office."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinicportal.audit.models import AuditEvent
from clinicportal.core.access import NotFound
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.core.keyset import LAST, KeysetPage, keyset_page
from clinicportal.messaging.models import (
    FORM_CATEGORY,
    REFUND_CATEGORY,
    Attachment,
    Category,
    Conversation,
    Message,
    MessageRead,
    MessagingSettings,
    Task,
)
from clinicportal.notifications.models import OutboxEmail
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice

TASKS_PER_PAGE = 25
# A conversation shows its newest messages; earlier ones are a page back.
HISTORY_PER_PAGE = 50
# The categories of tasks that are not about a message: submitted forms, failed refunds.
_TASK_ONLY_CATEGORIES = [
    (FORM_CATEGORY, gettext_lazy("Form")),
    (REFUND_CATEGORY, gettext_lazy("Refund")),
]


def messaging_settings_for(practice: Practice) -> MessagingSettings:
    """The practice's messaging settings, or the defaults (unsaved) when it has chosen none."""
    found = MessagingSettings.objects.filter(practice=practice).first()
    return found if found is not None else MessagingSettings(practice=practice)


def category_name(config: MessagingSettings, category: str) -> str:
    """What the practice calls ``category``: its own name for it, or the default."""
    renamed = config.category_names.get(category)
    if renamed:
        return str(renamed)
    try:
        return str(Category(category).label)
    except ValueError:
        return str(dict(_TASK_ONLY_CATEGORIES).get(category, category))


def categories_offered(config: MessagingSettings) -> list[tuple[str, str]]:
    """The categories patients may choose, as (value, the practice's name), in the usual order."""
    return [
        (value, category_name(config, value))
        for value in Category.values
        if value not in config.categories_off
    ]


def all_categories(config: MessagingSettings) -> list[tuple[str, str]]:
    """Every category with the practice's name for it, switched off or not (the office's)."""
    return [(value, category_name(config, value)) for value in Category.values]


def task_categories(config: MessagingSettings) -> list[tuple[str, str]]:
    """What the Tasks list filters by: every message category, submitted forms, failed refunds."""
    return [*all_categories(config), *((value, str(name)) for value, name in _TASK_ONLY_CATEGORIES)]


# The patient's side ---------------------------------------------------------------------------


def _unread() -> Q:
    return Q(messages__writer__in=[Message.Writer.OFFICE, Message.Writer.AUTOMATIC]) & Q(
        messages__read__isnull=True
    )


def portal_conversations(*, actor: PortalActor) -> QuerySet[Conversation]:
    """The patient's conversations, newest first, each with ``unread``: office messages not read."""
    if actor.patient is None:
        return Conversation.objects.none()
    # Explicitly ordered: a query with an aggregate leaves out Meta.ordering.
    return (
        Conversation.objects.filter(practice=actor.practice, patient=actor.patient)
        .annotate(unread=Count("messages", filter=_unread()))
        .order_by("-last_message_at", "-id")
    )


def _unread_messages() -> QuerySet[Message]:
    return Message.objects.filter(
        writer__in=[Message.Writer.OFFICE, Message.Writer.AUTOMATIC], read__isnull=True
    ).order_by()


def portal_unread_count(*, actor: PortalActor) -> int:
    """How many messages from the office the patient's side has not opened yet (for the menu)."""
    if actor.patient is None:
        return 0
    return _unread_messages().filter(practice=actor.practice, patient=actor.patient).count()


def portal_unread_counted() -> Coalesce:
    """``portal_unread_count`` as a column of a query over rows that have ``practice_id`` and
    ``patient_id`` (a portal grant), so that the menu's number costs no query of its own."""
    mine = _unread_messages().filter(
        practice=OuterRef("practice_id"), patient=OuterRef("patient_id")
    )
    return Coalesce(Subquery(mine.values("patient").annotate(n=Count("pk")).values("n")), 0)


def portal_conversation(*, actor: PortalActor, public_id: uuid.UUID) -> Conversation:
    try:
        return portal_conversations(actor=actor).get(public_id=public_id)
    except Conversation.DoesNotExist:
        raise NotFound("No such conversation.") from None


def _history(conversation: Conversation) -> QuerySet[Message]:
    return (
        Message.objects.filter(practice_id=conversation.practice_id, conversation=conversation)
        .select_related("read", "answered_by")
        .order_by("created_at", "id")
    )


def _with_files(messages: list[Message]) -> list[Message]:
    """Give each message ``files``: its attachments, read for all of them in one query."""
    found: dict[int, list[Attachment]] = {}
    if messages:
        attachments = Attachment.objects.filter(message_id__in=[m.pk for m in messages])
        for attachment in attachments.select_related("blob", "portal_document").order_by("id"):
            found.setdefault(attachment.message_id, []).append(attachment)
    for message in messages:
        message.files = found.get(message.pk, [])
        for attachment in message.files:
            attachment.message = message
    return messages


def _history_page(
    conversation: Conversation, rows: QuerySet[Message], cursor: str | None
) -> KeysetPage[Message]:
    """A page of the conversation, the newest unless ``cursor`` names another (core.keyset)."""
    page = keyset_page(rows, per_page=HISTORY_PER_PAGE, cursor=cursor or LAST)
    for message in _with_files(page.rows):
        message.conversation = conversation
    return page


def portal_messages(
    *, actor: PortalActor, conversation: Conversation, cursor: str | None = None
) -> KeysetPage[Message]:
    """A page of the conversation, oldest first, with each message's ``files``.

    Office notes are never read: not the messages', not their answers'.
    """
    if conversation.practice_id != actor.practice.pk or actor.patient is None:
        raise NotFound("No such conversation.")
    if conversation.patient_id != actor.patient.pk:
        raise NotFound("No such conversation.")
    rows = _history(conversation).defer("office_notes", "answered_by__office_notes")
    return _history_page(conversation, rows, cursor)


def portal_attachment(*, actor: PortalActor, public_id: uuid.UUID) -> Attachment:
    if actor.patient is None:
        raise NotFound("No patient chosen.")
    try:
        return Attachment.objects.select_related("blob", "message__conversation").get(
            practice=actor.practice, patient=actor.patient, public_id=public_id
        )
    except Attachment.DoesNotExist:
        raise NotFound("No such attachment.") from None


# The office -----------------------------------------------------------------------------------


def office_conversations(*, actor: StaffActor, patient: Patient) -> QuerySet[Conversation]:
    """The patient's conversations, newest first, each with ``waiting``: its open tasks."""
    return (
        Conversation.objects.filter(practice=actor.practice, patient=patient)
        .annotate(
            message_count=Count("messages", distinct=True),
            waiting=Count(
                "messages__task",
                filter=Q(messages__task__signed_off_at__isnull=True),
                distinct=True,
            ),
        )
        # Said again: a query with an aggregate leaves Meta.ordering out.
        .order_by("-last_message_at", "-id")
    )


def office_conversation(
    *, actor: StaffActor, patient: Patient, public_id: uuid.UUID
) -> Conversation:
    try:
        return Conversation.objects.select_related("patient").get(
            practice=actor.practice, patient=patient, public_id=public_id
        )
    except Conversation.DoesNotExist:
        raise NotFound("No such conversation.") from None


def office_messages(
    *, actor: StaffActor, conversation: Conversation, cursor: str | None = None
) -> KeysetPage[Message]:
    """A page of the conversation, oldest first, with notes, tasks, emails and ``files``."""
    if conversation.practice_id != actor.practice.pk:
        raise NotFound("No such conversation.")
    rows = _history(conversation).select_related("task", "email")
    return _history_page(conversation, rows, cursor)


def office_message(*, actor: StaffActor, patient: Patient, public_id: uuid.UUID) -> Message:
    try:
        return Message.objects.select_related(
            "conversation", "answered_by", "read", "email", "task"
        ).get(practice=actor.practice, patient=patient, public_id=public_id)
    except Message.DoesNotExist:
        raise NotFound("No such message.") from None


def office_attachment(*, actor: StaffActor, patient: Patient, public_id: uuid.UUID) -> Attachment:
    try:
        return Attachment.objects.select_related("blob", "message__conversation").get(
            practice=actor.practice, patient=patient, public_id=public_id
        )
    except Attachment.DoesNotExist:
        raise NotFound("No such attachment.") from None


@dataclass(frozen=True)
class TaskFilter:
    """Which tasks the list shows, and in which order."""

    status: str = "open"  # "open", "done" or "all"
    category: str = ""  # "" for every category
    newest_first: bool = False

    @classmethod
    def parse(cls, params: dict[str, str]) -> TaskFilter:
        status = params.get("status", "open")
        category = params.get("category", "")
        return cls(
            status=status if status in ("open", "done", "all") else "open",
            category=category
            if category in (*Category.values, FORM_CATEGORY, REFUND_CATEGORY)
            else "",
            newest_first=params.get("order") == "newest",
        )


def tasks_page(*, actor: StaffActor, chosen: TaskFilter, cursor: str | None) -> KeysetPage[Task]:
    """One page of the practice's tasks: the same few queries on the first page as the last."""
    tasks = Task.objects.filter(practice=actor.practice).select_related(
        "patient",
        "message",
        "message__conversation",
        "appointment__type",
        "appointment__provider",
        "submission__form",
        "refund",
    )
    if chosen.status == "open":
        tasks = tasks.filter(signed_off_at__isnull=True)
    elif chosen.status == "done":
        tasks = tasks.filter(signed_off_at__isnull=False)
    if chosen.category:
        tasks = tasks.filter(category=chosen.category)
    return keyset_page(
        tasks, per_page=TASKS_PER_PAGE, cursor=cursor, descending=chosen.newest_first
    )


def open_task_count(*, actor: StaffActor) -> int:
    """How many tasks wait to be signed off (the navigation's count)."""
    return Task.objects.filter(practice=actor.practice, signed_off_at__isnull=True).count()


def appointment_open_tasks(*, actor: StaffActor, appointment_id: int) -> list[Task]:
    """The open tasks about one of the practice's appointments (its page links them)."""
    return list(
        Task.objects.filter(
            practice=actor.practice, appointment_id=appointment_id, signed_off_at__isnull=True
        )
    )


def office_task(*, actor: StaffActor, public_id: uuid.UUID) -> Task:
    try:
        return Task.objects.select_related(
            "patient",
            "message",
            "message__conversation",
            "signed_off_by",
            "appointment__type",
            "appointment__provider",
            "appointment__booked_by_account",
            "appointment__booked_by_user",
            "submission__form",
            "refund__payment__invoice",
        ).get(practice=actor.practice, public_id=public_id)
    except Task.DoesNotExist:
        raise NotFound("No such task.") from None


@dataclass(frozen=True)
class LogLine:
    at: object  # a datetime
    what: str
    who: str


def message_log(*, actor: StaffActor, message: Message) -> list[LogLine]:
    """The message's log, oldest first: written, emailed, read, answered, task signed off."""
    if message.practice_id != actor.practice.pk:
        raise NotFound("No such message.")
    ids = [str(message.public_id)]
    task = getattr(message, "task", None) if message.from_patient else None
    if task is not None:
        ids.append(str(task.public_id))
    events = AuditEvent.objects.filter(
        practice=actor.practice,
        patient_id=message.patient_id,
        object_id__in=ids,
        action__in=[
            AuditEvent.Action.MESSAGE_SENT,
            AuditEvent.Action.MESSAGE_OFFICE_SENT,
            AuditEvent.Action.TASK_SIGNED_OFF,
            AuditEvent.Action.TASK_REOPENED,
        ],
    ).order_by("at", "id")
    lines = [
        LogLine(at=event.at, what=str(event.get_action_display()), who=event.actor_name)
        for event in events
    ]
    if message.writer == Message.Writer.AUTOMATIC:
        lines.append(LogLine(message.created_at, _("Sent automatically"), ""))
    email = message.email
    if email is not None:
        lines.append(LogLine(email.created_at, _("Email queued to %(to)s") % {"to": email.to}, ""))
        if email.sent_at is not None:
            lines.append(LogLine(email.sent_at, _("Email sent"), ""))
        elif email.status == email.Status.FAILED:
            lines.append(
                LogLine(
                    email.created_at,
                    _("Email failed: %(why)s")
                    % {"why": email.last_error or _("the mail server refused it")},
                    "",
                )
            )
    read = MessageRead.objects.filter(message=message).select_related("account").first()
    if read is not None:
        lines.append(LogLine(read.read_at, _("Read"), read.account.display_name))
    if message.response_at is not None:
        answer = message.answered_by
        what = (
            _("Answered: “%(line)s”") % {"line": answer.first_line}
            if answer is not None
            else _("Answered")
        )
        lines.append(LogLine(message.response_at, what, answer.author_name if answer else ""))
    return sorted(lines, key=lambda line: line.at)  # type: ignore[arg-type,return-value]


def failed_message_emails(*, actor: StaffActor) -> int:
    """How many "a message is waiting" emails failed (for the office home page)."""
    return Message.objects.filter(
        practice=actor.practice, email__status=OutboxEmail.Status.FAILED
    ).count()
