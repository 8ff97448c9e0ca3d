"""Print to portal: a program puts a PDF on a patient's portal through the API, once per key."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from clinicportal.content.uploads import HashedUpload
from clinicportal.core.access import require_reachable
from clinicportal.core.context import ApiActor
from clinicportal.patients.models import Patient
from clinicportal.records.models import PortalDocument
from clinicportal.records.services import portal_document_upload


def portal_document_print(
    *,
    actor: ApiActor,
    patient: Patient,
    upload: HashedUpload,
    document_date: datetime.date,
    description: str,
    is_education: bool,
    idempotency_key: str,
) -> tuple[PortalDocument, bool]:
    """A program prints a PDF to the patient's portal; return (the record, whether it is new).

    With an ``idempotency_key``, the program's retry of a request whose answer it lost (the
    same key, patient and file) gets the record already made, and nothing more is stored.
    The same key with another patient or file is refused.
    """
    require_reachable(actor, patient)
    if idempotency_key:
        earlier = _printed(actor, idempotency_key, patient, upload)
        if earlier is not None:
            return earlier, False
    try:
        with transaction.atomic():
            document = portal_document_upload(
                actor=actor,
                patient=patient,
                upload=upload,
                document_date=document_date,
                description=description,
                is_education=is_education,
                pdf_only=True,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # The same request at the same moment, already stored by the other.
        earlier = _printed(actor, idempotency_key, patient, upload) if idempotency_key else None
        if earlier is None:
            raise
        return earlier, False
    return document, True


def _printed(
    actor: ApiActor, key: str, patient: Patient, upload: HashedUpload
) -> PortalDocument | None:
    earlier = (
        PortalDocument.objects.select_related("blob")
        .filter(practice=actor.practice, idempotency_key=key)
        .first()
    )
    if earlier is None:
        return None
    if (
        earlier.patient_id != patient.pk
        or earlier.blob is None
        or (earlier.blob.sha256 != upload.sha256)
    ):
        raise ValidationError(
            _(
                "This Idempotency-Key was already used for another document. Send a new key "
                "for each document."
            ),
            code="idempotency_key",
        )
    return earlier
