"""Patients: search, add, edit and the chart page."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinicportal.accounts.selectors import (
    portal_access_for_patient,
)
from clinicportal.billing.selectors import invoices_for_patient
from clinicportal.core.pagination import CappedPaginator
from clinicportal.core.reversing import reverse_with_id_slot
from clinicportal.intake.selectors import form_names, patient_forms
from clinicportal.messaging.selectors import failed_message_emails, office_conversations
from clinicportal.notifications.selectors import (
    outbox_alerts,
)
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.forms import (
    PatientForm,
)
from clinicportal.office.once import Sent, submit_once
from clinicportal.office.searches import (
    HANDLE,
    PATIENTS,
    search_query_string,
    search_redirect,
    search_terms,
)
from clinicportal.patients import selectors as patient_selectors
from clinicportal.patients import services as patient_services
from clinicportal.records.selectors import (
    portal_documents_for_office,
)
from clinicportal.scheduling.calendar import office_patient_appointments

PATIENTS_PER_PAGE = 25
LATEST_CONVERSATIONS = 5  # on the patient's page; the rest under "All messages"
LATEST_INVOICES = 10  # on the patient's page; the rest under Billing
LATEST_APPOINTMENTS = 5  # the next ones, on the patient's page (with Schedule on)


@staff_required
def home(request: StaffRequest) -> HttpResponse:
    return redirect("office:patients")


@require_http_methods(["GET", "POST"])
@staff_required
def patient_list(request: StaffRequest) -> HttpResponseBase:
    """The patients, or those matching a search; a search is posted (see office.searches)."""
    if request.method == "POST":
        return search_redirect(request, reverse("office:patients"), kind=PATIENTS)
    query, expired = search_terms(request, kind=PATIENTS)
    patients = patient_selectors.patient_search(actor=request.actor, text=query)
    page = CappedPaginator(patients, PATIENTS_PER_PAGE).get_page(request.GET.get("page"))
    failed, worker = outbox_alerts(actor=request.actor)
    context = {
        "page": page,
        "query": query,
        "search_expired": expired,
        "extra_params": f"{search_query_string(request.GET[HANDLE])}&" if query else "",
        "failed_emails": failed,
        # Only when some email failed: a practice whose emails all go costs no query more.
        "failed_message_emails": failed_message_emails(actor=request.actor) if failed else 0,
        "worker": worker,
        "patient_url": reverse_with_id_slot("office:patient"),
    }
    return render(request, "office/patient_list.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def patient_create(request: StaffRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)

    def add() -> Sent:
        patient = patient_services.patient_create(actor=request.actor, details=form.details())
        url = reverse("office:patient", args=[patient.public_id])
        return Sent(url, _("%(name)s was added.") % {"name": patient.full_name})

    if request.method == "POST" and form.is_valid():
        try:
            return submit_once(request, actor=request.actor, write=add)
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(request, "office/patient_form.html", {"form": form, "patient": None})


@require_http_methods(["GET", "POST"])
@staff_required
def patient_edit(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    initial = {name: getattr(patient, name) for name in PatientForm.base_fields}
    form = PatientForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            patient_services.patient_update(
                actor=request.actor, patient=patient, details=form.details()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The patient's details were saved."))
            return redirect("office:patient", patient_id=patient.public_id)
    return render(request, "office/patient_form.html", {"form": form, "patient": patient})


@staff_required
def patient_detail(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    patient_services.patient_record_view(actor=request.actor, patient=patient)
    chart_files = list(
        patient_selectors.chart_files_for_patient(actor=request.actor, patient=patient)
    )
    access = portal_access_for_patient(actor=request.actor, patient=patient)
    documents = portal_documents_for_office(actor=request.actor, patient=patient)
    conversations = list(
        office_conversations(actor=request.actor, patient=patient)[:LATEST_CONVERSATIONS]
    )
    context = {
        "patient": patient,
        "chart_files": chart_files,
        "access": access,
        "documents": documents,
        "conversations": conversations,
        "invoices": list(
            invoices_for_patient(actor=request.actor, patient=patient)[:LATEST_INVOICES]
        ),
        "latest_invoices": LATEST_INVOICES,
        "invoice_url": reverse_with_id_slot("office:invoice", patient.public_id),
        "appointments": list(
            office_patient_appointments(actor=request.actor, patient=patient, since=timezone.now())[
                :LATEST_APPOINTMENTS
            ]
        )
        if request.actor.practice.schedule_enabled
        else [],
        "latest_appointments": LATEST_APPOINTMENTS,
        "forms": patient_forms(actor=request.actor, patient=patient),
        "forms_to_assign": form_names(actor=request.actor, in_use=True),
        "submission_url": reverse_with_id_slot("office:submission"),
        "withdraw_url": reverse_with_id_slot("office:form_withdraw", patient.public_id),
        # A file the patient sent that the chart holds already is not offered again.
        "chart_blobs": {f.blob_id for f in chart_files},
    }
    return render(request, "office/patient_detail.html", context)
