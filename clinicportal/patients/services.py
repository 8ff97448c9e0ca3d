"""Writes to patients and their chart files. Each runs in one transaction with its audit row."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, fields

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.content.models import Blob
from clinicportal.content.services import (
    blob_put_bytes,
    blob_put_upload,
    blob_servable_path,
    display_filename,
    uploads_validate,
)
from clinicportal.content.uploads import HashedUpload
from clinicportal.core.access import NotFound, require_reachable
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.core.http import absolute_url
from clinicportal.notifications.services import email_queue
from clinicportal.patients.models import ChartFile, Patient
from clinicportal.patients.search import name_key, phone_key


@dataclass(frozen=True)
class PatientDetails:
    """What staff enter about a patient."""

    first_name: str
    last_name: str
    date_of_birth: datetime.date
    email: str = ""
    phone: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""


def _save_details(
    actor: StaffActor, patient: Patient, details: PatientDetails, action: AuditEvent.Action
) -> Patient:
    for field in fields(details):
        value = getattr(details, field.name)
        setattr(patient, field.name, value.strip() if isinstance(value, str) else value)
    patient.last_name_key = name_key(patient.last_name)
    patient.first_name_key = name_key(patient.first_name)
    patient.phone_digits = phone_key(patient.phone)
    patient.phone_digits_reversed = patient.phone_digits[::-1]
    patient.full_clean()
    with transaction.atomic():
        patient.save()
        audit_record(actor=actor, action=action, target=patient, patient=patient)
    return patient


def patient_create(*, actor: StaffActor, details: PatientDetails) -> Patient:
    """Add a patient to the actor's practice."""
    patient = Patient(practice=actor.practice)
    return _save_details(actor, patient, details, AuditEvent.Action.PATIENT_CREATED)


def patient_update(*, actor: StaffActor, patient: Patient, details: PatientDetails) -> Patient:
    """Change a patient's details.

    The patient's own portal login follows the patient's email address. When it changes, the
    old address is told (without a link: it may no longer be the patient's) and the change is
    in the patient's LOGS.
    """
    require_reachable(actor, patient)
    old_email = patient.email
    with transaction.atomic():
        _save_details(actor, patient, details, AuditEvent.Action.PATIENT_UPDATED)
        if (
            patient.email.lower() != old_email.lower()
            and patient.portal_grants.filter(kind="patient").exists()
        ):
            audit_record(
                actor=actor,
                action=AuditEvent.Action.PORTAL_EMAIL_CHANGED,
                target=patient,
                patient=patient,
            )
            if old_email:
                email_queue(
                    practice=actor.practice,
                    to=old_email,
                    template="email_changed",
                    context={"portal_url": absolute_url(actor.practice.portal_path())},
                )
    return patient


def patient_record_view(*, actor: StaffActor, patient: Patient) -> None:
    """Record that the actor opened the patient's chart."""
    require_reachable(actor, patient)
    with transaction.atomic():
        audit_record(
            actor=actor, action=AuditEvent.Action.PATIENT_VIEWED, target=patient, patient=patient
        )


def chart_files_upload(
    *,
    actor: StaffActor,
    patient: Patient,
    uploads: Sequence[HashedUpload],
    document_date: datetime.date,
    description: str,
) -> list[ChartFile]:
    """Add uploaded files to the patient's chart: all of them, or none if any is refused."""
    require_reachable(actor, patient)
    if not uploads:
        raise ValidationError(_("Please choose at least one file."), code="required")
    accepted = uploads_validate(uploads)
    created = []
    with transaction.atomic():
        for upload, checked in accepted:
            blob = blob_put_upload(
                practice=actor.practice, upload=upload, file_type=checked.file_type
            )
            created.append(
                _chart_file_create(
                    actor=actor,
                    patient=patient,
                    blob=blob,
                    filename=checked.filename,
                    description=description,
                    document_date=document_date,
                )
            )
    return created


def chart_file_add_generated(
    *,
    actor: StaffActor,
    patient: Patient,
    data: bytes,
    content_type: str,
    filename: str,
    description: str,
    document_date: datetime.date,
) -> ChartFile:
    """Add a file the system made (a rendered PDF, demo content) to the patient's chart."""
    return chart_file_add_generated_by(
        actor=actor,
        patient=patient,
        data=data,
        content_type=content_type,
        filename=filename,
        description=description,
        document_date=document_date,
    )


def chart_file_add_generated_by(
    *,
    actor: StaffActor | PortalActor,
    patient: Patient,
    data: bytes,
    content_type: str,
    filename: str,
    description: str,
    document_date: datetime.date,
) -> ChartFile:
    """Add a file made for what someone did (a form a patient submitted) to the patient's
    chart: by staff, or by a portal account acting for that very patient."""
    if isinstance(actor, PortalActor):
        if actor.patient is None or actor.patient.pk != patient.pk:
            raise NotFound("Patient of another portal account.")
    else:
        require_reachable(actor, patient)
    with transaction.atomic():
        blob = blob_put_bytes(practice=actor.practice, data=data, content_type=content_type)
        return _chart_file_create(
            actor=actor,
            patient=patient,
            blob=blob,
            filename=filename,
            description=description,
            document_date=document_date,
        )


def chart_file_add_from_blob(
    *,
    actor: StaffActor,
    patient: Patient,
    blob: Blob,
    filename: str,
    description: str,
    document_date: datetime.date,
) -> ChartFile:
    """Add content already stored (a file a patient sent) to the patient's chart, uncopied."""
    require_reachable(actor, patient)
    require_reachable(actor, blob)
    with transaction.atomic():
        return _chart_file_create(
            actor=actor,
            patient=patient,
            blob=blob,
            filename=filename,
            description=description,
            document_date=document_date,
        )


def _chart_file_create(
    *,
    actor: StaffActor | PortalActor,
    patient: Patient,
    blob: Blob,
    filename: str,
    description: str,
    document_date: datetime.date,
) -> ChartFile:
    chart_file = ChartFile(
        practice=actor.practice,
        patient=patient,
        blob=blob,
        filename=display_filename(filename),
        description=description.strip(),
        document_date=document_date,
        uploaded_by=actor.user if isinstance(actor, StaffActor) else None,
    )
    chart_file.full_clean()
    chart_file.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CHART_FILE_UPLOADED,
        target=chart_file,
        patient=patient,
    )
    return chart_file


def chart_file_open(*, actor: StaffActor, chart_file: ChartFile, download: bool) -> str:
    """Record the actor viewing or downloading a chart file; return the stored file's path.

    Raises FileNotFoundError when the stored content is missing or not the recorded size, so a
    damaged file is never served as if whole.
    """
    require_reachable(actor, chart_file)
    path = blob_servable_path(chart_file.blob)
    action = (
        AuditEvent.Action.CHART_FILE_DOWNLOADED if download else AuditEvent.Action.CHART_FILE_VIEWED
    )
    with transaction.atomic():
        audit_record(actor=actor, action=action, target=chart_file, patient=chart_file.patient)
    return path
