"""Portal documents: share, upload, assign, search online, remove and open."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicportal.accounts.selectors import (
    portal_access_for_patient,
)
from clinicportal.core.files import framed_by_this_site
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.forms import (
    AssignForm,
    AssignOtherConfirmForm,
    ChooseDocumentForm,
    PortalUploadForm,
    ShareToPortalForm,
    TopicShareForm,
)
from clinicportal.office.once import Sent, submit_once
from clinicportal.office.searches import (
    HEALTH_TOPICS,
    LIBRARY,
    PATIENTS,
    search_redirect,
    search_terms,
)
from clinicportal.office.views.common import (
    _next_within_office,
    _online_portal_url,
    _to_online_portal,
    upload_submit,
)
from clinicportal.patients import selectors as patient_selectors
from clinicportal.patients.models import Patient
from clinicportal.practices.selectors import (
    system_documents,
)
from clinicportal.records import services as record_services
from clinicportal.records.http import portal_document_response
from clinicportal.records.medlineplus import (
    HealthTopic,
    MedlinePlusUnavailable,
    health_topics_search,
)
from clinicportal.records.models import PortalDocument
from clinicportal.records.selectors import (
    CATEGORIES,
    portal_document_for_office,
    portal_documents_for_office,
)


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_share(
    request: StaffRequest, patient_id: uuid.UUID, file_id: uuid.UUID
) -> HttpResponse:
    """Share a chart file to the patient's portal (pre-filled with its date and description)."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    chart_file = patient_selectors.chart_file_get(
        actor=request.actor, patient=patient, public_id=file_id
    )
    initial = {"document_date": chart_file.document_date, "description": chart_file.description}
    form = ShareToPortalForm(request.POST or None, initial=initial)
    already: record_services.AlreadyOnPortal | None = None

    def share() -> Sent:
        record_services.portal_document_share_chart_file(
            actor=request.actor,
            chart_file=chart_file,
            again=request.POST.get("share_again") == "1",
            **form.cleaned_data,
        )
        return Sent(
            _online_portal_url(patient),
            _("“%(file)s” is on %(name)s’s portal.")
            % {"file": chart_file.filename, "name": patient.first_name},
        )

    if request.method == "POST" and form.is_valid():
        try:
            return submit_once(request, actor=request.actor, write=share)
        except record_services.AlreadyOnPortal as exc:
            already = exc  # ask first, with what they typed kept in the form
    access = portal_access_for_patient(actor=request.actor, patient=patient)
    context = {
        "patient": patient,
        "chart_file": chart_file,
        "form": form,
        "access": access,
        "already": already,
    }
    return render(request, "office/portal_document_share.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_upload(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Upload a file from the desktop to the patient's portal."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    form = PortalUploadForm(
        request.POST or None, request.FILES or None, initial={"document_date": timezone.localdate()}
    )
    status = 200

    def upload() -> Sent:
        data = dict(form.cleaned_data)
        document = record_services.portal_document_upload(
            actor=request.actor, patient=patient, upload=data.pop("upload"), **data
        )
        return Sent(
            _online_portal_url(patient),
            _("“%(file)s” is on %(name)s’s portal.")
            % {"file": document.filename, "name": patient.first_name},
        )

    if request.method == "POST":
        answer = upload_submit(request, form, upload, lambda exc: form.add_error("upload", exc))
        if not isinstance(answer, int):
            return answer
        status = answer
    access = portal_access_for_patient(actor=request.actor, patient=patient)
    context = {
        "patient": patient,
        "form": form,
        "access": access,
        "max_bytes": settings.CLINICPORTAL_UPLOAD_MAX_BYTES,
    }
    return render(request, "office/portal_document_upload.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_remove_choose(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Remove Files: choose the category, then the file; the next page asks to confirm."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    category = request.GET.get("category", "patient")
    if category not in CATEGORIES:
        raise Http404("No such category.")
    documents = list(
        portal_documents_for_office(actor=request.actor, patient=patient, category=category)
    )
    choices = [
        (str(d.public_id), f"{d.document_date:%m/%d/%Y} · {d.filename} · {d.description}")
        for d in documents
    ]
    form = ChooseDocumentForm(request.POST if request.method == "POST" else None, choices=choices)
    if request.method == "POST" and form.is_valid():
        return redirect(
            "office:portal_document_remove", patient.public_id, form.cleaned_data["document"]
        )
    context = {
        "patient": patient,
        "form": form,
        "documents": documents,
        "category": category,
        "categories": [(key, label) for key, (label, _) in CATEGORIES.items()],
    }
    status = 400 if form.errors else 200
    return render(request, "office/portal_document_remove_choose.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_remove(
    request: StaffRequest, patient_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    document = portal_document_for_office(
        actor=request.actor, patient=patient, public_id=document_id
    )
    if request.method == "POST":
        record_services.portal_document_remove(actor=request.actor, document=document)
        messages.success(
            request, _("“%(file)s” was removed from the portal.") % {"file": document.filename}
        )
        return _to_online_portal(patient)
    return render(
        request, "office/portal_document_remove.html", {"patient": patient, "document": document}
    )


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_assign_system(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Assign System File: pick a library document (with a search box), then Assign.

    The search is posted (office.searches), like every search on a page under a patient.
    """
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    if request.method == "POST" and "q" in request.POST:
        return search_redirect(request, request.path, kind=LIBRARY)
    search, expired = search_terms(request, kind=LIBRARY)
    library = list(system_documents(actor=request.actor, search=search, active_only=True))
    choices = [(str(d.public_id), f"{d.description} ({d.filename})") for d in library]
    form = AssignForm(request.POST or None, choices=choices)

    def assign() -> Sent:
        chosen = next(d for d in library if str(d.public_id) == form.cleaned_data["document"])
        record_services.portal_document_assign_system(
            actor=request.actor,
            patient=patient,
            system_document=chosen,
            is_education=form.cleaned_data["is_education"],
        )
        return Sent(
            _online_portal_url(patient),
            _("“%(file)s” is on %(name)s’s portal.")
            % {"file": chosen.description, "name": patient.first_name},
        )

    if request.method == "POST" and form.is_valid():
        return submit_once(request, actor=request.actor, write=assign)
    context = {
        "patient": patient,
        "form": form,
        "query": search,
        "search_expired": expired,
        "library": library,
    }
    return render(request, "office/portal_document_assign_system.html", context)


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404("No such object.") from None


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_assign_other(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Assign File From Other Patient: find the patient, pick a file, then confirm it.

    The search for the other patient is posted, like the patient list's (office.searches).

    Education files are offered first; the other patient's personal records only when asked
    for, and assigning one needs a confirmation that it holds their information. Every step
    is a page of its own, so it all works without JavaScript.
    """
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    if not request.GET.get("from"):
        if request.method == "POST":  # the search: its terms never go in the address
            return search_redirect(request, request.path, kind=PATIENTS)
        query, expired = search_terms(request, kind=PATIENTS)
        matches = patient_selectors.patient_search(actor=request.actor, text=query)[0:10]
        context = {
            "patient": patient,
            "query": query,
            "search_expired": expired,
            "matches": matches if query else [],
        }
        return render(request, "office/portal_document_assign_other.html", context)
    other = patient_selectors.patient_get(
        actor=request.actor, public_id=_uuid_or_404(request.GET["from"])
    )
    if other.pk == patient.pk:
        raise Http404("Not another patient.")
    data = request.POST if request.method == "POST" else request.GET
    if data.get("document"):
        chosen = portal_document_for_office(
            actor=request.actor, patient=other, public_id=_uuid_or_404(data["document"])
        )
        return _assign_other_confirm(request, patient, other, chosen)
    documents = list(portal_documents_for_office(actor=request.actor, patient=other))
    show_personal = request.GET.get("personal") == "1"
    context = {
        "patient": patient,
        "other": other,
        "education": [d for d in documents if not d.is_personal],
        "personal": [d for d in documents if d.is_personal],
        "show_personal": show_personal,
        "missing_choice": "document" in data,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "office/portal_document_assign_other.html", context, status=status)


def _assign_other_confirm(
    request: StaffRequest, patient: Patient, other: Patient, chosen: PortalDocument
) -> HttpResponse:
    form = AssignOtherConfirmForm(
        request.POST if request.method == "POST" else None,
        initial={"is_education": chosen.is_education},
        personal=chosen.is_personal,
        patient=patient.full_name,
        other=other.full_name,
    )
    status = 200

    def assign() -> Sent:
        record_services.portal_document_assign_from_patient(
            actor=request.actor,
            patient=patient,
            document=chosen,
            is_education=form.cleaned_data["is_education"],
            personal_confirmed=form.cleaned_data.get("confirm_personal", False),
        )
        return Sent(
            _online_portal_url(patient),
            _("“%(file)s” is on %(name)s’s portal.")
            % {"file": chosen.filename, "name": patient.first_name},
        )

    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                return submit_once(request, actor=request.actor, write=assign)
            except ValidationError as exc:
                form.add_error(None, exc)
    context = {"patient": patient, "other": other, "chosen": chosen, "form": form}
    return render(request, "office/portal_document_assign_confirm.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_search_online(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Search Online: find MedlinePlus health topics and share one as an education link.

    The search is posted (office.searches): a health topic in an address under the patient's
    id would hint at their condition.
    """
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    status = 200
    if request.method == "POST" and "q" in request.POST:
        return search_redirect(request, request.path, kind=HEALTH_TOPICS)
    if request.method == "POST":
        status = 400
        form = TopicShareForm(request.POST)
        if form.is_valid():
            topic = form.cleaned_data["topic"]

            def share() -> Sent:
                record_services.portal_document_share_topic(
                    actor=request.actor,
                    patient=patient,
                    topic=topic,
                    is_education=form.cleaned_data["is_education"],
                )
                url = _online_portal_url(patient)
                return Sent(
                    url,
                    _("“%(file)s” is on %(name)s’s portal.")
                    % {"file": topic.title, "name": patient.first_name},
                )

            try:
                return submit_once(request, actor=request.actor, write=share)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
        else:
            messages.error(request, _("That search result has expired. Please search again."))
    query, expired = search_terms(request, kind=HEALTH_TOPICS)
    results: list[tuple[HealthTopic, TopicShareForm]] = []
    unavailable = False
    if query:
        try:
            topics = health_topics_search(query)
        except MedlinePlusUnavailable:
            unavailable = True
        else:
            results = [
                (topic, TopicShareForm(initial={"topic": topic.signed()}, auto_id=f"topic{n}_%s"))
                for n, topic in enumerate(topics, start=1)
            ]
    context = {
        "patient": patient,
        "query": query,
        "search_expired": expired,
        "results": results,
        "unavailable": unavailable,
        "access": portal_access_for_patient(actor=request.actor, patient=patient),
    }
    return render(request, "office/portal_document_search_online.html", context, status=status)


@require_POST
@staff_required
def portal_document_save_to_chart(
    request: StaffRequest, patient_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponse:
    """Save to chart: a file the patient sent goes into their chart (the same stored content).

    Pressed twice, or for a file the chart has already, it says so and saves nothing.
    """
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    document = portal_document_for_office(
        actor=request.actor, patient=patient, public_id=document_id
    )
    try:
        record_services.portal_document_save_to_chart(actor=request.actor, document=document)
    except record_services.AlreadyInChart as exc:
        messages.info(request, " ".join(exc.messages))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("“%(file)s” was saved to %(name)s’s chart.")
            % {"file": document.filename, "name": patient.first_name},
        )
    return redirect(_next_within_office(request) or _online_portal_url(patient))


@framed_by_this_site
@require_GET
@staff_required
def portal_document_content(
    request: StaffRequest, patient_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponseBase:
    """Open a file as it is on the patient's portal (recorded in the audit trail)."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    document = portal_document_for_office(
        actor=request.actor, patient=patient, public_id=document_id
    )
    try:
        path = record_services.portal_document_open_in_office(
            actor=request.actor, document=document
        )
    except FileNotFoundError:
        raise Http404(_("The stored file is missing or damaged.")) from None
    return portal_document_response(document=document, location=path, download=False)
