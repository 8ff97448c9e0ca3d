"""How one LOGS entry reads to the patient: who did it, and what happened to which record."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _

from clinicportal.audit.models import AuditEvent
from clinicportal.core.devices import describe_device
from clinicportal.practices.models import Practice

Action = AuditEvent.Action
# What get_action_display() looks up, built once: that method makes a dict of every choice on
# each call, and hashing the lazy labels translates each of them, for every entry on a page.
_ACTION_LABELS = dict(Action.choices)


@dataclass(frozen=True)
class LogEntry:
    at: datetime.datetime
    who: str
    what: str
    by_office: bool
    ip: str
    device: str


def _who(event: AuditEvent, practice: Practice) -> str:
    if event.actor_user_id is None:
        return event.actor_name or _("Someone not signed in")
    # The name is the one the staff member had then (kept on the event), not today's.
    if practice.logs_staff_as == Practice.LogsStaffAs.NAME and event.actor_name:
        return event.actor_name
    return _("The office")


def _what(event: AuditEvent, who: str) -> str:
    record = event.object_label
    if event.action in (Action.PORTAL_DOCUMENT_VIEWED, Action.PORTAL_DOCUMENT_OFFICE_OPENED):
        if record:
            return _("%(who)s viewed “%(record)s”") % {"who": who, "record": record}
        return _("%(who)s viewed a record") % {"who": who}
    if event.action == Action.PORTAL_DOCUMENT_DOWNLOADED:
        if record:
            return _("%(who)s downloaded “%(record)s”") % {"who": who, "record": record}
        return _("%(who)s downloaded a record") % {"who": who}
    # The chart is not on the portal, so its files go unnamed: an authorized user reading
    # these LOGS learns that the office looked, not what the patient's chart holds.
    if event.action == Action.PATIENT_VIEWED:
        return _("%(who)s viewed the chart") % {"who": who}
    if event.action == Action.CHART_FILE_VIEWED:
        return _("%(who)s viewed a file in the chart") % {"who": who}
    if event.action == Action.CHART_FILE_DOWNLOADED:
        return _("%(who)s downloaded a file from the chart") % {"who": who}
    if event.action == Action.INVOICE_VIEWED_BY_PATIENT:
        return _("%(who)s downloaded invoice %(invoice)s") % {"who": who, "invoice": record}
    if event.action == Action.FORM_SUBMITTED:
        if record:
            return _("%(who)s submitted the form “%(form)s”") % {"who": who, "form": record}
        return _("%(who)s submitted a form") % {"who": who}
    if event.action == Action.FORM_SUBMISSION_VIEWED:
        if record:
            return _("%(who)s viewed the submitted form “%(form)s”") % {"who": who, "form": record}
        return _("%(who)s viewed a submitted form") % {"who": who}
    message = _what_of_messages(event, who)
    if message is not None:
        return message
    return str(_ACTION_LABELS.get(event.action, event.action))


def _what_of_messages(event: AuditEvent, who: str) -> str | None:
    """Secure messages: the label is the conversation's subject, or the file's name."""
    label = event.object_label
    if event.action == Action.MESSAGE_SENT:
        if label:
            return _("%(who)s sent a message: “%(subject)s”") % {"who": who, "subject": label}
        return _("%(who)s sent a message") % {"who": who}
    if event.action == Action.MESSAGE_READ:
        if label:
            return _("%(who)s read the message “%(line)s”") % {"who": who, "line": label}
        return _("%(who)s read a message") % {"who": who}
    if event.action == Action.MESSAGES_OFFICE_VIEWED:
        if label:
            return _("%(who)s opened your messages: “%(subject)s”") % {
                "who": who,
                "subject": label,
            }
        return _("%(who)s opened your messages") % {"who": who}
    if event.action == Action.MESSAGE_ATTACHMENT_VIEWED:
        if label:
            return _("%(who)s viewed “%(file)s”, sent with a message") % {"who": who, "file": label}
        return _("%(who)s viewed a file sent with a message") % {"who": who}
    if event.action == Action.MESSAGE_ATTACHMENT_DOWNLOADED:
        if label:
            return _("%(who)s downloaded “%(file)s”, sent with a message") % {
                "who": who,
                "file": label,
            }
        return _("%(who)s downloaded a file sent with a message") % {"who": who}
    if event.action == Action.MESSAGE_ATTACHMENT_OFFICE_OPENED:
        if label:
            return _("%(who)s opened “%(file)s”, sent with a message") % {"who": who, "file": label}
        return _("%(who)s opened a file sent with a message") % {"who": who}
    return None


def log_entries(events: list[AuditEvent], *, practice: Practice) -> list[LogEntry]:
    """Describe a page of the patient's LOGS, read with the practice's choice of names."""
    entries = []
    for event in events:
        who = _who(event, practice)
        by_office = event.actor_user_id is not None
        entries.append(
            LogEntry(
                at=event.at,
                who=who,
                what=_what(event, who),
                by_office=by_office,
                ip="" if by_office else (event.ip or ""),
                device="" if by_office else describe_device(event.user_agent),
            )
        )
    return entries
