"""Share files to a patient's portal, take them off, and open them."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.content.models import Blob
from clinicportal.content.services import (
    CheckedUpload,
    blob_put_upload,
    blob_release,
    blob_servable_path,
    display_filename,
    upload_validate,
)
from clinicportal.content.sniff import PDF, sniff
from clinicportal.content.uploads import HashedUpload
from clinicportal.core.access import NotFound, require_reachable
from clinicportal.core.context import (
    ApiActor,
    PortalActor,
    StaffActor,
)
from clinicportal.core.zipstream import ZipEntry
from clinicportal.patients.models import ChartFile, Patient
from clinicportal.patients.services import chart_file_add_from_blob
from clinicportal.practices.models import SystemDocument
from clinicportal.records.medlineplus import HealthTopic, topic_url
from clinicportal.records.models import PortalDocument


@transaction.atomic
def _create(
    *,
    actor: StaffActor | ApiActor,
    patient: Patient,
    blob: Blob | None,
    source: PortalDocument.Source,
    filename: str,
    description: str,
    document_date: datetime.date,
    is_education: bool,
    link_url: str = "",
    system_document: SystemDocument | None = None,
) -> PortalDocument:
    document = PortalDocument(
        practice=actor.practice,
        patient=patient,
        blob=blob,
        system_document=system_document,
        link_url=link_url,
        source=source,
        # A file's name loses any folders; a link's title (say "HIV/AIDS") is kept whole.
        filename=display_filename(filename) if blob is not None else " ".join(filename.split()),
        description=description.strip(),
        document_date=document_date,
        is_education=is_education,
        shared_by=actor.user if isinstance(actor, StaffActor) else None,
    )
    document.full_clean()
    document.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.PORTAL_DOCUMENT_SHARED,
        target=document,
        patient=patient,
    )
    return document


class AlreadyOnPortal(ValidationError):
    """The file is on the patient's portal already; ``document`` is the newest such entry."""

    def __init__(self, document: PortalDocument) -> None:
        self.document = document
        shared = date_format(timezone.localtime(document.created_at), "m/d/Y")
        super().__init__(
            _("This file is already on %(name)s’s portal (shared %(date)s).")
            % {"name": document.patient.first_name, "date": shared},
            code="already_on_portal",
        )


def portal_document_share_chart_file(
    *,
    actor: StaffActor,
    chart_file: ChartFile,
    document_date: datetime.date,
    description: str,
    is_education: bool,
    again: bool = False,
) -> PortalDocument:
    """Share a chart file to its patient's portal: the same stored content, no copy.

    When the same content is on the portal already, raise AlreadyOnPortal unless ``again``:
    a second copy is most often a slip, and the office is asked first.
    """
    require_reachable(actor, chart_file.patient)
    if not again:
        earlier = (
            PortalDocument.objects.filter(
                practice=actor.practice, patient=chart_file.patient, blob=chart_file.blob
            )
            .select_related("patient")
            .order_by("-created_at", "-id")
            .first()
        )
        if earlier is not None:
            raise AlreadyOnPortal(earlier)
    return _create(
        actor=actor,
        patient=chart_file.patient,
        blob=chart_file.blob,
        source=PortalDocument.Source.CHART,
        filename=chart_file.filename,
        description=description,
        document_date=document_date,
        is_education=is_education,
    )


def portal_document_upload(
    *,
    actor: StaffActor | ApiActor,
    patient: Patient,
    upload: HashedUpload,
    document_date: datetime.date,
    description: str,
    is_education: bool,
    pdf_only: bool = False,
) -> PortalDocument:
    """Upload a file to the patient's portal, checked like chart files.

    Staff upload from the desktop; a program prints to the portal through the API (PDFs only,
    see records.printing).
    """
    require_reachable(actor, patient)
    checked = portal_upload_check(upload, pdf_only=pdf_only)
    return portal_document_store(
        actor=actor,
        patient=patient,
        upload=upload,
        checked=checked,
        document_date=document_date,
        description=description,
        is_education=is_education,
    )


