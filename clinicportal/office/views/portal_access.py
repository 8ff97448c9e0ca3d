"""Portal access: credentials slips, authorized web users and Email Portal Access."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicportal.accounts.models import PortalGrant
from clinicportal.accounts.selectors import (
    authorized_grant_get,
    portal_access_for_patient,
    portal_grant_signed_in,
)
from clinicportal.accounts.services import links as links_services
from clinicportal.accounts.services import portal_access as portal_access_services
from clinicportal.accounts.services.portal_access import (
    IssuedCredentials,
    PortalAccessJustSetUp,
    portal_access_issue,
    portal_username_suggest,
)
from clinicportal.accounts.services.sessions import portal_sessions_end_for_grant
from clinicportal.accounts.services.two_step import portal_two_factor_reset
from clinicportal.core.forms import service_errors
from clinicportal.core.http import absolute_url
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.forms import (
    AuthorizedUserForm,
    AuthorizedUserLinkForm,
    PortalAccessForm,
)
from clinicportal.office.once import Private, Sent, submit_once
from clinicportal.office.views.common import (
    _next_within_office,
    _online_portal_url,
    _to_online_portal,
)
from clinicportal.patients import selectors as patient_selectors


def _slip_data(issued: IssuedCredentials) -> dict[str, Any]:
    """What the slip shows, kept (encrypted, briefly) so that a repeated post shows it again."""
    account = {"username": issued.account.username, "display_name": issued.account.display_name}
    return {
        "account": account,
        "password": issued.password,
        "temporary": issued.temporary,
        "expires_at": issued.expires_at,
    }


def _slip(
    request: StaffRequest, patient: Any, heading: str, done_url: str | None = None
) -> Callable[[Private], HttpResponse]:
    """Show new credentials, on screen and ready to print (callers are never_cache)."""

    def page(issued: Private) -> HttpResponse:
        expires = issued.get("expires_at")
        context = {
            "patient": patient,
            "issued": {
                **issued,
                "expires_at": datetime.datetime.fromisoformat(expires) if expires else None,
            },
            "heading": heading,
            "portal_url": absolute_url(request.actor.practice.portal_path()),
            "done_url": done_url or _online_portal_url(patient),
        }
        return render(request, "office/portal_slip.html", context)

    return page


@require_http_methods(["GET", "POST"])
@staff_required
def portal_access(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Issue or reissue the patient's own portal access.

    "Default" proposes a username and leaves the password empty: the service generates it (and
    only a service does), shown once on the slip.
    """
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    access = portal_access_for_patient(actor=request.actor, patient=patient)
    current = access.own.account.username if access.own else ""
    form = PortalAccessForm(request.POST or None, initial={"username": current})
    just_set_up = ""

    def issue() -> Sent:
        issued = portal_access_issue(
            actor=request.actor,
            patient=patient,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"] or None,
            new_only=request.POST.get("setup") == "1",
        )
        again = _(
            "This form was already sent, and portal access is set up. Its password was shown "
            "once. Reissue the password for a new slip."
        )
        return Sent(_online_portal_url(patient), again, private=_slip_data(issued))

    if request.method == "POST" and request.POST.get("action") == "default":
        form = PortalAccessForm(initial={"username": current or _suggest(request, patient)})
    elif request.method == "POST" and form.is_valid():
        page = _slip(request, patient, _("Portal access is ready"), _next_within_office(request))
        try:
            return submit_once(request, actor=request.actor, write=issue, page=page)
        except PortalAccessJustSetUp as taken:
            # Reissuing now would make the other slip wrong: say so, and offer the reissue.
            access = portal_access_for_patient(actor=request.actor, patient=patient)
            form = PortalAccessForm(initial={"username": taken.grant.account.username})
            just_set_up = _just_set_up(patient, taken.grant)
        except ValidationError as exc:
            service_errors(form, exc)
    context = {
        "patient": patient,
        "form": form,
        "access": access,
        "back_url": _next_within_office(request),
        "just_set_up": just_set_up,
    }
    return render(request, "office/portal_access.html", context, status=409 if just_set_up else 200)


def _just_set_up(patient: Any, grant: PortalGrant) -> str:
    by = getattr(grant.created_by, "staff_member", None)
    return _(
        "Portal access was just set up for %(name)s (by %(staff)s at %(time)s). Reissue it to "
        "get a new password slip."
    ) % {
        "name": patient.first_name,
        "staff": by.display_name if by else _("the office"),
        "time": formats.time_format(timezone.localtime(grant.created_at)),
    }


