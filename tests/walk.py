"""What the URLconf walks share: every route with its parameters, and real objects to fill them.

``routes()`` lists every named route of the URLconf with the parameters of its whole path.
``Owned`` holds one patient's real objects (and their practice's), so that a route's path can
be filled with ids that name something; ``OBJECTS`` says which object each parameter names.
A route whose parameter is in neither ``OBJECTS`` nor ``DOORS`` fails both walks: a new route
with an id cannot be left out of them. ``snapshot()`` and ``changes()`` tell what a request
wrote to the database.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from clinicportal.accounts.models import (
    ApiKey,
    OfficeSession,
    PortalAccount,
    PortalGrant,
    PortalLink,
    PortalSession,
)
from clinicportal.accounts.services.api_keys import api_key_create
from clinicportal.accounts.services.links import _link_create, portal_access_email
from clinicportal.accounts.services.portal_access import portal_access_issue
from clinicportal.accounts.services.sessions import office_session_start, portal_session_start
from clinicportal.audit.models import AuditEvent
from clinicportal.billing.models import Invoice, Payment, Refund
from clinicportal.billing.payments import payment_start
from clinicportal.billing.processors import payment_settings_save
from clinicportal.billing.refunds import payment_refund
from clinicportal.billing.services import (
    LineDraft,
    invoice_create,
    invoice_finalize,
    payment_record,
)
from clinicportal.core.context import PortalActor
from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field
from clinicportal.intake.models import Form, FormAssignment, Submission
from clinicportal.intake.services import (
    form_assign,
    form_create,
    form_fields_save,
    submission_submit,
)
from clinicportal.messaging.models import Attachment, Conversation, Message, MessageRead, Task
from clinicportal.messaging.services import Draft, conversation_start, office_send
from clinicportal.notifications.models import OutboxEmail
from clinicportal.patients.models import ChartFile, Patient
from clinicportal.practices.models import Practice, StaffMember, SystemDocument
from clinicportal.records.models import PortalDocument
from clinicportal.records.services import portal_document_share_chart_file
from clinicportal.scheduling.models import Appointment, AppointmentType, DayOff, Provider
from clinicportal.scheduling.services import Choice, appointment_book
from tests.conftest import (
    GUARDIAN_PASSWORD,
    NEW_PASSWORD,
    PDF_BYTES,
    actor,
    add_chart_pdf,
    add_guardian,
    add_patient,
    login,
    make_staff,
    portal_login,
)
from tests.schedule_setup import at, schedule_on, weekday_ahead
from tests.test_records import add_to_library


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    namespace: str
    params: tuple[str, ...]  # every parameter of the whole path, outermost first

    def object_params(self) -> tuple[str, ...]:
        return tuple(p for p in self.params if f"{self.namespace}:{p}" not in DOORS)


def routes() -> list[Route]:
    """Every named route of the URLconf, found by walking its resolvers."""
    found: list[Route] = []

    def walk(patterns: list[Any], namespace: str, params: tuple[str, ...]) -> None:
        for entry in patterns:
            own = tuple(entry.pattern.converters) if isinstance(entry.pattern, RoutePattern) else ()
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, entry.namespace or namespace, params + own)
            elif isinstance(entry, URLPattern) and entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                found.append(Route(name, namespace, params + own))

    walk(get_resolver().url_patterns, "", ())
    return found


# The portal's practice slug is the door itself, not an object behind it.
# The webhook's practice slug, likewise: it names whose secret signs the confirmation.
DOORS = {"portal:practice_slug", "billing:practice_slug"}

# Which of the victim's objects each path parameter names: "<namespace>:<parameter>", or
# "<route name>:<parameter>" where one parameter name means different things in one namespace.
OBJECTS: dict[str, str] = {
    "office:patient_id": "patient",
    "office:file_id": "chart_file",
    "office:grant_id": "grant",
    "office:document_id": "portal_document",
    "office:settings_library_replace:document_id": "library_document",
    "office:settings_library_retire:document_id": "library_document",
    "office:email_id": "email",
    "office:key_id": "api_key",
    "office:session_id": "office_session",
    "office:staff_id": "staff_member",
    "office:task_id": "task",
    "office:conversation_id": "conversation",
    "office:message_id": "message",
    "office:attachment_id": "attachment",
    "office:invoice_id": "invoice",
    "office:payment_id": "payment",
    "office:refund_id": "refund",
    "office:provider_id": "provider",
    "office:type_id": "appointment_type",
    "office:day_off_id": "day_off",
    "office:appointment_id": "appointment",
    "portal:appointment_id": "appointment",
    "office:form_id": "form",
    "office:assignment_id": "assignment",
    "office:submission_id": "submission",
    "portal:form_id": "form",
    "portal:submission_id": "submission",
    "portal:conversation_id": "conversation",
    "portal:attachment_id": "attachment",
    "portal:document_id": "portal_document",
    "portal:token": "token",
    "portal:session_id": "portal_session",
    "portal:invoice_id": "invoice",
    # The TEST processor's page: its signed session is the capability (like a hosted payment
    # page's address), so only its owner's walk reaches it; no portal outsider has a door here.
    "billing:session": "checkout_session",
    "api:patient_id": "patient",
}

# Values that are well formed and name nothing, per kind of object.
UNKNOWN: dict[str, str] = {
    "token": "NoSuchToken_0123456789abcdefghijklmnopqrstu",
    "checkout_session": "NoSuchSession:0123456789abcdefghij",
}


def object_kind(route: Route, param: str) -> str | None:
    return OBJECTS.get(f"{route.name}:{param}") or OBJECTS.get(f"{route.namespace}:{param}")


def uncovered(all_routes: list[Route]) -> list[str]:
    """Routes with a parameter no one knows how to fill with a real object."""
    return [
        f"{route.name} <{param}>: add it to OBJECTS in tests/walk.py"
        for route in all_routes
        for param in route.object_params()
        if object_kind(route, param) is None
    ]


@dataclass
class Owned:
    """A patient's real objects and their practice's: what a route's ids can name."""

    practice: Practice
    patient: Patient
    chart_file: ChartFile
    portal_document: PortalDocument
    grant: PortalGrant  # an authorized web user of the patient
    email: OutboxEmail
    api_key: ApiKey
    key: str  # the API key itself
    library_document: SystemDocument
    token: str  # a live password link of the patient's own account
    office_session: OfficeSession  # a signed-in office session of the practice's admin
    portal_session: PortalSession  # a signed-in portal session of the patient's own account
    staff_member: StaffMember  # a staff member of the practice, not its admin
    conversation: Conversation  # the patient's, started by the patient and answered
    message: Message  # the patient's message in it (with its task)
    attachment: Attachment  # a chart file the office sent in its reply
    task: Task  # the web-message task of ``message``
    invoice: Invoice  # a finalized invoice of the patient, with a payment
    payment: Payment  # the cash payment of ``invoice``
    refund: Refund  # part of ``payment``, handed back in the office
    provider: Provider  # sees patients on weekdays (SCHEDULE on, mode "book")
    appointment_type: AppointmentType  # bookable online
    day_off: DayOff  # of ``provider``
    appointment: Appointment  # the patient's, booked online with ``provider``
    form: Form  # assigned to the patient (FORMS on), not yet answered, offered to no one else
    assignment: FormAssignment  # of ``form``: waiting for the patient
    submission: Submission  # the patient's, of another assigned form
    checkout_session: str  # the TEST processor's page of a payment started on ``invoice``

    def value(self, kind: str) -> str:
        if kind == "token":
            return self.token
        if kind == "checkout_session":
            return self.checkout_session
        return str(getattr(self, kind).public_id)