def portal_upload_check(upload: HashedUpload, *, pdf_only: bool = False) -> CheckedUpload:
    """Check a file for the portal like a chart file (and scan it): before any transaction,
    since a scan may take seconds. ``pdf_only`` for printing, which takes PDFs alone."""
    sniffed = sniff(upload.head, upload.temp_path)
    if pdf_only and sniffed is not None and sniffed is not PDF and not upload.too_large:
        # Say first that only PDFs are taken here; what else is wrong with the name can wait.
        raise ValidationError(
            _("“%(name)s” is %(what)s; printing to the portal takes PDF files only.")
            % {"name": display_filename(upload.name or ""), "what": _(sniffed.noun)},
            code="type",
        )
    return upload_validate(upload)


def portal_document_store(
    *,
    actor: StaffActor | ApiActor,
    patient: Patient,
    upload: HashedUpload,
    checked: CheckedUpload,
    document_date: datetime.date,
    description: str,
    is_education: bool,
) -> PortalDocument:
    """Keep a checked upload on the patient's portal (``portal_upload_check`` first)."""
    require_reachable(actor, patient)
    with transaction.atomic():
        blob = blob_put_upload(practice=actor.practice, upload=upload, file_type=checked.file_type)
        return _create(
            actor=actor,
            patient=patient,
            blob=blob,
            source=PortalDocument.Source.CHART,
            filename=checked.filename,
            description=description,
            document_date=document_date,
            is_education=is_education,
        )


def portal_document_assign_system(
    *, actor: StaffActor, patient: Patient, system_document: SystemDocument, is_education: bool
) -> PortalDocument:
    """Put a library document on the patient's portal (shown blue: a system document)."""
    require_reachable(actor, patient)
    require_reachable(actor, system_document)
    if system_document.is_retired:
        raise NotFound("Not an active document of this practice's library.")
    return _create(
        actor=actor,
        patient=patient,
        blob=system_document.blob,
        system_document=system_document,
        source=PortalDocument.Source.SYSTEM,
        filename=system_document.filename,
        description=system_document.description,
        document_date=timezone.localdate(),
        is_education=is_education,
    )


def portal_document_share_topic(
    *, actor: StaffActor, patient: Patient, topic: HealthTopic, is_education: bool
) -> PortalDocument:
    """Put a link to a MedlinePlus health topic on the patient's portal (no file is stored)."""
    require_reachable(actor, patient)
    url = topic_url(topic.url)
    if url is None:
        raise ValidationError(_("Only MedlinePlus health topic pages can be shared."))
    description = Truncator(topic.summary).chars(
        PortalDocument._meta.get_field("description").max_length or 300
    )
    return _create(
        actor=actor,
        patient=patient,
        blob=None,
        link_url=url,
        source=PortalDocument.Source.ONLINE,
        filename=topic.title,
        description=description,
        document_date=timezone.localdate(),
        is_education=is_education,
    )


def portal_document_assign_from_patient(
    *,
    actor: StaffActor,
    patient: Patient,
    document: PortalDocument,
    is_education: bool,
    personal_confirmed: bool = False,
) -> PortalDocument:
    """Assign a file on another patient's portal to this one (shown pink).

    A personal record (not a handout) holds the other patient's information: it is assigned
    only with ``personal_confirmed``. The new entry stands on its own: later changes on the
    other patient do not touch it.
    """
    require_reachable(actor, patient)
    require_reachable(actor, document.patient)
    if document.patient_id == patient.pk:
        raise ValidationError(_("This file is already on this patient's portal."))
    if document.is_personal and not personal_confirmed:
        raise ValidationError(
            _(
                "“%(record)s” holds %(other)s’s information. Please confirm that %(patient)s "
                "may see it."
            )
            % {
                "record": document.audit_label,
                "other": document.patient.full_name,
                "patient": patient.full_name,
            },
            code="personal",
        )
    return _create(
        actor=actor,
        patient=patient,
        blob=document.blob,
        link_url=document.link_url,
        source=PortalDocument.Source.OTHER_PATIENT,
        filename=document.filename,
        description=document.description,
        document_date=timezone.localdate(),
        is_education=is_education,
    )


def portal_document_from_patient(
    *, actor: PortalActor, blob: Blob, filename: str, description: str
) -> PortalDocument:
    """Put a file the patient's side sent with a message on their portal ("Sent by the patient").

    Call inside the transaction that records the message; its audit event covers this too.
    """
    if actor.patient is None:
        raise NotFound("No patient chosen.")
    document = PortalDocument(
        practice=actor.practice,
        patient=actor.patient,
        blob=blob,
        source=PortalDocument.Source.PATIENT_UPLOAD,
        filename=display_filename(filename),
        description=Truncator(description).chars(300),
        document_date=timezone.localdate(),
        is_education=False,
    )
    document.full_clean()
    document.save()
    return document


