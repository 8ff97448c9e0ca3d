"""Helpers that office pages share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from clinicportal.content.uploads import UploadNotFinished
from clinicportal.core.context import StaffActor, client_ip, user_agent
from clinicportal.office.auth import StaffRequest
from clinicportal.office.once import Sent, submit_once


def _actor_for(request: HttpRequest, staff: Any) -> StaffActor:
    return StaffActor(
        user=staff.user, staff=staff, ip=client_ip(request), user_agent=user_agent(request)
    )


def _next_within_office(request: HttpRequest) -> str | None:
    """The page to come back to (``?next=``), if it is one of this site's office pages."""
    url = request.GET.get("next", "")
    if url.startswith("/office/") and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def _online_portal_url(patient: Any) -> str:
    return reverse("office:patient", args=[patient.public_id]) + "#online-portal"


def _to_online_portal(patient: Any) -> HttpResponse:
    return redirect(_online_portal_url(patient))


def upload_submit(
    request: StaffRequest,
    form: forms.Form,
    write: Callable[[], Sent],
    refused: Callable[[ValidationError], None],
) -> HttpResponse | int:
    """Run a posted upload form's ``write`` once (see office.once); return its answer.

    When it cannot, the problem goes on the form (a refusal through ``refused``, an upload
    that did not finish as a form error) and the status to show the form again with is
    returned instead: 400, or 503 when storage could not take the file.
    """
    if not form.is_valid():
        return 400
    try:
        return submit_once(request, actor=request.actor, write=write)
    except ValidationError as exc:
        refused(exc)
        return 400
    except UploadNotFinished as exc:
        form.add_error(None, exc.message)
        return 503