def _suggest(request: StaffRequest, patient: Any) -> str:
    return portal_username_suggest(practice=request.actor.practice, patient=patient)


@require_http_methods(["GET", "POST"])
@staff_required
def authorized_user_add(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    form = AuthorizedUserForm(request.POST or None)
    link_form = AuthorizedUserLinkForm()
    if request.method == "POST" and request.POST.get("action") == "default":
        # A password is generated by the service when the field is empty; one filled in here
        # would come back looking typed, as if the person had asked for it.
        data = request.POST.copy()
        data["password"] = ""
        form = AuthorizedUserForm(initial=data.dict())
    elif request.method == "POST" and form.is_valid():

        def add() -> Sent:
            issued = portal_access_services.authorized_user_add(
                actor=request.actor,
                patient=patient,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"] or None,
                display_name=form.cleaned_data["display_name"],
                note=form.cleaned_data["note"],
                email=form.cleaned_data["email"],
            )
            again = _(
                "This form was already sent, and %(name)s was added. The password was shown "
                "once, on the slip."
            ) % {"name": issued.account.display_name}
            return Sent(_online_portal_url(patient), again, private=_slip_data(issued))

        page = _slip(request, patient, _("Authorized web user added"))
        try:
            return submit_once(request, actor=request.actor, write=add, page=page)
        except ValidationError as exc:
            service_errors(form, exc)
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

    def link() -> Sent:
        grant = portal_access_services.authorized_user_link(
            actor=request.actor,
            patient=patient,
            username=link_form.cleaned_data["username"],
            note=link_form.cleaned_data["note"],
        )
        return Sent(
            _online_portal_url(patient),
            _("%(name)s can now see %(patient)s’s portal.")
            % {"name": grant.account.display_name, "patient": patient.first_name},
        )

    if link_form.is_valid():
        try:
            return submit_once(request, actor=request.actor, write=link)
        except ValidationError as exc:
            service_errors(link_form, exc)
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
            _("%(name)s can no longer see %(patient)s’s portal.")
            % {"name": grant.account.display_name, "patient": patient.first_name},
        )
        return _to_online_portal(patient)
    return render(
        request, "office/authorized_user_remove.html", {"patient": patient, "grant": grant}
    )


@require_http_methods(["GET", "POST"])
@staff_required
def portal_user_sign_out(
    request: StaffRequest, patient_id: uuid.UUID, grant_id: uuid.UUID
) -> HttpResponse:
    """Sign one of the patient's portal logins out everywhere, after asking (its password stays).

    For a portal left signed in on a shared or lost computer; Reissue also changes the password.
    """
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    grant = portal_grant_signed_in(actor=request.actor, patient=patient, public_id=grant_id)
    if request.method == "POST":
        portal_sessions_end_for_grant(actor=request.actor, grant=grant)
        messages.success(
            request,
            _("%(name)s was signed out of the portal everywhere.")
            % {"name": grant.account.display_name},
        )
        return _to_online_portal(patient)
    return render(request, "office/portal_user_sign_out.html", {"patient": patient, "grant": grant})


@require_http_methods(["GET", "POST"])
@staff_required
def portal_user_two_step_off(
    request: StaffRequest, patient_id: uuid.UUID, grant_id: uuid.UUID
) -> HttpResponse:
    """Turn two-step sign-in off for one of the patient's portal logins, after asking: for an
    owner who lost their authenticator and recovery codes (see two_step.portal_two_factor_reset).
    """
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    grant = portal_grant_signed_in(actor=request.actor, patient=patient, public_id=grant_id)
    if request.method == "POST":
        name = grant.account.display_name
        if portal_two_factor_reset(actor=request.actor, grant=grant):
            messages.success(
                request,
                _("Two-step sign-in is off for %(name)s, who was told by email.") % {"name": name},
            )
        else:
            messages.info(
                request, _("Two-step sign-in was already off for %(name)s.") % {"name": name}
            )
        return _to_online_portal(patient)
    return render(
        request, "office/portal_user_two_step_off.html", {"patient": patient, "grant": grant}
    )


@require_POST
@staff_required
def portal_access_email(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Email Portal Access: portal address, username and a set-password link; no password.

    Answers on the Online Portal, or on the office page named by ``?next=`` (an invoice's print
    page has the button too).
    """
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    back = _next_within_office(request) or _online_portal_url(patient)

    def send() -> Sent:
        links_services.portal_access_email(actor=request.actor, patient=patient)
        return Sent(
            back,
            _("Portal access is on its way to %(email)s. See Outbox.") % {"email": patient.email},
        )

    try:
        return submit_once(request, actor=request.actor, write=send)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(back)
