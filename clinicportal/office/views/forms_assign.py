"""Asking a patient to fill a form, from the patient's page (every staff member may)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinicportal.intake.selectors import assignable_form, assignment_open
from clinicportal.intake.services import form_assign as assign
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.patients import selectors as patient_selectors


@require_POST
@staff_required
def form_assign(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Assign the chosen form; the patient sees it under FORMS until they submit it."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    back = reverse("office:patient", args=[patient.public_id]) + "#forms"
    form = assignable_form(actor=request.actor, public_id=request.POST.get("form", ""))
    if form is None:
        messages.error(request, _("Please choose a form to assign; nothing was assigned."))
        return redirect(back)
    if assignment_open(actor=request.actor, patient=patient, form=form):
        messages.info(
            request,
            _("“%(form)s” is already waiting for %(name)s; nothing was changed.")
            % {"form": form.name, "name": patient.full_name},
        )
        return redirect(back)
    try:
        assign(actor=request.actor, form=form, patient=patient)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    names = {"form": form.name, "name": patient.full_name}
    if request.actor.practice.forms_enabled:
        said = _("“%(form)s” was assigned to %(name)s, who sees it under FORMS in the portal.")
    else:
        said = _(
            "“%(form)s” was assigned to %(name)s. Forms are switched off (Admin → Website), "
            "so it shows in the portal once they are switched on."
        )
    messages.success(request, said % names)
    return redirect(back)
