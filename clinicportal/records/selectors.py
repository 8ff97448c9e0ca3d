"""Reads of portal documents: by the office, and by a portal account for its patient."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import Exists, QuerySet
from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from clinicportal.audit.models import AuditEvent
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.patients.models import Patient
from clinicportal.records.models import PortalDocument

# The seed's three kinds of portal file, as staff choose among them to remove one.
Source = PortalDocument.Source
CATEGORIES: dict[str, tuple[str | Promise, tuple[str, ...]]] = {
    "patient": (_("Patient files"), (Source.CHART, Source.PATIENT_UPLOAD)),
    "system": (_("System files"), (Source.SYSTEM, Source.ONLINE)),
    "other": (_("Other patients’ files"), (Source.OTHER_PATIENT,)),
}


def portal_documents_for_office(
    *, actor: StaffActor, patient: Patient, category: str | None = None
) -> QuerySet[PortalDocument]:
    """The patient's portal files, newest first; only one category's when it is given."""
    documents = PortalDocument.objects.filter(
        practice=actor.practice, patient=patient
    ).select_related("blob")
    if category is not None:
        documents = documents.filter(source__in=CATEGORIES[category][1])
    return documents


def portal_document_for_office(
    *, actor: StaffActor, patient: Patient, public_id: uuid.UUID
) -> PortalDocument:
    try:
        return portal_documents_for_office(actor=actor, patient=patient).get(public_id=public_id)
    except PortalDocument.DoesNotExist:
        raise Http404("No such record.") from None


def portal_records(*, actor: PortalActor, education_only: bool = False) -> QuerySet[PortalDocument]:
    """Return the records of the patient the account acts for, newest first."""
    if actor.patient is None:
        return PortalDocument.objects.none()
    records = PortalDocument.objects.filter(
        practice=actor.practice, patient=actor.patient
    ).select_related("blob")
    return records.filter(is_education=True) if education_only else records


def portal_records_listed(
    *, actor: PortalActor, education_only: bool = False
) -> QuerySet[PortalDocument]:
    """``portal_records`` for the RECORDS page: each row also says, as ``any_files``, whether
    "Download all" has anything to zip (the same on every row, so it costs no query of its own).
    """
    return portal_records(actor=actor, education_only=education_only).annotate(
        any_files=Exists(portal_records(actor=actor).filter(blob__isnull=False))
    )


def portal_records_opened(
    *, actor: PortalActor, documents: Iterable[PortalDocument]
) -> set[uuid.UUID]:
    """The ids of those records that the patient's portal has viewed or downloaded, or sent.

    The others are new. Read from the audit trail of the viewings, so that opening a record
    writes its audit row and nothing else: a GET changes no record. A file the patient's side
    sent with a message came from this portal, so it is never new here.
    """
    if actor.patient is None:
        return set()
    documents = list(documents)
    sent = {d.public_id for d in documents if d.source == PortalDocument.Source.PATIENT_UPLOAD}
    ids = [str(d.public_id) for d in documents if d.public_id not in sent]
    if not ids:
        return sent
    opened = AuditEvent.objects.filter(
        practice=actor.practice,
        patient=actor.patient,
        action__in=[
            AuditEvent.Action.PORTAL_DOCUMENT_VIEWED,
            AuditEvent.Action.PORTAL_DOCUMENT_DOWNLOADED,
        ],
        object_type=PortalDocument._meta.label_lower,
        object_id__in=ids,
    ).values_list("object_id", flat=True)
    return sent | {uuid.UUID(value) for value in opened}


def portal_record(*, actor: PortalActor, public_id: uuid.UUID) -> PortalDocument:
    try:
        return portal_records(actor=actor).get(public_id=public_id)
    except PortalDocument.DoesNotExist:
        raise Http404("No such record.") from None
