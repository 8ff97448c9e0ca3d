"""The data set of bench/messages.py, written in bulk (bench/bulk.py: COPY on PostgreSQL).

A practice of its own ("bench-messages") with generated patients, each with a portal account,
and about three conversations each, spread over three years (bench/messages_conversations.py:
their messages, tasks, read receipts and emails).

One patient, "Bench Messages", made through the services with a portal account, has the long
conversation (--conversation messages, a few attachments) and a short one of three messages.
The long conversation's subject names the data set: once it exists the data set is complete
(it is written last, in the same transaction), and a later run with the same sizes reuses it.
"""

from __future__ import annotations

import datetime
import random
import time
from dataclasses import dataclass, field
from typing import Any

from bulk import Ids, Writer, reset_sequences, step, uid, unchecked_foreign_keys
from messages_conversations import YEARS, Person, conversations_write, long_and_short

SLUG = "bench-messages"
ADMIN_USERNAME = "bench.messages.admin"
PORTAL_USERNAME = "bench.messages"
PORTAL_PASSWORD = "bench-messages-password-2026"
FIRST_NAMES = [
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jamal", "Kim",
    "Lena", "Marco", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
    "Wen", "Xavier", "Yara", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Abbott", "Baker", "Castillo", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito",
    "Jensen", "Khan", "Lopez", "Moreau", "Nguyen", "Okafor", "Patel", "Quist", "Rossi",
    "Schmidt", "Tanaka", "Usman", "Varga", "Walsh", "Xu", "Young", "Zimmer",
]  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    patients: int
    messages: int
    conversation: int  # messages in the long conversation
    seed: int = 1

    @property
    def label(self) -> str:
        """The long conversation's subject: the data set's name and its marker."""
        return (
            f"Bench data set: {self.patients} patients, {self.messages} messages, "
            f"a conversation of {self.conversation}, seed {self.seed}"
        )


@dataclass
class DataSet:
    practice: Any
    admin: Any  # the StaffMember who signs tasks off
    patient: Any  # "Bench Messages", with the long and the short conversation
    account: Any  # that patient's own portal account
    long: Any  # its Conversation of Sizes.conversation messages
    short: Any  # its Conversation of three messages
    reused: bool
    seconds: float  # to build it (0 when reused)
    counts: dict[str, int] = field(default_factory=dict)


def ensure(sizes: Sizes, *, rebuild: bool) -> DataSet:
    """Return the data set of ``sizes``: the one in the database, or a new one."""
    from django.db import transaction

    from clinicportal.messaging.models import Conversation, Message

    started = time.perf_counter()
    practice, admin = _practice()
    patient, account = _bench_patient(practice)
    long = Conversation.objects.filter(practice=practice, subject=sizes.label).first()
    expected = sizes.messages + sizes.conversation + 3
    if long is not None and not rebuild:
        have = Message.objects.filter(practice=practice).count()
        if have == expected:
            short = Conversation.objects.filter(patient=patient).exclude(pk=long.pk).get()
            _vacuum()
            return DataSet(practice, admin, patient, account, long, short, True, 0.0)
        print(f"the data set has {have} messages, not {expected}: building it again")
    with transaction.atomic():
        checked = unchecked_foreign_keys()
        with step("earlier data set deleted"):
            _forget_messages(practice)
        with step("patients"):
            patients = _patients(practice, sizes)
        ids = Ids(*_models())
        with step("conversations"):
            counts = conversations_write(practice, admin, patients, sizes, ids)
        long, short = long_and_short(practice, admin, patient, account, sizes, ids, counts)
        reset_sequences(_models())
        writing_ended = time.perf_counter()
    how = "the foreign keys checked" if checked else "foreign keys not checked"
    print(f"  committed ({how}): {time.perf_counter() - writing_ended:.1f} s")
    with step("vacuumed and analysed"):
        _vacuum()
    seconds = time.perf_counter() - started
    return DataSet(practice, admin, patient, account, long, short, False, seconds, counts)


def _models() -> tuple[Any, ...]:
    from clinicportal.messaging.models import Attachment, Conversation, Message, MessageRead, Task
    from clinicportal.notifications.models import OutboxEmail

    return (Conversation, Message, Task, MessageRead, Attachment, OutboxEmail)


def _practice() -> tuple[Any, Any]:
    from clinicportal.practices.models import Practice, StaffMember
    from clinicportal.practices.services import practice_create

    practice = Practice.objects.filter(slug=SLUG).first()
    if practice is None:
        practice, _ = practice_create(
            name="Benchmark Messages Eye Care",
            slug=SLUG,
            admin_username=ADMIN_USERNAME,
            admin_email="bench.messages@example.com",
            admin_name="Bench Messages Admin",
            admin_password="bench-messages-admin-password-not-secret",
            admin_password_is_temporary=False,
        )
    admin = StaffMember.objects.select_related("user", "practice").get(
        practice=practice, role="admin"
    )
    return practice, admin


