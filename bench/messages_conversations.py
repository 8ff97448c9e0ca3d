"""The conversations of bench/messages.py's data set, with their tasks, receipts and emails.

Patient-started conversations open with the patient's message and the practice's automatic
reply, then the office and the patient take turns; a fifth are started by the office. As the
services write them: every message from the patient's side has a web-message task (2% still
open, the rest signed off by the admin) and requests a response (70%), answered by the office's
next message; every office message has its "a message is waiting" email (sent) and, mostly, a
read receipt.
"""

from __future__ import annotations

import datetime
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bulk import Ids, Writer, uid

if TYPE_CHECKING:
    from messages_data import Sizes

YEARS = 3
CONVERSATIONS_PER_MESSAGE = 0.3  # about 3.3 messages a conversation
OPEN_SHARE = 0.02
OFFICE_STARTS = 0.2
REQUESTS_RESPONSE = 0.7
READ_SHARE = 0.9
CHUNK = 20_000  # conversations written per round of COPY statements
CATEGORY_WEIGHTS = {
    "appointment": 30,
    "billing": 10,
    "clinical": 25,
    "refill": 20,
    "optical": 10,
    "other": 5,
}
SUBJECTS = {
    "appointment": ["Reschedule my appointment", "Appointment next week", "Can I come earlier?"],
    "billing": ["Question about my bill", "Insurance claim", "Payment plan"],
    "clinical": ["Eyes still itchy", "Blurry vision after the visit", "Question about drops"],
    "refill": ["Refill of my drops", "Prescription renewal", "Out of eye drops"],
    "optical": ["My glasses are ready?", "Contact lens order", "Frame adjustment"],
    "other": ["Change of address", "Form for school", "Thank you"],
}
PATIENT_BODIES = [
    "Hello, could you tell me whether I need to stop the drops before the test? Thanks.",
    "My right eye has been red since Tuesday and it itches in the evening. Should I come in, "
    "or is there something I can do at home first?",
    "I need to move my appointment on the 14th to the afternoon if possible. Any day that "
    "week works for me after 2 pm.",
    "Can you send the prescription to the pharmacy on Main Street instead of the one on Oak? "
    "The Oak Street one closed last month.",
    "Thank you for the quick answer yesterday.\n\nOne more question: is it normal that the "
    "new glasses feel strange for a few days?",
]
OFFICE_BODIES = [
    "Thank you for your message. Yes, please stop the drops two days before the test.",
    "We have moved your appointment to 3:30 pm on the 14th. Reply here if that does not suit "
    "you and we will find another time.",
    "The doctor would like to see you this week. Please call the front desk to book a time, "
    "or reply with the days that suit you.",
    "Your prescription was sent to the pharmacy this morning. It should be ready tomorrow.",
    "Yes, that is normal for the first week. If it lasts longer, let us know and we will "
    "check the fit.",
]


@dataclass(frozen=True)
class Person:
    patient_id: int
    account_id: int
    name: str
    email: str


@dataclass
class Tables:
    """The writers of one data set, and the rows of the chunk being made."""

    conversations: Writer
    messages: Writer
    tasks: Writer
    reads: Writer
    emails: Writer
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.rows.setdefault(table, []).append(row)

    def flush(self) -> None:
        for name in ("emails", "conversations", "messages", "tasks", "reads"):
            getattr(self, name).write(self.rows.pop(name, []))


def _tables() -> Tables:
    from clinicportal.messaging.models import Conversation, Message, MessageRead, Task
    from clinicportal.notifications.models import OutboxEmail

    return Tables(
        conversations=Writer(
            Conversation,
            "id practice_id patient_id public_id category subject started_by_office created_at "
            "last_message_at",
        ),
        messages=Writer(
            Message,
            "id practice_id patient_id conversation_id public_id writer author_account_id "
            "author_user_id author_name author_is_patient body requests_response response_at "
            "answered_by_id office_notes email_id idempotency_key created_at",
        ),
        tasks=Writer(
            Task,
            "id practice_id patient_id public_id kind message_id appointment_id happened "
            "submission_id refund_id category created_at signed_off_at signed_off_by_id "
            "signed_off_by_name",
        ),
        reads=Writer(MessageRead, "id practice_id patient_id message_id account_id read_at"),
        emails=Writer(
            OutboxEmail,
            "id practice_id public_id kind to subject body_text body_html secret_link message_id "
            "status attempts next_attempt_at claimed_by lease_until last_error created_at sent_at "
            "sent_again_as_id attachments text_forgotten_at",
        ),
    )


