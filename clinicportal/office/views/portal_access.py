"""Portal access: credentials slips, authorized web users and Email Portal Access."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from clinicportal.accounts.passwords import temporary_password
from clinicportal.accounts.selectors import (
    authorized_grant_get,
    portal_access_for_patient,
)
from clinicportal.accounts.services import links as links_services
from clinicportal.accounts.services import portal_access as portal_access_services
from clinicportal.accounts.services.portal_access import (
    IssuedCredentials,
    portal_access_issue,
    portal_username_suggest,
)
from clinicportal.core.http import absolute_url
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.forms import (
    AuthorizedUserForm,
    AuthorizedUserLinkForm,
    PortalAccessForm,
)
from clinicportal.office.views.common import _form_errors, _next_within_office, _to_online_portal
from clinicportal.patients import selectors as patient_selectors


def _slip(
    request: StaffRequest,
    patient: Any,
    issued: IssuedCredentials,
    heading: str,
    done_url: str | None = None,
) -> HttpResponse:
    """Show new credentials once, on screen and ready to print (callers are never_cache)."""
    return render(
        request,
        "office/portal_slip.html",
        {
            "patient": patient,
            "issued": issued,
            "heading": heading,
            "portal_url": absolute_url(request.actor.practice.portal_path()),
            "done_url": done_url
            or reverse("office:patient", args=[patient.public_id]) + "#online-portal",
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def portal_access(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Issue or reissue the patient's own portal access; "Default" proposes both values."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    access = portal_access_for_patient(actor=request.actor, patient=patient)
    current = access.own.account.username if access.own else ""
    form = PortalAccessForm(request.POST or None, initial={"username": current})
    if request.method == "POST" and request.POST.get("action") == "default":
        form = PortalAccessForm(
            initial={
                "username": current or _suggest(request, patient),
                "password": temporary_password(),
            }
        )
    elif request.method == "POST" and form.is_valid():
        try:
            issued = portal_access_issue(
                actor=request.actor,
                patient=patient,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"] or None,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return _slip(
                request, patient, issued, "Portal access is ready", _next_within_office(request)
            )
    context = {
        "patient": patient,
        "form": form,
        "access": access,
        "back_url": _next_within_office(request),
    }
    return render(request, "office/portal_access.html", context)


def _suggest(request: StaffRequest, patient: Any) -> str:
    return portal_username_suggest(practice=request.actor.practice, patient=patient)


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def authorized_user_add(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    form = AuthorizedUserForm(request.POST or None)
    link_form = AuthorizedUserLinkForm()
    if request.method == "POST" and request.POST.get("action") == "default":
        data = request.POST.copy()
        data["password"] = temporary_password()
        form = AuthorizedUserForm(initial=data.dict())
    elif request.method == "POST" and form.is_valid():
        try:
            issued = portal_access_services.authorized_user_add(
                actor=request.actor,
                patient=patient,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"] or None,
                display_name=form.cleaned_data["display_name"],
                note=form.cleaned_data["note"],
                email=form.cleaned_data["email"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return _slip(request, patient, issued, "Authorized web user added")
    return render(
        request,
        "office/authorized_user_add.html",
        {"patient": patient, "form": form, "link_form": link_form},
    )


@require_POST
@staff_required
def authorized_user_link(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    link_form = AuthorizedUserLinkForm(request.POST)
    if link_form.is_valid():
        try:
            grant = portal_access_services.authorized_user_link(
                actor=request.actor,
                patient=patient,
                username=link_form.cleaned_data["username"],
                note=link_form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _form_errors(link_form, exc)
        else:
            messages.success(
                request, f"{grant.account.display_name} can now see {patient.first_name}’s portal."
            )
            return _to_online_portal(patient)
    return render(
        request,
        "office/authorized_user_add.html",
        {"patient": patient, "form": AuthorizedUserForm(), "link_form": link_form},
        status=400,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def authorized_user_remove(
    request: StaffRequest, patient_id: uuid.UUID, grant_id: uuid.UUID
) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    grant = authorized_grant_get(actor=request.actor, patient=patient, public_id=grant_id)
    if request.method == "POST":
        portal_access_services.authorized_user_remove(actor=request.actor, grant=grant)
        messages.success(
            request,
            f"{grant.account.display_name} can no longer see {patient.first_name}’s portal.",
        )
        return _to_online_portal(patient)
    return render(
        request, "office/authorized_user_remove.html", {"patient": patient, "grant": grant}
    )


@require_POST
@staff_required
def portal_access_email(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Email Portal Access: portal address, username and a set-password link; no password."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    try:
        links_services.portal_access_email(actor=request.actor, patient=patient)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Portal access is on its way to {patient.email}. See Outbox.")
    return _to_online_portal(patient)