def unknown_value(kind: str) -> str:
    """A well-formed value of this kind that names nothing."""
    return UNKNOWN.get(kind, str(uuid.UUID(int=404)))


def url(route: Route, door: Owned, owners: Mapping[str, Owned | None] | None = None) -> str:
    """The route's path at ``door``'s practice, each object parameter naming its owner's object.

    ``owners`` maps parameters to whose object they name (None: an unknown id); parameters left
    out name ``door``'s own objects.
    """
    kwargs: dict[str, str] = {}
    for param in route.params:
        if f"{route.namespace}:{param}" in DOORS:
            kwargs[param] = door.practice.slug
            continue
        kind = object_kind(route, param)
        assert kind is not None, uncovered([route])
        owner = (owners or {}).get(param, door)
        kwargs[param] = unknown_value(kind) if owner is None else owner.value(kind)
    return reverse(route.name, kwargs=kwargs)


def own(admin: StaffMember, first_name: str, guardian: str) -> Owned:
    """Make a patient of ``admin``'s practice and one of every object a route can name.

    The patient gets portal access (username: the first name in lower case) and an authorized
    web user ``guardian`` (with GUARDIAN_PASSWORD).
    """
    patient = add_patient(admin, first_name, "Walker", email=f"{first_name.lower()}@example.com")
    issued = portal_access_issue(
        actor=actor(admin), patient=patient, username=patient.first_name.lower(), password=None
    )
    # The patient chooses their own password (which ends their other sessions and links).
    first = Client()
    portal_login(first, patient.practice, patient.first_name.lower(), issued.password)
    first.post(
        f"{patient.practice.portal_path()}password/",
        {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    chart_file = add_chart_pdf(admin, patient)
    document = portal_document_share_chart_file(
        actor=actor(admin),
        chart_file=chart_file,
        document_date=chart_file.document_date,
        description="Exam",
        is_education=False,
    )
    grant = add_guardian(admin, patient, username=guardian, display_name=guardian.title())
    email = portal_access_email(actor=actor(admin), patient=patient)
    token, _ = _link_create(issued.account, PortalLink.Purpose.RESET, datetime.timedelta(days=1))
    api_key, key = api_key_create(actor=actor(admin), name=f"{patient.first_name}'s printer")
    add_to_library(login(Client(), admin), data=PDF_BYTES + patient.first_name.encode())
    library = SystemDocument.objects.filter(practice=patient.practice).latest("id")
    # Sessions of another browser (one the owner could sign out from their list).
    office_key, portal_key = f"walk-office-{uuid.uuid4().hex}", f"walk-portal-{uuid.uuid4().hex}"
    office_session_start(user=admin.user, session_key=office_key, ip=None, user_agent="")
    portal_session_start(account=issued.account, session_key=portal_key, ip=None, user_agent="")
    asked = conversation_start(
        actor=PortalActor(account=issued.account, patient=patient),
        category="refill",
        subject="Refill",
        draft=Draft(body="Please refill my drops."),
        requests_response=True,
    )
    reply = office_send(
        actor=actor(admin),
        patient=patient,
        conversation=asked.conversation,
        draft=Draft(body="Sent to your pharmacy."),
        answering=[asked],
        chart_files=[chart_file],
        send_email=False,
    )
    invoice = invoice_create(
        actor=actor(admin),
        patient=patient,
        invoice_date=datetime.date(2026, 11, 20),
        provider="Dr. Chen",
        lines=[LineDraft(description="Eye exam", unit_price_cents=15_000, service_code="92004")],
    )
    invoice_finalize(actor=actor(admin), invoice=invoice)
    paid = payment_record(actor=actor(admin), invoice=invoice, method="cash", amount_cents=2_000)
    refund = payment_refund(
        actor=actor(admin), payment=paid, amount_cents=500, reason="Overpaid", key=first_name
    )
    practice = patient.practice
    practice.pay_bills_enabled = True
    practice.save(update_fields=["pay_bills_enabled"])
    payment_settings_save(actor=actor(admin), processor="test")
    account = PortalAccount.objects.select_related("practice").get(pk=issued.account.pk)
    checkout = payment_start(
        actor=PortalActor(account=account, patient=patient),
        invoice=invoice,
        amount_cents=1_000,
        key=f"walk-{first_name}",
    )
    provider, kind = schedule_on(admin)
    day = weekday_ahead(patient.practice)
    account = PortalAccount.objects.select_related("practice").get(pk=account.pk)
    appointment = appointment_book(
        actor=PortalActor(account=account, patient=patient),
        choice=Choice(kind, provider, at(patient.practice, day, 9)),
        key=f"walk-appointment-{first_name}",
    )
    day_off = DayOff.objects.create(
        practice=patient.practice, provider=provider, date=day + datetime.timedelta(days=1)
    )
    Practice.objects.filter(pk=patient.practice_id).update(forms_enabled=True)
    account = PortalAccount.objects.select_related("practice").get(pk=account.pk)
    admin.practice.refresh_from_db()
    question = [Field("name", kinds.SHORT_TEXT, "Preferred name", required=True)]
    form = form_create(actor=actor(admin), name=f"Intake {first_name}", kind="intake")
    form_fields_save(actor=actor(admin), form=form, fields=question)
    assignment = form_assign(actor=actor(admin), form=form, patient=patient)
    answered = form_create(actor=actor(admin), name=f"Consent {first_name}", kind="consent")
    form_fields_save(actor=actor(admin), form=answered, fields=question)
    form_assign(actor=actor(admin), form=answered, patient=patient)
    submission = submission_submit(
        actor=PortalActor(account=account, patient=patient),
        form=answered,
        version_number=1,
        posted={"f-name": first_name},
    )
    return Owned(
        practice=patient.practice,
        patient=patient,
        chart_file=chart_file,
        portal_document=document,
        grant=grant.account.grants.get(patient=patient),
        email=email,
        api_key=api_key,
        key=key,
        library_document=library,
        token=token,
        office_session=OfficeSession.objects.get(session_key=office_key),
        portal_session=PortalSession.objects.get(session_key=portal_key),
        staff_member=make_staff(
            patient.practice, f"{first_name.lower()}-desk", f"{first_name} Front Desk"
        ),
        conversation=asked.conversation,
        message=asked,
        attachment=reply.attachments.get(),
        task=Task.objects.get(message=asked),
        invoice=invoice,
        payment=paid,
        refund=refund,
        provider=provider,
        appointment_type=kind,
        day_off=day_off,
        appointment=appointment,
        form=form,
        assignment=assignment,
        submission=submission,
        checkout_session=checkout.removeprefix("/pay/test/").removesuffix("/"),
    )


def portal_client(owned: Owned, *, username: str | None = None) -> Client:
    """A client signed in to the portal: as the patient, or as the authorized user named."""
    client = Client()
    if username is None:
        portal_login(client, owned.practice, owned.patient.first_name.lower(), NEW_PASSWORD)
    else:
        portal_login(client, owned.practice, username, GUARDIAN_PASSWORD)
    assert client.session.get("portal.account"), "the portal sign-in did not succeed"
    return client


# The actions that record a viewing: the only rows a GET may add.
VIEWING = {
    AuditEvent.Action.PATIENT_VIEWED,
    AuditEvent.Action.CHART_FILE_VIEWED,
    AuditEvent.Action.CHART_FILE_DOWNLOADED,
    AuditEvent.Action.PORTAL_DOCUMENT_OFFICE_OPENED,
    AuditEvent.Action.PORTAL_DOCUMENT_VIEWED,
    AuditEvent.Action.PORTAL_DOCUMENT_DOWNLOADED,
    AuditEvent.Action.OUTBOX_EMAIL_VIEWED,
    AuditEvent.Action.MESSAGE_READ,
    AuditEvent.Action.MESSAGES_OFFICE_VIEWED,
    AuditEvent.Action.MESSAGE_ATTACHMENT_VIEWED,
    AuditEvent.Action.MESSAGE_ATTACHMENT_DOWNLOADED,
    AuditEvent.Action.MESSAGE_ATTACHMENT_OFFICE_OPENED,
    AuditEvent.Action.INVOICE_VIEWED,
    AuditEvent.Action.INVOICE_PRINTED,
    AuditEvent.Action.INVOICE_VIEWED_BY_PATIENT,
    AuditEvent.Action.APPOINTMENT_VIEWED,
    AuditEvent.Action.FORM_SUBMISSION_VIEWED,
}
# Receipts of a viewing, added by the GET that viewed (a message read by the patient's side).
VIEWING_RECEIPTS: set[type[Model]] = {MessageRead}

# Nothing is left out: a signed-in page stamps its session at most once a minute (see
# core.session_state), and each role's warm-up request comes right after its sign-in.
EXCLUDED_MODELS: set[type[Model]] = set()
EXCLUDED_FIELDS: dict[type[Model], set[str]] = {}  # columns

Snapshot = dict[str, dict[Any, dict[str, Any]]]


def snapshot(ignore: Mapping[type[Model], set[str]] | None = None) -> Snapshot:
    """Every row of every table (raw SQL, for speed), by model and primary key.

    Leaves out EXCLUDED_MODELS, EXCLUDED_FIELDS and the columns in ``ignore``.
    """
    tables: Snapshot = {}
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            meta = model._meta
            if meta.proxy or not meta.managed or model in EXCLUDED_MODELS:
                continue
            skip = EXCLUDED_FIELDS.get(model, set()) | (ignore or {}).get(model, set())
            table = connection.ops.quote_name(meta.db_table)  # a model's, not input
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
            columns = [c[0] for c in cursor.description]
            rows = (dict(zip(columns, row, strict=True)) for row in cursor.fetchall())
            tables[meta.label] = {
                row[meta.pk.column]: {k: v for k, v in row.items() if k not in skip} for row in rows
            }
    return tables


def changes(
    before: Snapshot, after: Snapshot, allowed: Collection[str] = frozenset(VIEWING)
) -> list[str]:
    """What changed between two snapshots, except audit rows of the ``allowed`` actions."""
    found: list[str] = []
    for label, rows in after.items():
        old = before[label]
        for pk, row in rows.items():
            if pk not in old:
                if label == AuditEvent._meta.label and row["action"] in allowed:
                    continue
                if allowed and label in {model._meta.label for model in VIEWING_RECEIPTS}:
                    continue
                found.append(f"{label} row {pk} added: {row}")
            elif row != old[pk]:
                fields = sorted(k for k in row if row[k] != old[pk].get(k))
                found.append(f"{label} row {pk} changed: {', '.join(fields)}")
        found += [f"{label} row {pk} deleted" for pk in old.keys() - rows.keys()]
    return found
