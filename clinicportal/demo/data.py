"""The demo practice, and bulk patients for benchmarks."""

from __future__ import annotations

import datetime
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from faker import Faker

from clinicportal.accounts.models import ApiKey, PortalAccount, TwoFactorDevice, User
from clinicportal.accounts.services.api_keys import api_key_hash
from clinicportal.accounts.services.portal_access import (
    authorized_user_add,
    authorized_user_link,
    portal_access_issue,
    portal_password_change,
)
from clinicportal.content.services import blob_put_bytes
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.demo.billing import demo_invoices, demo_pay_bills
from clinicportal.demo.forms import demo_forms
from clinicportal.demo.messages import demo_messages
from clinicportal.demo.schedule import demo_schedule
from clinicportal.notifications.models import EmailSettings, OutboxEmail
from clinicportal.patients.models import ChartFile, Patient
from clinicportal.patients.search import name_key, phone_key
from clinicportal.patients.services import PatientDetails, chart_file_add_generated, patient_create
from clinicportal.practices.models import Practice, StaffMember
from clinicportal.practices.services import practice_create, staff_create
from clinicportal.records.medlineplus import HealthTopic
from clinicportal.records.services import (
    portal_document_share_chart_file,
    portal_document_share_topic,
)

DEMO_SLUG = "clearview"
DEMO_NAME = "Clearview Eye Care"
DEMO_PATIENTS = 50
DEMO_SMTP_PORT = 2525
# Demo only: the staff logins' authenticator keys, public in README.md (staff must use two-step).
DEMO_ADMIN_TOTP_SECRET = "KRSXG5CBMRWWS3TEMVWW6UDPOJ2GC3DT"  # noqa: S105
DEMO_STAFF_TOTP_SECRET = "INWGKYLSOZUWK52TORQWMZSEMVWW6S3F"  # noqa: S105
# Demo only: an API key for trying `clinicportal print-to-portal`, public in README.md.
DEMO_API_KEY_PREFIX = "c1ea7e1dde70"
DEMO_API_KEY = f"cpk_{DEMO_API_KEY_PREFIX}_demo-only-key-published-in-the-readme"
# A MedlinePlus topic on the test patient's portal, as Search Online would put it there.
DEMO_TOPIC = HealthTopic(
    title="Dry Eye",
    url="https://medlineplus.gov/dryeye.html",
    summary=(
        "Dry eye happens when your eyes don't make enough tears, or the tears evaporate too "
        "quickly. Eye drops, warm compresses and a break from screens can help."
    ),
)


@dataclass(frozen=True)
class DemoLogin:
    door: str
    role: str
    username: str
    password: str
    totp_secret: str = ""  # the authenticator key, for an office login


# Demo only: fixed so that README.md can list them. Never used outside `make demo`.
DEMO_LOGINS = (
    DemoLogin(
        "office", "admin", "clearview.admin", "violet-harbor-lantern-42", DEMO_ADMIN_TOTP_SECRET
    ),
    DemoLogin(
        "office", "staff", "clearview.staff", "copper-meadow-signal-17", DEMO_STAFF_TOTP_SECRET
    ),
)
DEMO_PORTAL_LOGINS = (
    DemoLogin("portal", "patient", "jordan.rivera", "maple-comet-river-58"),
    DemoLogin("portal", "guardian", "morgan.rivera", "pebble-lark-summit-26"),
)

_DOCUMENTS = (
    ("Visit summary", "Comprehensive eye exam"),
    ("Spectacle prescription", "Glasses prescription"),
    ("Contact lens prescription", "Contact lens fitting"),
    ("Visual field report", "Humphrey 24-2 visual field"),
    ("OCT report", "Retinal OCT scan"),
)


def render_pdfs(documents: Sequence[tuple[str, list[str]]]) -> list[bytes]:
    """Render small real PDFs with WeasyPrint, one per (title, lines), each a page of its own.

    They are laid out as one document and written page by page: WeasyPrint's cost for a page
    this small is mostly what it does once per document, so the demo's 75 files take about a
    fifth of the time they took one by one.
    """
    from weasyprint import HTML

    sections = "".join(
        f"<section><h1>{escape(title)}</h1>{''.join(f'<p>{escape(line)}</p>' for line in lines)}"
        "</section>"
        for title, lines in documents
    )
    html = (
        "<html><head><style>@page{size:Letter;margin:2cm} body{font-family:sans-serif}"
        " section{break-before:page}</style>"
        f"</head><body>{sections}</body></html>"
    )
    rendered = HTML(string=html).render()
    return [rendered.copy([page]).write_pdf() for page in rendered.pages]


