"""Asking a patient to fill a form, from the patient's page, and taking it back (every staff
member may)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicportal.intake.selectors import assignable_form, assignment_open, patient_assignment
from clinicportal.intake.services import form_assign as assign
from clinicportal.intake.services import form_assignment_withdraw
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.once import Sent, submit_once
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


@require_http_methods(["GET", "POST"])
@staff_required
def form_withdraw(
    request: StaffRequest, patient_id: uuid.UUID, assignment_id: uuid.UUID
) -> HttpResponse:
    """Withdraw a form waiting for the patient: a GET asks, a POST does it.

    The post carries a one-time token, so a double click withdraws once and both clicks hear
    that it was withdrawn. A form submitted meanwhile is refused, with why.
    """
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    back = reverse("office:patient", args=[patient.public_id]) + "#forms"
    if request.method != "POST":
        found = patient_assignment(actor=request.actor, patient=patient, public_id=assignment_id)
        return render(
            request, "office/form_withdraw.html", {"patient": patient, "assignment": found}
        )

    def withdraw() -> Sent:
        # Read inside the token's claim: a repeat of the same post is answered without it.
        found = patient_assignment(actor=request.actor, patient=patient, public_id=assignment_id)
        names = {"form": found.form.name, "name": patient.first_name}
        if not form_assignment_withdraw(actor=request.actor, assignment=found):
            return Sent(back, _("“%(form)s” was withdrawn already; nothing was changed.") % names)
        if found.form.offered_to_all and found.form.active:
            said = _(
                "“%(form)s” was withdrawn. It is still offered to every patient under FORMS, "
                "%(name)s included."
            )
        else:
            said = _("“%(form)s” was withdrawn: %(name)s no longer sees it under FORMS.")
        return Sent(back, said % names)

    try:
        return submit_once(request, actor=request.actor, write=withdraw)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
