"""The portal's ACCOUNT page: password, two-step sign-in, recovery codes, signed-in devices."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    HttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicportal.accounts.enrolment import enrolment_page
from clinicportal.accounts.forms import (
    END_ALL_PREFIX,
    ChangePasswordForm,
    ConfirmForm,
    PasswordAgainForm,
    device_rows,
    session_end_prefix,
)
from clinicportal.accounts.selectors import portal_devices, recovery_codes_left, two_factor_device
from clinicportal.accounts.services.portal_access import portal_password_change
from clinicportal.accounts.services.sessions import (
    portal_session_end,
    portal_sessions_end_all,
)
from clinicportal.accounts.services.two_step import (
    recovery_codes_renew,
    two_factor_turn_off,
    two_factor_turn_on,
)
from clinicportal.core.forms import service_errors
from clinicportal.core.http import signed_out
from clinicportal.core.reversing import reverse_with_id_slot
from clinicportal.portal import auth
from clinicportal.portal.auth import PortalRequest, portal_required
from clinicportal.portal.views import NEW_PASSWORD


@require_http_methods(["GET", "POST"])
@portal_required()
def account(request: PortalRequest) -> HttpResponse:
    form = ChangePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            portal_password_change(
                actor=request.portal,
                current=form.cleaned_data["current_password"],
                new=form.cleaned_data["new_password"],
                session_key=request.session.session_key or "",
            )
        except ValidationError as exc:
            service_errors(form, exc, rename=NEW_PASSWORD)
        else:
            messages.success(
                request,
                _(
                    "Your password is changed. Other devices signed in to your portal were "
                    "signed out."
                ),
            )
            form = ChangePasswordForm()
    return _account_page(request, form=form)


def _account_page(
    request: PortalRequest,
    *,
    form: ChangePasswordForm | None = None,
    turn_off_form: ConfirmForm | None = None,
    codes_form: ConfirmForm | None = None,
    end_form: PasswordAgainForm | None = None,
    end_all_form: PasswordAgainForm | None = None,
) -> HttpResponse:
    """ACCOUNT; a form sent back with its errors takes the place of its blank one."""
    device = two_factor_device(request.portal.account)
    slug = request.practice.slug
    devices = portal_devices(
        account=request.portal.account, current_key=request.session.session_key or ""
    )
    return render(
        request,
        "portal/account.html",
        {
            "form": form or ChangePasswordForm(),
            "two_factor_on": device is not None,
            "codes_left": recovery_codes_left(device) if device is not None else 0,
            "turn_off_form": turn_off_form or ConfirmForm(prefix="off"),
            "codes_form": codes_form or ConfirmForm(prefix="codes"),
            "device_rows": device_rows(devices, refused=end_form),
            "end_all_form": end_all_form or PasswordAgainForm(prefix=END_ALL_PREFIX),
            "end_url": reverse_with_id_slot("portal:session_end", slug),
            "end_all_url": reverse("portal:sessions_end_all", args=[slug]),
        },
    )


@require_POST
@portal_required()
def session_end(request: PortalRequest, session_id: uuid.UUID) -> HttpResponse:
    """Sign out one of the account's other devices (password first): its next request is
    signed out."""
    form = PasswordAgainForm(request.POST, prefix=session_end_prefix(session_id))
    if form.is_valid():
        try:
            portal_session_end(
                actor=request.portal,
                public_id=session_id,
                current_key=request.session.session_key or "",
                password=form.cleaned_data["password"],
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("That device is signed out."))
            return redirect("portal:account", request.practice.slug)
    return _account_page(request, end_form=form)


@require_POST
@portal_required()
def sessions_end_all(request: PortalRequest) -> HttpResponse:
    """Sign out every device (password first), this one too (a copied session cookie looks like
    this device)."""
    form = PasswordAgainForm(request.POST, prefix=END_ALL_PREFIX)
    if form.is_valid():
        try:
            portal_sessions_end_all(
                actor=request.portal,
                current_key=request.session.session_key or "",
                password=form.cleaned_data["password"],
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            auth.sign_out(request)
            messages.info(request, _("You were signed out on every device, this one too."))
            return signed_out(redirect("portal:login", request.practice.slug))
    return _account_page(request, end_all_form=form)


@require_http_methods(["GET", "POST"])
@portal_required()
def two_factor_setup(request: PortalRequest) -> HttpResponse:
    """Turn on two-step sign-in: scan the QR code, type the code, keep the recovery codes.

    Viewing the page changes nothing: a new secret is made only when the person asks for it.
    """
    account = request.portal.account
    if two_factor_device(account) is not None:
        return redirect("portal:account", request.practice.slug)
    return enrolment_page(
        request,
        owner=account,
        issuer=request.practice.name,
        label=account.username,
        turn_on=lambda data: two_factor_turn_on(
            actor=request.portal,
            password=data["password"],
            code=data["code"],
            session_key=request.session.session_key or "",
        ),
        templates=("portal/two_factor_setup.html", "portal/recovery_codes.html"),
        done_url=reverse("portal:account", args=[request.practice.slug]),
    )


@require_POST
@portal_required()
def two_factor_off(request: PortalRequest) -> HttpResponse:
    form = ConfirmForm(request.POST, prefix="off")
    if form.is_valid():
        try:
            two_factor_turn_off(
                actor=request.portal,
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
                session_key=request.session.session_key or "",
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Two-step sign-in is off. Other devices signed in to your portal were "
                    "signed out."
                ),
            )
            return redirect("portal:account", request.practice.slug)
    return _account_page(request, turn_off_form=form)


@require_POST
@portal_required()
def recovery_codes(request: PortalRequest) -> HttpResponse:
    """Make new recovery codes in place of the old ones (password and a code first)."""
    form = ConfirmForm(request.POST, prefix="codes")
    if form.is_valid():
        try:
            codes = recovery_codes_renew(
                actor=request.portal,
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
                session_key=request.session.session_key or "",
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            done = reverse("portal:account", args=[request.practice.slug])
            return render(
                request,
                "portal/recovery_codes.html",
                {"codes": codes, "done": done, "renewed": True},
            )
    return _account_page(request, codes_form=form)
