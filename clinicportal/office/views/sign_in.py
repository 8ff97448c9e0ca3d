"""Office sign-in and sign-out, the second step, and the staff member's own account."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicportal.accounts.enrolment import enrolment_page
from clinicportal.accounts.forms import (
    END_ALL_PREFIX,
    ChangePasswordForm,
    CodeForm,
    ConfirmForm,
    PasswordAgainForm,
    device_rows,
    session_end_prefix,
)
from clinicportal.accounts.selectors import (
    office_devices,
    recovery_codes_left,
    two_factor_device,
)
from clinicportal.accounts.services.common import SignInRefused
from clinicportal.accounts.services.sessions import (
    office_session_end,
    office_sessions_end_all,
    office_sign_out,
)
from clinicportal.accounts.services.sign_in import (
    OfficeDoor,
    second_step_attempt,
    sign_in_complete,
)
from clinicportal.accounts.services.two_step import recovery_codes_renew, two_factor_turn_on
from clinicportal.accounts.services.unfinished import sign_in_unfinished_watch
from clinicportal.core.context import StaffActor, browser_tag, client_ip, user_agent
from clinicportal.core.forms import service_errors
from clinicportal.core.http import signed_out
from clinicportal.core.known_browser import browser_token, gives_browser_cookie
from clinicportal.core.reversing import reverse_with_id_slot
from clinicportal.core.session_state import (
    second_step_await,
    second_step_clear,
    second_step_mark,
    second_step_pending,
)
from clinicportal.office.auth import (
    StaffRequest,
    office_login,
    staff_required,
    staff_required_temporary_ok,
)
from clinicportal.office.forms import (
    StaffLoginForm,
)
from clinicportal.practices.selectors import (
    staff_member_for_user,
)


@method_decorator(gives_browser_cookie, name="dispatch")
class StaffLoginView(LoginView):
    template_name = "office/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        """After the password: the code step, or (without an app yet) enrolling one.

        Every staff member signs in with two steps: patient records are behind this door.
        """
        user = form.get_user()
        if staff_member_for_user(user.pk) is None:
            return self.form_invalid(form)
        if two_factor_device(user) is None:
            second_step_await(self.request, PENDING, user.pk, self.get_success_url())
            return redirect("office:login_setup")
        awaited_at = sign_in_unfinished_watch(user, browser=browser_tag(self.request))
        second_step_await(self.request, PENDING, user.pk, self.get_success_url(), awaited_at)
        return redirect("office:login_code")


PENDING = "office.pending"


def _finish_login(request: HttpRequest, user: Any, next_url: str) -> HttpResponse:
    """Sign the browser in (a new session id), once the sign-in is complete and recorded."""
    second_step_clear(request, PENDING)
    office_login(request, user)
    return redirect(next_url)


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """Office sign-in, second step: the authenticator app's code or a recovery code."""
    pending = second_step_pending(request, PENDING)
    if pending is None:
        if request.method == "POST":  # a message is a session write, which a GET never makes
            messages.info(request, _("Please sign in again."))
        return redirect("office:login")
    user_id, next_url = pending
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = second_step_attempt(
                OfficeDoor(),
                subject_id=user_id,
                code=form.cleaned_data["code"],
                ip=client_ip(request),
                user_agent=user_agent(request),
                browser=browser_token(request),
                awaited_at=second_step_mark(request, PENDING, user_id),
            )
        except SignInRefused as refused:
            form.add_error("code", refused.message)
        else:
            return _finish_login(request, user, next_url)
    return render(request, "office/login_code.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def login_setup(request: HttpRequest) -> HttpResponse:
    """Staff must use two-step sign-in: enrol an authenticator app before going on."""
    pending = second_step_pending(request, PENDING)
    staff = staff_member_for_user(pending[0]) if pending else None
    if pending is None or staff is None:
        if request.method == "POST":  # a message is a session write, which a GET never makes
            messages.info(request, _("Please sign in again."))
        return redirect("office:login")
    return _two_factor_enrol(request, staff, pending[1], during_login=True)


def _two_factor_enrol(
    request: HttpRequest, staff: Any, done_url: str, *, during_login: bool
) -> HttpResponse:
    """Enrol an authenticator (during sign-in, or from My account when it is not on)."""
    user = staff.user
    if two_factor_device(user) is not None:  # done meanwhile, in another tab
        return redirect("office:login_code" if during_login else "office:account")

    def turn_on(data: dict[str, str]) -> list[str]:
        actor = StaffActor(
            user=user, staff=staff, ip=client_ip(request), user_agent=user_agent(request)
        )
        codes = two_factor_turn_on(
            actor=actor,
            password=None if during_login else data["password"],
            code=data["code"],
            session_key=request.session.session_key or "",
        )
        if during_login:
            sign_in_complete(
                OfficeDoor(),
                user,
                ip=client_ip(request),
                user_agent=user_agent(request),
                browser=browser_token(request),
                awaited_at=second_step_mark(request, PENDING, user.pk),  # if a code was owed
            )
            second_step_clear(request, PENDING)
            office_login(request, user)
        return codes

    return enrolment_page(
        request,
        owner=user,
        issuer=f"{staff.practice.name} office",
        label=user.username,
        turn_on=turn_on,
        templates=("office/two_factor_setup.html", "office/recovery_codes.html"),
        done_url=done_url,
        context={"during_login": during_login},
        ask_password=not during_login,
    )


@require_GET
@staff_required
def my_account(request: StaffRequest) -> HttpResponse:
    """The signed-in staff member's own settings: two-step sign-in (always on) and its recovery
    codes, and the password."""
    return _account_page(request)


def _account_page(
    request: StaffRequest,
    *,
    codes_form: ConfirmForm | None = None,
    end_form: PasswordAgainForm | None = None,
    end_all_form: PasswordAgainForm | None = None,
) -> HttpResponse:
    """My account; a form sent back with its errors takes the place of its blank one."""
    device = two_factor_device(request.actor.user)
    devices = office_devices(
        user=request.actor.user,
        current_key=request.session.session_key or "",
        idle_seconds=settings.CLINICPORTAL_OFFICE_IDLE_MINUTES * 60,
    )
    return render(
        request,
        "office/account.html",
        {
            "two_factor_on": device is not None,
            "codes_left": recovery_codes_left(device) if device is not None else 0,
            "codes_form": codes_form or ConfirmForm(prefix="codes"),
            "password_form": ChangePasswordForm(),
            "device_rows": device_rows(devices, refused=end_form),
            "end_all_form": end_all_form or PasswordAgainForm(prefix=END_ALL_PREFIX),
            "end_url": reverse_with_id_slot("office:session_end"),
            "end_all_url": reverse("office:sessions_end_all"),
        },
    )


@require_POST
@staff_required
def my_recovery_codes(request: StaffRequest) -> HttpResponse:
    """Make new recovery codes in place of the old ones (password and a code first)."""
    form = ConfirmForm(request.POST, prefix="codes")
    if form.is_valid():
        try:
            codes = recovery_codes_renew(
                actor=request.actor,
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
                session_key=request.session.session_key or "",
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            return render(
                request,
                "office/recovery_codes.html",
                {"codes": codes, "done": reverse("office:account"), "renewed": True},
            )
    return _account_page(request, codes_form=form)


@require_POST
@staff_required
def session_end(request: StaffRequest, session_id: uuid.UUID) -> HttpResponse:
    """Sign out one of the staff member's other devices (password first): its next request is
    signed out."""
    form = PasswordAgainForm(request.POST, prefix=session_end_prefix(session_id))
    if form.is_valid():
        try:
            office_session_end(
                actor=request.actor,
                public_id=session_id,
                current_key=request.session.session_key or "",
                password=form.cleaned_data["password"],
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("That device is signed out."))
            return redirect("office:account")
    return _account_page(request, end_form=form)


@require_POST
@staff_required
def sessions_end_all(request: StaffRequest) -> HttpResponse:
    """Sign out every device (password first), this one too (a copied session cookie looks like
    this device)."""
    form = PasswordAgainForm(request.POST, prefix=END_ALL_PREFIX)
    session_key = request.session.session_key or ""
    if form.is_valid():
        try:
            office_sessions_end_all(
                actor=request.actor, current_key=session_key, password=form.cleaned_data["password"]
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            office_sign_out(actor=request.actor, session_key=session_key)
            logout(request)
            messages.info(request, _("You were signed out on every device, this one too."))
            return signed_out(redirect("office:login"))
    return _account_page(request, end_all_form=form)


@require_http_methods(["GET", "POST"])
@staff_required
def my_two_factor_setup(request: StaffRequest) -> HttpResponse:
    if two_factor_device(request.actor.user) is not None:
        return redirect("office:account")
    return _two_factor_enrol(
        request, request.actor.staff, reverse("office:account"), during_login=False
    )


@require_POST
@staff_required_temporary_ok
def logout_view(request: StaffRequest) -> HttpResponse:
    office_sign_out(actor=request.actor, session_key=request.session.session_key or "")
    logout(request)
    messages.info(request, _("You have signed out."))
    return signed_out(redirect("office:login"))
