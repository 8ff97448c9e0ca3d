"""Create practices and their staff; change practice settings; keep the document library."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicportal.accounts.models import OfficeSession, User
from clinicportal.accounts.passwords import TEMPORARY_PASSWORD_LIFETIME, validate_staff_password
from clinicportal.accounts.services.notices import SignInChange, staff_sign_in_notify
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.content.services import (
    blob_put_upload,
    blob_release,
    upload_validate,
)
from clinicportal.content.uploads import HashedUpload
from clinicportal.core.access import require_admin, require_reachable
from clinicportal.core.context import StaffActor, VisitorActor
from clinicportal.practices.models import Practice, StaffMember, SystemDocument


def staff_create(
    *,
    practice: Practice,
    username: str,
    email: str,
    display_name: str,
    role: StaffMember.Role,
    password: str,
    actor: StaffActor | VisitorActor | None = None,
    password_is_temporary: bool = True,
) -> StaffMember:
    """Add an office login to ``practice``; the password is stored only as an Argon2id hash.

    A password chosen for someone else is temporary (the default): it expires after
    TEMPORARY_PASSWORD_LIFETIME, and until then the office lets them in only to choose their
    own. Recorded in the practice's audit trail, by ``actor`` (an admin, or the command line
    when None) or, for a practice's first admin, by that admin.
    """
    user = User(username=username.strip(), email=email.strip())
    user.full_clean(exclude=["password"])
    validate_staff_password(password, user, practice)
    _password_set(user, password, temporary=password_is_temporary)
    with transaction.atomic():
        user.save()
        member = StaffMember(
            practice=practice, user=user, role=role, display_name=display_name.strip()
        )
        member.full_clean()
        member.save()
        # Stored in the trail as written, in the site's language (a command runs in LANGUAGE_CODE).
        by = actor or VisitorActor(practice=practice, name=_("clinicportal (command line)"))
        if (
            actor is None
            and role == StaffMember.Role.ADMIN
            and not practice.staff.exclude(pk=member.pk).exists()
        ):
            by = StaffActor(user=user, staff=member)  # a practice's first admin
        audit_record(actor=by, action=AuditEvent.Action.STAFF_CREATED, target=user)
    return member


def staff_password_reissue(*, member: StaffMember, password: str) -> None:
    """Give a staff member a new temporary password (from the command line): for one whose
    temporary password expired unused, or who forgot theirs. It ends their office sessions;
    they choose their own password at the next sign-in. Recorded in the practice's trail."""
    user = member.user
    validate_staff_password(password, user, member.practice)
    _password_set(user, password, temporary=True)
    with transaction.atomic():
        user.save(
            update_fields=["password", "password_is_temporary", "temporary_password_expires_at"]
        )
        OfficeSession.objects.filter(user=user).delete()
        by = VisitorActor(practice=member.practice, name=_("clinicportal (command line)"))
        audit_record(actor=by, action=AuditEvent.Action.STAFF_PASSWORD_REISSUED, target=user)
        staff_sign_in_notify(user=user, event=SignInChange.PASSWORD_REISSUED)


def _password_set(user: User, password: str, *, temporary: bool) -> None:
    user.set_password(password)
    user.password_is_temporary = temporary
    user.temporary_password_expires_at = (
        timezone.now() + TEMPORARY_PASSWORD_LIFETIME if temporary else None
    )


def practice_create(
    *,
    name: str,
    slug: str,
    address: str = "",
    phone: str = "",
    admin_username: str,
    admin_email: str,
    admin_name: str,
    admin_password: str,
    admin_password_is_temporary: bool = True,
) -> tuple[Practice, StaffMember]:
    """Create a practice with its first admin, in one transaction.

    The admin's password is temporary unless said otherwise: see ``staff_create``.
    """
    practice = Practice(
        name=name.strip(), slug=slug.strip(), address=address.strip(), phone=phone.strip()
    )
    practice.full_clean()
    with transaction.atomic():
        practice.save()
        admin = staff_create(
            practice=practice,
            username=admin_username,
            email=admin_email,
            display_name=admin_name,
            role=StaffMember.Role.ADMIN,
            password=admin_password,
            password_is_temporary=admin_password_is_temporary,
        )
        actor = StaffActor(user=admin.user, staff=admin)
        audit_record(actor=actor, action=AuditEvent.Action.PRACTICE_CREATED, target=practice)
    return practice, admin


def practice_update(
    *,
    actor: StaffActor,
    name: str,
    address: str,
    phone: str,
    forms_enabled: bool,
    schedule_enabled: bool,
    pay_bills_enabled: bool,
    portal_idle_minutes: int,
    logs_staff_as: str,
    time_zone: str,
) -> Practice:
    """Change the actor's practice details, feature toggles and time zone (admins only)."""
    if not actor.is_admin:
        raise PermissionDenied("Only admins change practice settings.")
    practice = actor.practice
    practice.name = name.strip()
    practice.address = address.strip()
    practice.phone = phone.strip()
    practice.forms_enabled = forms_enabled
    practice.schedule_enabled = schedule_enabled
    practice.pay_bills_enabled = pay_bills_enabled
    practice.portal_idle_minutes = portal_idle_minutes
    practice.logs_staff_as = logs_staff_as
    practice.time_zone = time_zone.strip()
    practice.full_clean()
    with transaction.atomic():
        practice.save()
        audit_record(actor=actor, action=AuditEvent.Action.PRACTICE_UPDATED, target=practice)
    return practice


def system_document_add(
    *, actor: StaffActor, upload: HashedUpload, description: str
) -> SystemDocument:
    """Add a file to the library, checked like every upload."""
    require_admin(actor)
    if not description.strip():
        raise ValidationError({"description": _("Please describe the file for patients.")})
    checked = upload_validate(upload)
    with transaction.atomic():
        blob = blob_put_upload(practice=actor.practice, upload=upload, file_type=checked.file_type)
        document = SystemDocument.objects.create(
            practice=actor.practice,
            blob=blob,
            filename=checked.filename,
            description=description.strip()[:300],
        )
        audit_record(actor=actor, action=AuditEvent.Action.SYSTEM_DOCUMENT_CHANGED, target=document)
    return document


def system_document_replace(
    *, actor: StaffActor, document: SystemDocument, upload: HashedUpload
) -> SystemDocument:
    """Put new content behind a library entry; files already on portals keep what they had."""
    require_admin(actor)
    require_reachable(actor, document)
    checked = upload_validate(upload)
    with transaction.atomic():
        old = document.blob
        document.blob = blob_put_upload(
            practice=actor.practice, upload=upload, file_type=checked.file_type
        )
        document.filename = checked.filename
        document.save(update_fields=["blob", "filename", "updated_at"])
        blob_release(old)
        audit_record(actor=actor, action=AuditEvent.Action.SYSTEM_DOCUMENT_CHANGED, target=document)
    return document


def system_document_retire(*, actor: StaffActor, document: SystemDocument, retired: bool) -> None:
    """Hide a library entry from Assign System File (or bring it back)."""
    require_admin(actor)
    require_reachable(actor, document)
    with transaction.atomic():
        document.is_retired = retired
        document.save(update_fields=["is_retired", "updated_at"])
        audit_record(actor=actor, action=AuditEvent.Action.SYSTEM_DOCUMENT_CHANGED, target=document)