def _bench_patient(practice: Any) -> tuple[Any, Any]:
    from common import bench_portal_patient

    from clinicportal.accounts.models import PortalGrant

    patient = bench_portal_patient(
        practice, last_name="Messages", username=PORTAL_USERNAME, password=PORTAL_PASSWORD
    )
    grant = PortalGrant.objects.select_related("account").get(patient=patient, kind="patient")
    return patient, grant.account


def _forget_messages(practice: Any) -> None:
    """Delete the practice's messages and emails (an earlier data set); keep its patients."""
    from django.db import connection

    from clinicportal.messaging.models import Attachment, Conversation, Message, MessageRead, Task
    from clinicportal.notifications.models import OutboxEmail

    with connection.cursor() as cursor:
        for model in (Task, MessageRead, Attachment, Message, Conversation, OutboxEmail):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE practice_id = %s", [practice.pk])  # noqa: S608


def _patients(practice: Any, sizes: Sizes) -> list[Person]:
    """The practice's generated patients (made now if too few), each with its own account."""
    from django.db.models import Max
    from django.utils import timezone

    from clinicportal.accounts.models import PortalAccount, PortalGrant
    from clinicportal.patients.models import Patient
    from clinicportal.patients.search import name_key, phone_key

    def people() -> list[Person]:
        rows = (
            PortalGrant.objects.filter(practice=practice, kind="patient")
            .exclude(patient__last_name="Messages", patient__first_name="Bench")
            .order_by("patient_id")
            .values_list("patient_id", "account_id", "account__display_name", "patient__email")
        )
        return [Person(*row) for row in rows[: sizes.patients]]

    found = people()
    missing = sizes.patients - len(found)
    if missing <= 0:
        return found
    rng = random.Random(sizes.seed)
    ids = random.Random()
    now = timezone.now()
    today = timezone.localdate()
    next_patient = (Patient.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    next_account = (PortalAccount.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    next_grant = (PortalGrant.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    patients: list[tuple[object, ...]] = []
    accounts: list[tuple[object, ...]] = []
    grants: list[tuple[object, ...]] = []
    for n in range(missing):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        phone = f"({rng.randint(200, 989)}) 555-{rng.randint(0, 9999):04d}"
        email = f"{first}.{last}.{next_patient + n}@patients.bench.example".lower()
        born = today - datetime.timedelta(days=rng.randint(365, 90 * 365))
        created = now - datetime.timedelta(days=YEARS * 365 + rng.randint(1, 3650))
        patient_id, account_id = next_patient + n, next_account + n
        patients.append(
            (patient_id, practice.pk, uid(ids), first, last, born, email, phone, "", "", "",
             "", "", name_key(last), name_key(first), phone_key(phone), phone_key(phone)[::-1],
             created, created)
        )  # fmt: skip
        username = f"bench.patient.{patient_id}"
        accounts.append(
            (account_id, practice.pk, uid(ids), username, username, f"{first} {last}", email,
             "!bench-unusable", False, None, created, True, created, None, None, "", [])
        )  # fmt: skip
        grants.append(
            (next_grant + n, practice.pk, uid(ids), account_id, patient_id, "patient", "",
             created, None)
        )  # fmt: skip
    Writer(
        Patient,
        "id practice_id public_id first_name last_name date_of_birth email phone address_line1 "
        "address_line2 city region postal_code last_name_key first_name_key phone_digits "
        "phone_digits_reversed created_at updated_at",
    ).write(patients)
    Writer(
        PortalAccount,
        "id practice_id public_id username username_key display_name email password "
        "password_is_temporary temporary_password_expires_at password_changed_at is_active "
        "created_at last_login_at second_step_awaited_at second_step_awaited_by known_browsers",
    ).write(accounts)
    Writer(
        PortalGrant,
        "id practice_id public_id account_id patient_id kind note created_at created_by_id",
    ).write(grants)
    reset_sequences([Patient, PortalAccount, PortalGrant])
    print(f"made {missing} patients with portal accounts")
    return people()


def _vacuum() -> None:
    """As autovacuum keeps production tables: fresh statistics, all-visible pages."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    from clinicportal.accounts.models import PortalAccount, PortalGrant
    from clinicportal.patients.models import Patient

    with connection.cursor() as cursor:
        for model in (*_models(), Patient, PortalAccount, PortalGrant):
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
