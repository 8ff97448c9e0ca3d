"""Chart files: upload, preview, view inline and download."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from clinicportal.content.sniff import by_content_type
from clinicportal.core.files import framed_by_this_site, stored_file_response
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.forms import (
    ChartFileUploadForm,
)
from clinicportal.office.once import Sent
from clinicportal.office.views.common import upload_submit
from clinicportal.patients import selectors as patient_selectors
from clinicportal.patients import services as patient_services


@require_http_methods(["GET", "POST"])
@staff_required
def chart_file_upload(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    form = ChartFileUploadForm(request.POST or None, request.FILES or None)
    status = 200

    def upload() -> Sent:
        created = patient_services.chart_files_upload(
            actor=request.actor,
            patient=patient,
            uploads=form.cleaned_data["uploads"],
            document_date=form.cleaned_data["document_date"],
            description=form.cleaned_data["description"],
        )
        count = len(created)
        url = reverse("office:patient", args=[patient.public_id]) + "#files"
        return Sent(
            url,
            ngettext(
                "%(count)d file added to the chart.", "%(count)d files added to the chart.", count
            )
            % {"count": count},
        )

    if request.method == "POST":
        answer = upload_submit(request, form, upload, lambda exc: form.add_error("uploads", exc))
        if not isinstance(answer, int):
            return answer
        status = answer
    return render(
        request,
        "office/chart_file_upload.html",
        {"patient": patient, "form": form, "max_bytes": settings.CLINICPORTAL_UPLOAD_MAX_BYTES},
        status=status,
    )


@staff_required
def chart_file_preview(
    request: StaffRequest, patient_id: uuid.UUID, file_id: uuid.UUID
) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    chart_file = patient_selectors.chart_file_get(
        actor=request.actor, patient=patient, public_id=file_id
    )
    file_type = by_content_type(chart_file.blob.content_type)
    return render(
        request,
        "office/chart_file_preview.html",
        {"patient": patient, "chart_file": chart_file, "file_type": file_type},
    )


@framed_by_this_site
@staff_required
def chart_file_content(
    request: StaffRequest, patient_id: uuid.UUID, file_id: uuid.UUID, download: bool
) -> HttpResponseBase:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    chart_file = patient_selectors.chart_file_get(
        actor=request.actor, patient=patient, public_id=file_id
    )
    try:
        path = patient_services.chart_file_open(
            actor=request.actor, chart_file=chart_file, download=download
        )
    except FileNotFoundError:
        raise Http404(_("The stored file is missing or damaged.")) from None
    return stored_file_response(
        path=path,
        content_type=chart_file.blob.content_type,
        filename=chart_file.filename,
        download=download,
    )
