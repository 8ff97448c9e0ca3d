"""The page that enrols an authenticator app, for both doors.

Viewing it changes nothing: a new secret is made only when the person asks for one ("Show my QR
code"), and two-step sign-in is on only once they type a code the app shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from clinicportal.accounts import two_factor
from clinicportal.accounts.forms import CodeForm, TurnOnForm
from clinicportal.accounts.models import PortalAccount, User
from clinicportal.accounts.selectors import two_factor_pending
from clinicportal.accounts.services.two_step import two_factor_enrol
from clinicportal.core.forms import service_errors


def enrolment_page(
    request: HttpRequest,
    *,
    owner: User | PortalAccount,
    issuer: str,
    label: str,
    turn_on: Callable[[dict[str, str]], list[str]],
    templates: tuple[str, str],
    done_url: str,
    context: dict[str, Any] | None = None,
    ask_password: bool = True,
) -> HttpResponse:
    """Answer the enrolment page; ``turn_on(form data)`` returns the recovery codes to show once.

    ``templates`` are the page's and the recovery codes' templates. The form asks for the
    password with the code, except while signing in (``ask_password`` False): it was just given.
    """
    page, recovery = templates
    context = context or {}
    if request.method == "POST" and request.POST.get("action") == "start":
        two_factor_enrol(owner=owner, issuer=issuer, label=label)
        return redirect(request.path)
    form = (TurnOnForm if ask_password else CodeForm)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = turn_on(form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            return render(request, recovery, {"codes": codes, "done": done_url, **context})
    pending = two_factor_pending(owner)
    return render(
        request,
        page,
        {
            "form": form,
            "asks_password": ask_password,
            "secret": pending.secret if pending else None,
            "qr": two_factor.qr_for(pending, issuer=issuer, label=label) if pending else None,
            **context,
        },
    )
