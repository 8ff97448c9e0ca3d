"""The answer that opens a portal document, for the office's and the patient's views alike."""

from __future__ import annotations

from django.http import HttpResponseBase
from django.shortcuts import redirect

from clinicportal.core.files import stored_file_response
from clinicportal.records.models import PortalDocument


def portal_document_response(
    *, document: PortalDocument, location: str, download: bool
) -> HttpResponseBase:
    """Stream the record's stored file from ``location``, or send a link on to its page."""
    if document.blob is None:
        return redirect(location)
    return stored_file_response(
        path=location,
        content_type=document.blob.content_type,
        filename=document.filename,
        download=download,
    )
