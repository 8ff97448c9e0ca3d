"""Writes for secure messages, one module per concept; their names are all here too."""

from clinicportal.messaging.services.reading import (
    attachment_open,
    conversation_office_view,
    conversation_read,
)
from clinicportal.messaging.services.sending import (
    Draft,
    conversation_reply,
    conversation_start,
    office_send,
)
from clinicportal.messaging.services.settings import messaging_settings_save
from clinicportal.messaging.services.tasks import (
    TaskUnchanged,
    appointment_task_record,
    task_reopen,
    task_sign_off,
)

__all__ = [
    "Draft",
    "TaskUnchanged",
    "appointment_task_record",
    "attachment_open",
    "conversation_office_view",
    "conversation_read",
    "conversation_reply",
    "conversation_start",
    "messaging_settings_save",
    "office_send",
    "task_reopen",
    "task_sign_off",
]