class AlreadyInChart(ValidationError):
    """The chart holds this content already."""


def portal_document_save_to_chart(*, actor: StaffActor, document: PortalDocument) -> ChartFile:
    """Save a file the patient sent into their chart (the same stored content, no copy)."""
    require_reachable(actor, document)
    if document.blob is None:
        raise ValidationError(_("A link cannot be saved to the chart."), code="link")
    with transaction.atomic():
        # Two presses at once: the second waits here for the first, then finds its chart file.
        PortalDocument.objects.select_for_update().filter(pk=document.pk).first()
        if ChartFile.objects.filter(
            practice=actor.practice, patient_id=document.patient_id, blob=document.blob
        ).exists():
            raise AlreadyInChart(
                _("“%(file)s” is in the chart already.") % {"file": document.filename},
                code="already_in_chart",
            )
        chart_file = chart_file_add_from_blob(
            actor=actor,
            patient=document.patient,
            blob=document.blob,
            filename=document.filename,
            description=document.description,
            document_date=document.document_date,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PORTAL_DOCUMENT_SAVED_TO_CHART,
            target=document,
            patient=document.patient,
        )
    return chart_file


def portal_document_remove(*, actor: StaffActor, document: PortalDocument) -> None:
    """Take a file off the patient's portal at once; its content goes when nothing uses it."""
    require_reachable(actor, document.patient)
    with transaction.atomic():
        blob = document.blob
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PORTAL_DOCUMENT_REMOVED,
            target=document,
            patient=document.patient,
        )
        document.delete()
        if blob is not None:
            blob_release(blob)


def portal_document_open_in_office(*, actor: StaffActor, document: PortalDocument) -> str:
    """Record a staff member opening a file on a patient's portal.

    Returns the stored file's path, or a link's address.
    """
    require_reachable(actor, document.patient)
    path = _location(document)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PORTAL_DOCUMENT_OFFICE_OPENED,
            target=document,
            patient=document.patient,
        )
    return path


def _location(document: PortalDocument) -> str:
    """A link's address, or the stored file's path (FileNotFoundError when it is damaged)."""
    if document.blob is None:
        return document.link_url
    return blob_servable_path(document.blob)


def portal_document_open(*, actor: PortalActor, document: PortalDocument, download: bool) -> str:
    """Record the patient (or their authorized user) viewing or downloading a record.

    Returns the stored file's path, or a link's address (a link is only ever viewed); raises
    FileNotFoundError when the content is damaged.
    """
    require_reachable(actor, document)
    path = _location(document)
    action = (
        AuditEvent.Action.PORTAL_DOCUMENT_DOWNLOADED
        if download and not document.is_link
        else AuditEvent.Action.PORTAL_DOCUMENT_VIEWED
    )
    with transaction.atomic():
        audit_record(actor=actor, action=action, target=document, patient=document.patient)
    return path


def portal_records_download_all(*, actor: PortalActor) -> list[ZipEntry]:
    """Record a download of every record of the patient; return the ZIP's entries.

    Names are the record's date and display filename, made unique; never a path. Each file is
    dated with its record's date. Links (health topics) have no file and are left out.
    """
    if actor.patient is None:
        raise NotFound("No patient chosen.")
    documents = list(
        PortalDocument.objects.filter(
            practice=actor.practice, patient=actor.patient, blob__isnull=False
        )
        .select_related("blob")
        .order_by("-document_date", "-id")
    )
    entries: list[ZipEntry] = []
    used: set[str] = set()
    with transaction.atomic():
        for document in documents:
            try:
                path = _location(document)
            except FileNotFoundError:
                continue  # damaged content is left out; scrub reports it
            name = f"{document.document_date:%Y-%m-%d} {document.filename}"
            stem, dot, ext = name.rpartition(".")
            number = 2
            while name.casefold() in used:
                name = f"{stem} ({number}).{ext}" if dot else f"{ext} ({number})"
                number += 1
            used.add(name.casefold())
            entries.append(ZipEntry(name=name, path=path, date=document.document_date))
            audit_record(
                actor=actor,
                action=AuditEvent.Action.PORTAL_DOCUMENT_DOWNLOADED,
                target=document,
                patient=document.patient,
            )
    return entries