@dataclass(frozen=True)
class Context:
    """What every conversation of the data set shares."""

    practice: Any
    admin: Any
    ids: Ids
    rng: random.Random
    uid: random.Random
    now: datetime.datetime
    email_subject: str
    email_text: str
    email_html: str
    acknowledgement: str


def _context(practice: Any, admin: Any, ids: Ids, sizes: Sizes) -> Context:
    from django.template.loader import render_to_string
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from clinicportal.core.http import absolute_url
    from clinicportal.messaging.selectors import messaging_settings_for

    context = {"practice": practice, "portal_url": absolute_url(practice.portal_path())}
    subject = render_to_string("emails/message_waiting-subject.txt", context)
    acknowledgement = _(
        "Thank you for your message. We have received it and will reply %(time)s. "
        "If this is an emergency, call 911."
    ) % {"time": messaging_settings_for(practice).response_time}
    return Context(
        practice=practice,
        admin=admin,
        ids=ids,
        rng=random.Random(sizes.seed),
        uid=random.Random(),
        now=timezone.now(),
        email_subject=" ".join(subject.split()),
        email_text=render_to_string("emails/message_waiting-body.txt", context),
        email_html=render_to_string("emails/message_waiting-body.html", context),
        acknowledgement=acknowledgement,
    )


def conversations_write(
    practice: Any, admin: Any, people: list[Person], sizes: Sizes, ids: Ids
) -> dict[str, int]:
    """Write the data set's conversations with ``sizes.messages`` messages in all."""
    ctx = _context(practice, admin, ids, sizes)
    rng = ctx.rng
    count = max(1, min(len(people) * 10, round(sizes.messages * CONVERSATIONS_PER_MESSAGE)))
    lengths = [1] * count
    for _ in range(sizes.messages - count):
        lengths[rng.randrange(count)] += 1
    tables = _tables()
    categories = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    started = time.perf_counter()
    for first in range(0, count, CHUNK):
        for length in lengths[first : first + CHUNK]:
            person = people[rng.randrange(len(people))]
            category = rng.choices(categories, weights)[0]
            _conversation(ctx, tables, person, category, rng.choice(SUBJECTS[category]), length)
        tables.flush()
    print(
        f"wrote {tables.messages.written} messages in {count} conversations, "
        f"{tables.tasks.written} tasks, {tables.reads.written} read receipts and "
        f"{tables.emails.written} emails in {time.perf_counter() - started:.1f} s"
    )
    return {
        "patients": len(people),
        "conversations": count,
        "messages": tables.messages.written,
        "tasks": tables.tasks.written,
    }


