"""A staff member's own office password: changed from My account, or chosen at first sign-in."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinicportal.accounts.forms import ChangePasswordForm, NewPasswordForm
from clinicportal.accounts.services.staff_password import staff_password_change
from clinicportal.core.forms import service_errors
from clinicportal.office.auth import StaffRequest, session_keep, staff_required_temporary_ok


@require_http_methods(["GET", "POST"])
@staff_required_temporary_ok
def my_password(request: StaffRequest) -> HttpResponse:
    """Change your password: the current one, then a new one twice. Other sessions end.

    After signing in with a temporary password (one someone else chose), this is the only page
    that opens, and it asks only for the new one.
    """
    temporary = request.actor.user.password_is_temporary
    form = (NewPasswordForm if temporary else ChangePasswordForm)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            staff_password_change(
                actor=request.actor,
                current=None if temporary else form.cleaned_data["current_password"],
                new=form.cleaned_data["new_password"],
                session_key=request.session.session_key or "",
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            session_keep(request)  # this session goes on
            if temporary:
                messages.success(request, _("Your new password is set. Welcome to the office."))
                return redirect("office:home")
            messages.success(
                request,
                _(
                    "Your password is changed. Wherever else you were signed in to the office, "
                    "you were signed out."
                ),
            )
            return redirect("office:account")
    return render(request, "office/account_password.html", {"form": form, "temporary": temporary})