def render_pdf(title: str, lines: list[str]) -> bytes:
    """Render a small real PDF with WeasyPrint."""
    return render_pdfs([(title, lines)])[0]


class DemoRefused(Exception):
    """The demo would overwrite something real; ``message`` says what, and nothing changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


DEMO_EMAIL_DOMAIN = "@clearview.example"  # .example is reserved: no real person has one


def _demo_made(user: User) -> bool:
    return user.email.endswith(DEMO_EMAIL_DOMAIN)


def _refuse_to_touch_what_is_real(practice: Practice | None) -> None:
    if settings.PRODUCTION:
        raise DemoRefused(
            _(
                "The demo publishes its passwords and keys, so it never runs with "
                "CLINICPORTAL_ENV=production. Nothing was changed."
            )
        )
    users = User.objects.filter(username__in=[login.username for login in DEMO_LOGINS])
    for user in users:
        if not _demo_made(user):
            raise DemoRefused(
                _("The user %(name)s was not made by the demo; nothing was changed.")
                % {"name": user.username}
            )
    if practice is not None and not users.filter(staff_member__practice=practice).exists():
        raise DemoRefused(
            _("A practice with the address %(slug)s exists and was not made by the demo.")
            % {"slug": DEMO_SLUG}
        )


def demo_load() -> tuple[Practice, list[DemoLogin], int]:
    """Create or refresh the demo practice; return it, its logins and how many patients it has.

    Safe to run again: the practice, logins, patients and messages are created once; the demo
    passwords are reset so the README's logins always work. Refuses (DemoRefused) in
    production, and wherever a demo name is taken by something the demo did not make.
    """
    practice = Practice.objects.filter(slug=DEMO_SLUG).first()
    _refuse_to_touch_what_is_real(practice)
    admin_login, staff_login = DEMO_LOGINS
    if practice is None:
        practice, _ = practice_create(
            name=DEMO_NAME,
            slug=DEMO_SLUG,
            address="120 Harbor Street\nPortland, ME 04101",
            phone="(207) 555-0142",
            admin_username=admin_login.username,
            admin_email=f"admin{DEMO_EMAIL_DOMAIN}",
            admin_name="Dana Whitfield",
            admin_password=admin_login.password,
            admin_password_is_temporary=False,  # published in README.md, to try the demo
        )
    if not User.objects.filter(username=staff_login.username).exists():
        staff_create(
            practice=practice,
            username=staff_login.username,
            email=f"frontdesk{DEMO_EMAIL_DOMAIN}",
            display_name="Sam Ortega",
            role=StaffMember.Role.STAFF,
            password=staff_login.password,
            password_is_temporary=False,
        )
    for login in DEMO_LOGINS:
        user = User.objects.get(username=login.username)
        if not user.check_password(login.password):
            user.set_password(login.password)
            user.save(update_fields=["password"])
        TwoFactorDevice.objects.get_or_create(
            user=user, defaults={"secret": login.totp_secret, "confirmed_at": timezone.now()}
        )
    admin = StaffMember.objects.select_related("user", "practice").get(
        user__username=admin_login.username
    )
    actor = StaffActor(user=admin.user, staff=admin)
    if not practice.patients.exists():
        _demo_patients(actor, DEMO_PATIENTS)
    _demo_portal(actor)
    front_desk = StaffMember.objects.select_related("user", "practice").get(
        user__username=staff_login.username
    )
    demo_messages(
        admin=actor,
        staff=StaffActor(user=front_desk.user, staff=front_desk),
        patient_username=DEMO_PORTAL_LOGINS[0].username,
        guardian_username=DEMO_PORTAL_LOGINS[1].username,
    )
    demo_invoices(admin=actor, staff=StaffActor(user=front_desk.user, staff=front_desk))
    demo_pay_bills(admin=actor)
    demo_schedule(admin=actor)
    demo_forms(admin=actor)
    ApiKey.objects.get_or_create(
        practice=practice,
        prefix=DEMO_API_KEY_PREFIX,
        defaults={
            "name": "Demo printer",
            "key_hash": api_key_hash(DEMO_API_KEY),
            "created_by": admin.user,
        },
    )
    EmailSettings.objects.get_or_create(
        practice=practice,
        defaults={
            "host": "127.0.0.1",
            "port": DEMO_SMTP_PORT,
            "security": EmailSettings.Security.NONE,
            "from_address": "portal@clearview.example",
        },
    )
    return practice, [*DEMO_LOGINS, *DEMO_PORTAL_LOGINS], practice.patients.count()


def demo_staff_code(username: str) -> str | None:
    """Return a demo staff login's current two-step code, while it uses its public demo key.

    None for a username that is no demo staff login, or whose authenticator was changed.
    """
    from clinicportal.accounts import totp

    login = next((login for login in DEMO_LOGINS if login.username == username), None)
    device = TwoFactorDevice.objects.filter(user__username=username).first()
    if login is None or device is None or device.secret != login.totp_secret:
        return None  # the secret is stored encrypted: compared here, never looked up
    return totp.code_at(device.secret, totp.current_step())


def _demo_portal(actor: StaffActor) -> None:
    """A test patient with portal access, and a parent authorized for two children."""
    patient_login, guardian_login = DEMO_PORTAL_LOGINS
    practice = actor.practice
    if PortalAccount.objects.filter(practice=practice, username=patient_login.username).exists():
        return
    family = {
        "last_name": "Rivera",
        "phone": "(207) 555-0187",
        "address_line1": "14 Lighthouse Lane",
        "city": "Portland",
        "region": "ME",
        "postal_code": "04101",
    }
    with transaction.atomic():
        jordan = patient_create(
            actor=actor,
            details=PatientDetails(
                first_name="Jordan",
                date_of_birth=datetime.date(1986, 5, 14),
                email="jordan.rivera@example.com",
                **family,
            ),
        )
        issued = portal_access_issue(
            actor=actor, patient=jordan, username=patient_login.username, password=None
        )
        portal_password_change(
            actor=PortalActor(account=issued.account, patient=jordan),
            current=None,
            new=patient_login.password,
            session_key="",
        )
        summary = chart_file_add_generated(
            actor=actor,
            patient=jordan,
            data=render_pdf(
                f"{DEMO_NAME} · Visit summary",
                [
                    "Patient: Jordan Rivera",
                    "Visual acuity: OD 20/20, OS 20/20.",
                    "Next visit: 1 year.",
                ],
            ),
            content_type="application/pdf",
            filename="Visit summary.pdf",
            description="Visit summary",
            document_date=timezone.localdate() - datetime.timedelta(days=14),
        )
        portal_document_share_chart_file(
            actor=actor,
            chart_file=summary,
            document_date=summary.document_date,
            description="Your visit summary",
            is_education=False,
        )
        portal_document_share_topic(
            actor=actor, patient=jordan, topic=DEMO_TOPIC, is_education=True
        )
        children = [
            patient_create(
                actor=actor,
                details=PatientDetails(first_name=first, date_of_birth=born, **family),
            )
            for first, born in (
                ("Avery", datetime.date(2014, 9, 2)),
                ("Riley", datetime.date(2017, 1, 23)),
            )
        ]
        guardian = authorized_user_add(
            actor=actor,
            patient=children[0],
            username=guardian_login.username,
            password=None,
            display_name="Morgan Rivera",
            note="Parent",
            email="morgan.rivera@example.com",
        )
        portal_password_change(  # as Morgan would at first sign-in
            actor=PortalActor(account=guardian.account, patient=children[0]),
            current=None,
            new=guardian_login.password,
            session_key="",
        )
        authorized_user_link(
            actor=actor, patient=children[1], username=guardian_login.username, note="Parent"
        )
        # Choosing their passwords told Jordan and Morgan by email, as it would tell anyone;
        # the demo's addresses are not real people's, and its outbox starts empty.
        OutboxEmail.objects.filter(practice=actor.practice, kind="sign_in_changed").delete()


def _demo_patients(actor: StaffActor, count: int) -> None:
    fake = Faker("en_US")
    Faker.seed(2026)
    rng = random.Random(2026)
    today = timezone.localdate()
    files: list[tuple[Patient, str, str, datetime.date, list[str]]] = []
    with transaction.atomic():
        for _ in range(count):
            first, last = fake.first_name(), fake.last_name()
            patient = patient_create(
                actor=actor,
                details=PatientDetails(
                    first_name=first,
                    last_name=last,
                    date_of_birth=fake.date_of_birth(minimum_age=2, maximum_age=92),
                    email=f"{first}.{last}@example.com".lower(),
                    phone=f"(207) 555-{rng.randint(0, 9999):04d}",
                    address_line1=fake.street_address(),
                    city=fake.city(),
                    region="ME",
                    postal_code=f"04{rng.randint(0, 999):03d}",
                ),
            )
            for title, description in rng.sample(_DOCUMENTS, k=rng.randint(1, 2)):
                visit = today - datetime.timedelta(days=rng.randint(1, 700))
                lines = [
                    f"Patient: {patient.full_name}",
                    f"Date of birth: {patient.date_of_birth:%m/%d/%Y}",
                    f"Date: {visit:%m/%d/%Y}",
                    "Visual acuity: OD 20/20, OS 20/25 (corrected).",
                    "Intraocular pressure: 15 / 16 mmHg.",
                    "Plan: routine follow-up in 12 months.",
                ]
                files.append((patient, title, description, visit, lines))
        pdfs = render_pdfs([(f"{DEMO_NAME} · {title}", lines) for _, title, _, _, lines in files])
        for (patient, title, description, visit, _), pdf in zip(files, pdfs, strict=True):
            chart_file_add_generated(
                actor=actor,
                patient=patient,
                data=pdf,
                content_type="application/pdf",
                filename=f"{visit:%Y-%m-%d} {title}.pdf",
                description=description,
                document_date=visit,
            )


def patients_generate(*, practice: Practice, count: int, batch: int = 5000, seed: int = 1) -> int:
    """Add ``count`` patients, each with one chart file, to ``practice``, fast.

    For benchmarks: rows are bulk-inserted (no per-row audit) and every chart file points at
    one stored PDF, as content-addressed storage would.
    """
    staff = StaffMember.objects.filter(practice=practice).select_related("user").first()
    blob = blob_put_bytes(
        practice=practice,
        data=render_pdf("Generated chart file", ["For benchmarks."]),
        content_type="application/pdf",
    )
    fake = Faker("en_US")
    Faker.seed(seed)
    rng = random.Random(seed)
    first_names = [fake.first_name() for _ in range(500)]
    last_names = [fake.last_name() for _ in range(1000)]
    today = timezone.localdate()
    made = 0
    while made < count:
        size = min(batch, count - made)
        patients = []
        for _number in range(size):
            first, last = rng.choice(first_names), rng.choice(last_names)
            phone = f"({rng.randint(200, 989)}) 555-{rng.randint(0, 9999):04d}"
            patients.append(
                Patient(
                    practice=practice,
                    public_id=uuid.uuid4(),
                    first_name=first,
                    last_name=last,
                    first_name_key=name_key(first),
                    last_name_key=name_key(last),
                    date_of_birth=today - datetime.timedelta(days=rng.randint(365, 90 * 365)),
                    phone=phone,
                    phone_digits=phone_key(phone),
                    phone_digits_reversed=phone_key(phone)[::-1],
                    email=f"{first}.{last}{rng.randint(1, 999)}@example.com".lower(),
                )
            )
        with transaction.atomic():
            Patient.objects.bulk_create(patients, batch_size=1000)
            saved = Patient.objects.filter(
                public_id__in=[p.public_id for p in patients]
            ).values_list("id", flat=True)
            ChartFile.objects.bulk_create(
                [
                    ChartFile(
                        practice=practice,
                        patient_id=patient_id,
                        blob=blob,
                        filename="Generated chart file.pdf",
                        description="Generated for benchmarks",
                        document_date=today,
                        uploaded_by=staff.user if staff else None,
                    )
                    for patient_id in saved
                ],
                batch_size=1000,
            )
        made += size
    return made
