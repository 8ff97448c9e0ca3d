"""Shared fixtures: practice X (admin alice, staff bob) and practice Y (staff carol).

Patients A and B belong to X; patient C belongs to Y. Every view test checks that staff of the
other practice get 404 and that anonymous visitors are sent to the office login.
"""

from __future__ import annotations

import datetime
import email
import email.message
import email.policy
import io
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client

from clinicportal.core.context import StaffActor
from clinicportal.patients.models import ChartFile, Patient
from clinicportal.patients.services import PatientDetails, patient_create
from clinicportal.practices.models import Practice, StaffMember
from clinicportal.practices.services import practice_create, staff_create

pytest_plugins = ["tests.portal_actors"]

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On SQLite, test in a database file rather than in memory.

    With an in-memory database the live server's threads share the test's one connection, so
    two requests at once would run inside each other's transactions. A file gives every thread
    a connection of its own: concurrency tests then meet SQLite's real locking.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(
            tmp_path_factory.mktemp("database") / "test.sqlite3"
        )
        options = database.setdefault("OPTIONS", {})
        # A test database need not survive a power cut: skip the waits for the disk.
        options["init_command"] = options.get("init_command", "") + "PRAGMA synchronous=OFF;"


@pytest.fixture(autouse=True)
def _fast_hashing_and_private_storage(settings, tmp_path: Path) -> None:
    settings.PASSWORD_HASHERS = ["tests.hashers.FastArgon2idHasher"]
    settings.CLINICPORTAL_STORAGE_DIR = tmp_path / "storage"
    settings.CLINICPORTAL_BASE_URL = "http://testserver"
    # Nothing leaves this machine: the breached-password check has its own tests and server.
    settings.CLINICPORTAL_BREACHED_PASSWORDS_URL = ""


def make_practice(slug: str, name: str, admin_username: str) -> tuple[Practice, StaffMember]:
    return practice_create(
        name=name,
        slug=slug,
        address="1 Main Street\nPortland, ME 04101",
        phone="(207) 555-0100",
        admin_username=admin_username,
        admin_email=f"{admin_username}@example.com",
        admin_name=admin_username.capitalize(),
        admin_password=PASSWORD,
        admin_password_is_temporary=False,  # as if alice had chosen it
    )


def make_staff(practice: Practice, username: str, name: str) -> StaffMember:
    return staff_create(
        practice=practice,
        username=username,
        email=f"{username}@example.com",
        display_name=name,
        role=StaffMember.Role.STAFF,
        password=PASSWORD,
        password_is_temporary=False,
    )


@pytest.fixture
def practice_x(db) -> Practice:
    practice, _ = make_practice("clinic-x", "Clinic X Eye Care", "alice")
    return practice


@pytest.fixture
def alice(practice_x: Practice) -> StaffMember:
    """Admin of practice X."""
    return StaffMember.objects.select_related("user", "practice").get(user__username="alice")


@pytest.fixture
def bob(practice_x: Practice) -> StaffMember:
    """Staff (not admin) of practice X."""
    return make_staff(practice_x, "bob", "Bob Front Desk")


@pytest.fixture
def practice_y(db) -> Practice:
    practice, _ = make_practice("clinic-y", "Clinic Y Family Practice", "yvonne")
    return practice


@pytest.fixture
def carol(practice_y: Practice) -> StaffMember:
    """Staff of practice Y: an outsider to practice X."""
    return make_staff(practice_y, "carol", "Carol Outsider")


def actor(member: StaffMember) -> StaffActor:
    return StaffActor(user=member.user, staff=member, ip="127.0.0.1", user_agent="pytest")


def add_patient(member: StaffMember, first: str, last: str, **extra) -> Patient:
    details = PatientDetails(
        first_name=first,
        last_name=last,
        date_of_birth=extra.pop("date_of_birth", datetime.date(1980, 4, 2)),
        **extra,
    )
    return patient_create(actor=actor(member), details=details)


def add_chart_pdf(
    member: StaffMember,
    patient: Patient,
    name: str = "exam.pdf",
    description: str = "Annual exam",
    data: bytes | None = None,
) -> ChartFile:
    """A PDF in the patient's chart, added as the office would (no upload form)."""
    from clinicportal.patients.services import chart_file_add_generated

    return chart_file_add_generated(
        actor=actor(member),
        patient=patient,
        data=PDF_BYTES if data is None else data,
        content_type="application/pdf",
        filename=name,
        description=description,
        document_date=patient.created_at.date(),
    )


@pytest.fixture
def patient_a(alice: StaffMember) -> Patient:
    return add_patient(alice, "Ada", "Lovelace", phone="(207) 555-0134", email="ada@example.com")


