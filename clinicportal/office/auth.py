"""Office console access: staff of the practice only, admins for Admin."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from clinicportal.core.context import StaffActor, client_ip, user_agent
from clinicportal.practices.selectors import staff_member_for_user


class StaffRequest(HttpRequest):
    actor: StaffActor


View = Callable[..., HttpResponseBase]


def staff_required(view: View) -> View:
    """Let signed-in staff through with ``request.actor`` set; send others to the office login."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        staff = staff_member_for_user(request.user.pk)
        if staff is None:
            logout(request)
            return redirect_to_login(request.get_full_path())
        request.actor = StaffActor(  # type: ignore[attr-defined]
            user=staff.user, staff=staff, ip=client_ip(request), user_agent=user_agent(request)
        )
        return view(request, *args, **kwargs)

    return wrapped


def admin_required(view: View) -> View:
    """Like staff_required, and refuse (403) staff who are not admins."""

    @wraps(view)
    def checked(request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.actor.is_admin:
            raise PermissionDenied("Only practice admins can open Admin.")
        return view(request, *args, **kwargs)

    return staff_required(checked)
