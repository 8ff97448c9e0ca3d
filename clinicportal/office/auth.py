"""Office console access: staff of the practice only, admins for Admin.

A signed-in office session needs its OfficeSession row (made at sign-in, deleted at sign-out or
when the staff member signs that device out from elsewhere), and ends on the server after
CLINICPORTAL_OFFICE_IDLE_MINUTES without a request or 12 hours after its sign-in, whichever
comes first; no request parameter changes either.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicportal.accounts.models import User
from clinicportal.accounts.selectors import office_session_staff
from clinicportal.accounts.services.sessions import (
    office_session_start,
    office_session_touch,
    office_sign_out,
    session_rows_rekey,
)
from clinicportal.core.context import StaffActor, client_ip, user_agent
from clinicportal.core.http import never_stored, signed_out
from clinicportal.core.logcontext import bind_actor
from clinicportal.core.session_state import idle_check, lifetime_over, lifetime_start

SEEN = "office_seen_at"  # when the office last heard from this session (idle time-out)
STARTED = "office_started_at"  # when this session signed in (absolute lifetime)


class StaffRequest(HttpRequest):
    actor: StaffActor


View = Callable[..., HttpResponseBase]


def session_begin(sender: type[User], request: HttpRequest, user: User, **kwargs: Any) -> None:
    """Start an office session's server-side state; runs on every office sign-in.

    Connected to ``user_logged_in``, so every way of signing in (the password, the second
    step, an admin's enrolment) gets its row and its start time from django's ``login``.
    """
    lifetime_start(request, STARTED)
    request.session[SEEN] = request.session[STARTED]
    office_session_start(
        user=user,
        session_key=request.session.session_key or "",
        ip=client_ip(request),
        user_agent=user_agent(request),
    )


def staff_required(view: View) -> View:
    """Let signed-in staff through with ``request.actor`` set; send others to the office login.

    No answer is stored by the browser or a proxy (core.http.never_stored). A session whose
    row is gone (signed out from another device), idle for longer than
    CLINICPORTAL_OFFICE_IDLE_MINUTES, or older than its absolute lifetime is signed out here, on
    the server, whatever the browser does. Staff whose password is temporary go to choose their
    own first. The view runs in the practice's time zone.
    """
    return _staff_gate(view, allow_temporary=False)


def staff_required_temporary_ok(view: View) -> View:
    """Like staff_required, and let a temporary password through (to change it, to sign out)."""
    return _staff_gate(view, allow_temporary=True)


def _staff_gate(view: View, *, allow_temporary: bool) -> View:

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        session_key = request.session.session_key or ""
        # The membership, its practice and user, and the session's row, in one query.
        staff = office_session_staff(user_id=request.user.pk, session_key=session_key)
        if staff is None:
            logout(request)
            messages.info(request, _("You were signed out. Please sign in again."))
            return signed_out(redirect_to_login(request.get_full_path()))
        actor = StaffActor(
            user=staff.user, staff=staff, ip=client_ip(request), user_agent=user_agent(request)
        )
        bind_actor(actor)
        idle = idle_check(request, SEEN, settings.CLINICPORTAL_OFFICE_IDLE_MINUTES * 60)
        if lifetime_over(request, STARTED) or idle.expired:
            office_sign_out(actor=actor, session_key=session_key, timed_out=True)
            logout(request)
            messages.info(
                request,
                _("You were signed out after a time without activity. Please sign in again.")
                if idle.expired
                else _("You were signed out after 12 hours. Please sign in again."),
            )
            return signed_out(redirect_to_login(request.get_full_path()))
        if idle.stamped:
            office_session_touch(session_key=session_key)
        if staff.user.password_is_temporary and not allow_temporary:
            return redirect("office:account_password")
        request.actor = actor  # type: ignore[attr-defined]
        # The page shows the practice's dates and times, and its "today" is the practice's.
        with timezone.override(staff.practice.zone):
            return view(request, *args, **kwargs)

    return never_stored(wrapped)


def admin_required(view: View) -> View:
    """Like staff_required, and refuse (403) staff who are not admins."""

    @wraps(view)
    def checked(request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.actor.is_admin:
            raise PermissionDenied("Only practice admins can open Admin.")
        return view(request, *args, **kwargs)

    return staff_required(checked)


def session_keep(request: StaffRequest) -> None:
    """After the staff member's own password change: sign this session with the new password
    (a new key, as at every change of privilege) and let its row follow, so it goes on while
    the others end."""
    old_key = request.session.session_key or ""
    update_session_auth_hash(request, request.actor.user)
    new_key = request.session.session_key or ""
    session_rows_rekey(old_key=old_key, new_key=new_key, office=True, portal=True)


def office_login(request: HttpRequest, user: User) -> None:
    """Sign the browser in to the office (a new session key: no fixation); a portal sign-in in
    the same browser carries on under the new key."""
    old_key = request.session.session_key or ""
    auth_login(request, user)
    new_key = request.session.session_key or ""
    session_rows_rekey(old_key=old_key, new_key=new_key, office=False, portal=True)
