"""Print to portal: a program puts a PDF on a patient's portal through the API, once per key."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from clinicportal.content.uploads import HashedUpload
from clinicportal.core.access import require_reachable
from clinicportal.core.context import ApiActor
from clinicportal.patients.models import Patient
from clinicportal.records.models import PortalDocument, PrintRequest
from clinicportal.records.services import portal_document_store, portal_upload_check


class PrintKeyUsed(Exception):
    """The Idempotency-Key was sent before for another patient or another file."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "This Idempotency-Key was already used for another document. Send a new key "
                "for each document."
            )
        )


class PrintRemoved(Exception):
    """The document printed with this key was removed from the portal since."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "This document was printed with this Idempotency-Key and has been removed from "
                "the portal since. To put it on the portal again, send it with a new key."
            )
        )


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
    same key, patient and file) gets the record made the first time, as it is now, and nothing
    more is stored. The same key with another patient or file is refused (PrintKeyUsed), and so
    is a retry after the office removed the record (PrintRemoved): it does not come back.
    """
    require_reachable(actor, patient)
    if idempotency_key:
        earlier = _printed(actor, idempotency_key, patient, upload)
        if earlier is not None:
            return earlier, False
    checked = portal_upload_check(upload, pdf_only=True)  # outside: a scan may take seconds
    try:
        with transaction.atomic():
            document = portal_document_store(
                actor=actor,
                patient=patient,
                upload=upload,
                checked=checked,
                document_date=document_date,
                description=description,
                is_education=is_education,
            )
            if idempotency_key:
                PrintRequest.objects.create(
                    practice=actor.practice,
                    key=idempotency_key,
                    patient=patient,
                    sha256=upload.sha256,
                    document=document,
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
    """The record printed before with ``key``, if any; refuse a key used otherwise."""
    earlier = (
        PrintRequest.objects.select_related("document__blob")
        .filter(practice=actor.practice, key=key)
        .first()
    )
    if earlier is None:
        return None
    if earlier.patient_id != patient.pk or earlier.sha256 != upload.sha256:
        raise PrintKeyUsed
    if earlier.document is None:
        raise PrintRemoved
    return earlier.document