@pytest.fixture
def patient_b(alice: StaffMember) -> Patient:
    return add_patient(alice, "Blaise", "Pascal", date_of_birth=datetime.date(1962, 6, 19))


@pytest.fixture
def patient_c(carol: StaffMember) -> Patient:
    return add_patient(carol, "Charles", "Babbage")


def login(client: Client, member: StaffMember) -> Client:
    client.force_login(member.user)
    return client


def search_params(client: Client, url: str, text: str) -> dict[str, str]:
    """Search as staff do: post the terms; return the query of the page it redirects to.

    That query holds the search's handle (``{"s": ...}``), never the terms; an empty search
    goes to the page without one.
    """
    answer = client.post(url, {"q": text})
    assert answer.status_code == 302, answer.status_code
    return dict(parse_qsl(urlsplit(answer["Location"]).query))


def searched(client: Client, url: str, text: str, **params: str | int) -> Any:
    """Post a search at ``url`` and open the page it leads to (with ``params``, a page number)."""
    return client.get(url, {**search_params(client, url, text), **params})


@pytest.fixture
def alice_client(alice: StaffMember) -> Client:
    return login(Client(), alice)


@pytest.fixture
def bob_client(bob: StaffMember) -> Client:
    return login(Client(), bob)


@pytest.fixture
def carol_client(carol: StaffMember) -> Client:
    return login(Client(), carol)


# Small real files of each kind, made in memory.
PDF_BYTES = (  # a whole one-page PDF: uploads are opened before they are accepted
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>> endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>> endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>> endobj\n"
    b"xref\n0 4\n"
    b"0000000000 65535 f \n"
    b"0000000009 00000 n \n"
    b"0000000053 00000 n \n"
    b"0000000103 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n167\n%%EOF\n"
)


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (11, 92, 171)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def make_upload() -> Callable[..., io.BytesIO]:
    def _make(name: str, data: bytes) -> io.BytesIO:
        handle = io.BytesIO(data)
        handle.name = name
        return handle

    return _make


def portal_login(client: Client, practice: Practice, username: str, password: str):
    return client.post(f"/p/{practice.slug}/login/", {"username": username, "password": password})


@pytest.fixture
def issue_access(alice: StaffMember):
    """Give a patient portal access as the office would; return (username, temporary password)."""
    from clinicportal.accounts.services.portal_access import portal_access_issue

    def _issue(patient: Patient, username: str | None = None) -> tuple[str, str]:
        issued = portal_access_issue(
            actor=actor(alice),
            patient=patient,
            username=username or f"{patient.first_name.lower()}{patient.pk}",
            password=None,
        )
        return issued.account.username, issued.password

    return _issue


NEW_PASSWORD = "lantern-orchard-velvet-93"
GUARDIAN_PASSWORD = "willow-kettle-sparrow-8"


def add_guardian(
    member: StaffMember,
    patient: Patient,
    username: str = "mary",
    display_name: str = "Mary Lovelace",
):
    """An authorized web user of ``patient`` with GUARDIAN_PASSWORD, added as the office would.

    The office's password is temporary; this one is kept as if the guardian had chosen it at
    their first sign-in, so that signing in goes straight to the portal.
    """
    from clinicportal.accounts.models import PortalAccount
    from clinicportal.accounts.services.portal_access import authorized_user_add

    issued = authorized_user_add(
        actor=actor(member),
        patient=patient,
        username=username,
        password=GUARDIAN_PASSWORD,
        display_name=display_name,
        note="mother",
    )
    PortalAccount.objects.filter(pk=issued.account.pk).update(
        password_is_temporary=False, temporary_password_expires_at=None
    )
    issued.account.refresh_from_db()
    return issued


