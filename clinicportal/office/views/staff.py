"""Admin → Staff: who is signed in, and signing staff or portal users out (ASVS 7.4.5)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from clinicportal.accounts.selectors import (
    practice_office_sessions_alive,
    practice_portal_sessions_alive,
    staff_member_signed_in,
    staff_signed_in,
)
from clinicportal.accounts.services.sessions import (
    office_sessions_end_for_practice,
    office_sessions_end_for_staff,
    portal_sessions_end_for_practice,
)
from clinicportal.office.auth import StaffRequest, admin_required


def _idle_seconds() -> int:
    return int(settings.CLINICPORTAL_OFFICE_IDLE_MINUTES) * 60


@require_GET
@admin_required
def settings_staff(request: StaffRequest) -> HttpResponse:
    """The practice's staff and how many office sessions each has alive."""
    context = {"staff": staff_signed_in(actor=request.actor, idle_seconds=_idle_seconds())}
    return render(request, "office/settings_staff.html", context)


@require_http_methods(["GET", "POST"])
@admin_required
def staff_sign_out(request: StaffRequest, staff_id: uuid.UUID) -> HttpResponse:
    """Sign one staff member out everywhere: a GET asks, a POST does it.

    The admin's own id is refused like an unknown one: theirs is Sign out everywhere on My
    account (it signs this browser out too, and says so).
    """
    member = staff_member_signed_in(
        actor=request.actor, public_id=staff_id, idle_seconds=_idle_seconds()
    )
    if request.method == "POST":
        office_sessions_end_for_staff(actor=request.actor, member=member)
        messages.success(
            request,
            _("%(name)s is signed out of the office everywhere.") % {"name": member.display_name},
        )
        return redirect("office:settings_staff")
    return render(request, "office/staff_sign_out.html", {"member": member})


@require_http_methods(["GET", "POST"])
@admin_required
def staff_sign_out_all(request: StaffRequest) -> HttpResponse:
    """Sign every staff member out of the office but for this browser: a GET asks, a POST does."""
    current_key = request.session.session_key or ""
    if request.method == "POST":
        ended = office_sessions_end_for_practice(actor=request.actor, current_key=current_key)
        messages.success(
            request,
            ngettext(
                "%(count)d office session ended. You are still signed in here.",
                "%(count)d office sessions ended. You are still signed in here.",
                ended,
            )
            % {"count": ended},
        )
        return redirect("office:settings_staff")
    alive = practice_office_sessions_alive(
        actor=request.actor, idle_seconds=_idle_seconds(), except_key=current_key
    )
    return render(request, "office/staff_sign_out_all.html", {"alive": alive})


@require_http_methods(["GET", "POST"])
@admin_required
def portal_sign_out_all(request: StaffRequest) -> HttpResponse:
    """Sign everyone out of the practice's portal: a GET asks, a POST does it."""
    if request.method == "POST":
        ended = portal_sessions_end_for_practice(actor=request.actor)
        messages.success(
            request,
            ngettext(
                "%(count)d portal session ended.",
                "%(count)d portal sessions ended.",
                ended,
            )
            % {"count": ended},
        )
        return redirect("office:settings_staff")
    alive = practice_portal_sessions_alive(actor=request.actor)
    return render(request, "office/portal_sign_out_all.html", {"alive": alive})
