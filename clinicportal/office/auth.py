"""Office console access: staff of the practice only, admins for Admin."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from clinicportal.core.context import StaffActor, client_ip, user_agent
from clinicportal.core.http import never_stored
from clinicportal.core.logcontext import bind_actor
from clinicportal.core.session_state import idle_check
from clinicportal.practices.selectors import staff_member_for_user
from clinicportal.practices.services import staff_record_logout

SEEN = "office_seen_at"  # when the office last heard from this session (idle time-out)


class StaffRequest(HttpRequest):
    actor: StaffActor


View = Callable[..., HttpResponseBase]


def staff_required(view: View) -> View:
    """Let signed-in staff through with ``request.actor`` set; send others to the office login.

    No answer is stored by the browser or a proxy (core.http.never_stored). A session idle for
    longer than CLINICPORTAL_OFFICE_IDLE_MINUTES is signed out here, on the server, whatever the
    browser does. Staff whose password is temporary go to choose their own first.
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
        staff = staff_member_for_user(request.user.pk)
        if staff is None:
            logout(request)
            return redirect_to_login(request.get_full_path())
        actor = StaffActor(
            user=staff.user, staff=staff, ip=client_ip(request), user_agent=user_agent(request)
        )
        bind_actor(actor)
        if idle_check(request, SEEN, settings.CLINICPORTAL_OFFICE_IDLE_MINUTES * 60).expired:
            staff_record_logout(actor=actor, timed_out=True)
            logout(request)
            messages.info(
                request,
                _("You were signed out after a time without activity. Please sign in again."),
            )
            return redirect_to_login(request.get_full_path())
        if staff.user.password_is_temporary and not allow_temporary:
            return redirect("office:account_password")
        request.actor = actor  # type: ignore[attr-defined]
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