@pytest.fixture
def ada_portal(client: Client, practice_x: Practice, patient_a: Patient, issue_access) -> Client:
    """Patient A signed in to the portal with her own password already set."""
    from clinicportal.accounts.models import PortalAccount
    from clinicportal.notifications.models import OutboxEmail

    username, temporary = issue_access(patient_a, "ada")
    portal_login(client, practice_x, username, temporary)
    client.post(
        f"/p/{practice_x.slug}/password/",
        {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    # The email telling her she chose a password (test_sign_in_notices.py) is the setup's, not
    # the test's: tests that count emails count their own.
    OutboxEmail.objects.filter(kind="sign_in_changed", to=patient_a.email).delete()
    # Nor is the browser it signed in from: her next sign-in is the first a test sees
    # (test_new_browser_notices.py).
    PortalAccount.objects.filter(username=username).update(known_browsers=[])
    return client


class Mailbox:
    """What a real SMTP server on loopback received."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp_server(smtp_port: int):
    """Start an aiosmtpd server on loopback; yields its Mailbox."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield mailbox
    controller.stop()


@pytest.fixture
def email_settings(practice_x: Practice, smtp_port: int):
    from clinicportal.notifications.models import EmailSettings

    return EmailSettings.objects.create(
        practice=practice_x,
        host="127.0.0.1",
        port=smtp_port,
        security=EmailSettings.Security.NONE,
        from_address="portal@clinic-x.example",
    )


@pytest.fixture
def dns(monkeypatch) -> dict[str, list[str]]:
    """Names the resolver answers with the addresses the test gives (this machine may have no
    DNS); any other name is resolved as usual."""
    names: dict[str, list[str]] = {}
    resolve = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return resolve(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in names[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.fixture
def medlineplus(settings):
    """A local server speaking MedlinePlus's search XML; the app is pointed at it."""
    from tests.medlineplus_server import FakeMedlinePlus

    with FakeMedlinePlus() as fake:
        settings.CLINICPORTAL_MEDLINEPLUS_URL = fake.url
        settings.CLINICPORTAL_MEDLINEPLUS_TIMEOUT = 2
        yield fake


@pytest.fixture(scope="session")
def clamd_socket(tmp_path_factory) -> Iterator[Path]:
    """A real clamd for the session (tests/clamd.py), on a local socket."""
    from tests.clamd import require_clamd, running_clamd

    require_clamd()
    with running_clamd(tmp_path_factory.mktemp("clamd")) as sock:
        yield sock


@pytest.fixture
def clamd(settings, clamd_socket) -> Path:
    """Scanning on, through the session's clamd."""
    settings.CLINICPORTAL_CLAMD = str(clamd_socket)
    settings.CLINICPORTAL_CLAMD_TIMEOUT = 30
    return clamd_socket


@pytest.fixture
def fake_stripe(settings):
    """A local server speaking Stripe's API; the SDK is pointed at it, with a short time-out."""
    from tests.stripe_server import FakeStripe

    fake = FakeStripe().start()
    settings.CLINICPORTAL_STRIPE_API_BASE = fake.url
    settings.CLINICPORTAL_PROCESSOR_TIMEOUT = 1
    yield fake
    fake.stop()


def run_worker() -> None:
    """Run the real background worker until no task is due."""
    from django.core.management import call_command
    from django.db import connection

    assert not connection.in_atomic_block, "the worker needs a transactional_db test"
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


AUTHENTICATOR_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enrol_authenticator(member: StaffMember) -> str:
    """Give a staff member a confirmed authenticator with a known secret; return it."""
    from django.utils import timezone

    from clinicportal.accounts.models import TwoFactorDevice

    TwoFactorDevice.objects.create(
        user=member.user, secret=AUTHENTICATOR_SECRET, confirmed_at=timezone.now()
    )
    return AUTHENTICATOR_SECRET


def authenticator_code(secret: str = AUTHENTICATOR_SECRET, ahead: int = 0) -> str:
    from clinicportal.accounts import totp

    return totp.code_at(secret, totp.current_step() + ahead)


def office_code(member: StaffMember) -> str:
    """A code that signs ``member`` in now; one without an authenticator is given one first.

    Every staff member uses two-step sign-in. A code works once, so a second sign-in in the
    same 30 seconds is let in as if that time had passed (replays are tested apart).
    """
    from clinicportal.accounts import totp
    from clinicportal.accounts.models import TwoFactorDevice

    device = TwoFactorDevice.objects.filter(user=member.user, confirmed_at__isnull=False).first()
    if device is None:
        enrol_authenticator(member)
        device = TwoFactorDevice.objects.get(user=member.user)
    if device.last_used_step is not None and device.last_used_step >= totp.current_step():
        TwoFactorDevice.objects.filter(pk=device.pk).update(last_used_step=None)
    return authenticator_code(device.secret)


def office_sign_in(client: Client, member: StaffMember, password: str = PASSWORD):
    """Sign a staff member in through the office's forms; return the answer to the code step."""
    from django.urls import reverse

    code = office_code(member)
    client.post(reverse("office:login"), {"username": member.user.username, "password": password})
    return client.post(reverse("office:login_code"), {"code": code})


class Clock:
    """time.time for core.session_state (idle and lifetime clocks), moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    from clinicportal.core import session_state

    clock = Clock()
    monkeypatch.setattr(session_state, "time", clock)
    return clock
