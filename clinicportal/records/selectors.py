"""Reads of portal documents: by the office, and by a portal account for its patient."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.patients.models import Patient
from clinicportal.records.models import PortalDocument


def portal_documents_for_office(*, actor: StaffActor, patient: Patient) -> QuerySet[PortalDocument]:
    return PortalDocument.objects.filter(practice=actor.practice, patient=patient).select_related(
        "blob"
    )


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


def portal_record(*, actor: PortalActor, public_id: uuid.UUID) -> PortalDocument:
    try:
        return portal_records(actor=actor).get(public_id=public_id)
    except PortalDocument.DoesNotExist:
        raise Http404("No such record.") from None