def _conversation(
    ctx: Context,
    tables: Tables,
    person: Person,
    category: str,
    subject: str,
    length: int,
    *,
    office_starts: bool | None = None,
) -> tuple[int, list[int]]:
    """Add one conversation of ``length`` messages; return its id and its messages' ids."""
    from clinicportal.messaging.models import Conversation, Message, MessageRead, Task
    from clinicportal.notifications.models import OutboxEmail

    rng, ids, practice = ctx.rng, ctx.ids, ctx.practice
    if office_starts is None:
        office_starts = rng.random() < OFFICE_STARTS
    writers: list[str] = []
    for n in range(length):
        if office_starts:
            writers.append("office" if n % 2 == 0 else "patient")
        else:  # the patient's message, the practice's acknowledgement, then turns
            writers.append(("patient", "automatic")[n] if n < 2 else ("office", "patient")[n % 2])
    gaps = [rng.expovariate(1 / 86_400) if w != "automatic" else 1.0 for w in writers]
    total = datetime.timedelta(seconds=sum(gaps))
    years = datetime.timedelta(days=YEARS * 365)
    room = max(datetime.timedelta(0), years - total)
    at = ctx.now - years + room * rng.random()
    times = []
    for gap in gaps:
        at += datetime.timedelta(seconds=gap)
        times.append(min(at, ctx.now))
    message_ids = [ids.take(Message) for _ in writers]
    conversation_id = ids.take(Conversation)
    tables.add(
        "conversations",
        (conversation_id, practice.pk, person.patient_id, uid(ctx.uid), category, subject,
         office_starts, times[0], times[-1]),
    )  # fmt: skip
    admin = ctx.admin
    for n, (writer, at, message_id) in enumerate(zip(writers, times, message_ids, strict=True)):
        account_id = user_id = email_id = answered_by = response_at = None
        requests_response = False
        if writer == "patient":
            account_id, author, body = person.account_id, person.name, rng.choice(PATIENT_BODIES)
            requests_response = rng.random() < REQUESTS_RESPONSE
            later = next((k for k in range(n + 1, length) if writers[k] == "office"), None)
            if requests_response and later is not None:
                answered_by, response_at = message_ids[later], times[later]
            is_open = rng.random() < OPEN_SHARE
            signed = (
                None if is_open else min(at + datetime.timedelta(hours=rng.random() * 48), ctx.now)
            )
            tables.add(
                "tasks",
                (ids.take(Task), practice.pk, person.patient_id, uid(ctx.uid),
                 Task.Kind.WEB_MESSAGE, message_id, None, "", None, None, category, at, signed,
                 None if is_open else admin.user_id, "" if is_open else admin.display_name),
            )  # fmt: skip
        elif writer == "office":
            user_id, author, body = admin.user_id, admin.display_name, rng.choice(OFFICE_BODIES)
            email_id = ids.take(OutboxEmail)
            tables.add(
                "emails",
                (email_id, practice.pk, uid(ctx.uid), "message_waiting", person.email,
                 ctx.email_subject, ctx.email_text, ctx.email_html, "",
                 f"<{email_id}.bench@portal.bench.example>", OutboxEmail.Status.SENT, 1, None, "",
                 None, "", at, at + datetime.timedelta(seconds=5), None, [], None),
            )  # fmt: skip
        else:
            author, body = practice.name, ctx.acknowledgement
        if writer != "patient" and rng.random() < READ_SHARE:
            read_at = min(at + datetime.timedelta(hours=rng.random() * 24), ctx.now)
            tables.add(
                "reads",
                (ids.take(MessageRead), practice.pk, person.patient_id, message_id,
                 person.account_id, read_at),
            )  # fmt: skip
        tables.add(
            "messages",
            (message_id, practice.pk, person.patient_id, conversation_id, uid(ctx.uid), writer,
             account_id, user_id, author or "", writer == "patient", body, requests_response,
             response_at, answered_by, "", email_id, "", at),
        )  # fmt: skip
    return conversation_id, message_ids


def long_and_short(
    practice: Any,
    admin: Any,
    patient: Any,
    account: Any,
    sizes: Sizes,
    ids: Ids,
    counts: dict[str, int],
) -> tuple[Any, Any]:
    """The bench patient's short conversation, then the long one (the data set's marker)."""
    from clinicportal.content.services import blob_put_bytes
    from clinicportal.demo.data import render_pdf
    from clinicportal.messaging.models import Attachment, Conversation

    ctx = _context(practice, admin, ids, sizes)
    tables = _tables()
    email = patient.email or "bench.messages@patients.bench.example"
    person = Person(patient.pk, account.pk, account.display_name, email)
    short, _ = _conversation(ctx, tables, person, "refill", "Refill of my drops", 3)
    long, message_ids = _conversation(
        ctx,
        tables,
        person,
        "clinical",
        sizes.label,
        sizes.conversation,
        office_starts=False,
    )
    tables.flush()
    blob = blob_put_bytes(
        practice=practice,
        data=render_pdf("Benchmark attachment", ["For benchmarks."]),
        content_type="application/pdf",
    )
    attachments = Writer(
        Attachment,
        "id practice_id patient_id message_id public_id blob_id filename portal_document_id",
    )
    attachments.write(
        (ids.take(Attachment), practice.pk, patient.pk, message_id, uid(ctx.uid), blob.pk,
         f"photo-{n}.pdf", None)
        for n, message_id in enumerate(message_ids[::25])
    )  # fmt: skip
    counts["messages"] += tables.messages.written
    counts["tasks"] += tables.tasks.written
    counts["conversations"] += tables.conversations.written
    return Conversation.objects.get(pk=long), Conversation.objects.get(pk=short)
