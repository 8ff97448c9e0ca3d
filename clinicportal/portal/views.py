"""Patient portal pages. Each parses input, calls one selector or service, and renders."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicportal.accounts.forms import (
    CodeForm,
    NewPasswordForm,
)
from clinicportal.accounts.models import PortalAccount
from clinicportal.accounts.selectors import two_factor_device
from clinicportal.accounts.services.common import SignInRefused
from clinicportal.accounts.services.links import (
    LinkInvalid,
    portal_link_get,
    portal_link_use,
    portal_password_reset_request,
)
from clinicportal.accounts.services.portal_access import portal_password_change
from clinicportal.accounts.services.sign_in import (
    PortalDoor,
    second_step_attempt,
    sign_in_attempt,
    sign_in_complete,
)
from clinicportal.accounts.services.unfinished import sign_in_unfinished_watch
from clinicportal.audit.selectors import portal_log_for_patient
from clinicportal.core.context import browser_tag, client_ip, user_agent
from clinicportal.core.files import framed_by_this_site
from clinicportal.core.forms import service_errors
from clinicportal.core.http import signed_out
from clinicportal.core.known_browser import browser_token, gives_browser_cookie
from clinicportal.core.pagination import counted_page
from clinicportal.core.reversing import reverse_with_id_slot
from clinicportal.core.zipstream import zip_stream
from clinicportal.portal import auth
from clinicportal.portal.auth import PortalRequest, portal_required
from clinicportal.portal.forms import (
    ChoosePatientForm,
    ForgotPasswordForm,
    PortalLoginForm,
)
from clinicportal.portal.log_entries import log_entries
from clinicportal.practices.selectors import practice_by_slug
from clinicportal.records.http import portal_document_response
from clinicportal.records.selectors import (
    portal_record,
    portal_records_listed,
    portal_records_opened,
)
from clinicportal.records.services import portal_document_open, portal_records_download_all

LOG_ENTRIES_PER_PAGE = 25
RECORDS_PER_PAGE = 25
# The services name the password being set `password`; the portal's forms, `new_password`.
NEW_PASSWORD = {"password": "new_password"}


@never_cache
@require_http_methods(["GET", "POST"])
@gives_browser_cookie
def login(request: HttpRequest, practice_slug: str) -> HttpResponseBase:
    practice = practice_by_slug(practice_slug)
    form = PortalLoginForm(request.POST or None)
    next_path = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and form.is_valid():
        try:
            account = sign_in_attempt(
                PortalDoor(practice),
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                ip=client_ip(request),
                user_agent=user_agent(request),
            )
        except SignInRefused as refused:
            form.add_error(None, refused.message)
        else:
            if two_factor_device(account) is not None:
                awaited_at = sign_in_unfinished_watch(account, browser=browser_tag(request))
                auth.await_second_step(request, account, next_path, awaited_at)
                return redirect("portal:login_code", practice.slug)
            sign_in_complete(
                PortalDoor(practice),
                account,
                ip=client_ip(request),
                user_agent=user_agent(request),
                browser=browser_token(request),
            )
            return _signed_in(request, account, next_path)
    return render(
        request, "portal/login.html", {"practice": practice, "form": form, "next": next_path}
    )


def _signed_in(request: HttpRequest, account: PortalAccount, next_path: str) -> HttpResponse:
    practice = account.practice
    auth.sign_in(request, account)
    safe = url_has_allowed_host_and_scheme(next_path, allowed_hosts={request.get_host()})
    if safe and next_path.startswith(practice.portal_path()):
        return redirect(next_path)
    return redirect("portal:home", practice.slug)


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest, practice_slug: str) -> HttpResponse:
    """The second step: a code from the authenticator app, or a recovery code."""
    practice = practice_by_slug(practice_slug)
    pending = auth.second_step_pending(request)
    if pending is None:
        if request.method == "POST":  # a message is a session write, which a GET never makes
            messages.info(request, _("Please sign in again."))
        return redirect("portal:login", practice.slug)
    account_id, next_path = pending
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = second_step_attempt(
                PortalDoor(practice),
                subject_id=account_id,
                code=form.cleaned_data["code"],
                ip=client_ip(request),
                user_agent=user_agent(request),
                browser=browser_token(request),
                awaited_at=auth.second_step_awaited_at(request, account_id),
            )
        except SignInRefused as refused:
            form.add_error("code", refused.message)
        else:
            return _signed_in(request, account, next_path)
    return render(request, "portal/login_code.html", {"practice": practice, "form": form})


@require_POST
@portal_required(allow_temporary=True, needs_patient=False)
def logout(request: PortalRequest) -> HttpResponse:
    auth.sign_out(request)
    messages.info(request, _("You have signed out. Thank you for using the portal."))
    return signed_out(redirect("portal:login", request.practice.slug))


@require_http_methods(["GET", "POST"])
@portal_required(allow_temporary=True, needs_patient=False)
def set_password(request: PortalRequest) -> HttpResponseBase:
    """First sign-in with a temporary password: choose your own before going on."""
    if not request.portal.account.password_is_temporary:
        return redirect("portal:home", request.practice.slug)
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            portal_password_change(
                actor=request.portal,
                current=None,
                new=form.cleaned_data["new_password"],
                session_key=request.session.session_key or "",
            )
        except ValidationError as exc:
            service_errors(form, exc, rename=NEW_PASSWORD)
        else:
            messages.success(request, _("Your new password is set. Welcome to your portal."))
            return redirect("portal:home", request.practice.slug)
    return render(request, "portal/set_password.html", {"form": form})


@require_http_methods(["GET", "POST"])
@portal_required(needs_patient=False)
def choose_patient(request: PortalRequest) -> HttpResponseBase:
    """An account that sees several patients picks whose portal to open."""
    form = ChoosePatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        chosen = next(
            (p for p in request.portal_patients if p.public_id == form.cleaned_data["patient"]),
            None,
        )
        if chosen is not None:
            request.session[auth.PATIENT] = chosen.pk
            return redirect("portal:home", request.practice.slug)
        form.add_error(None, _("Please choose one of the patients listed."))
    return render(request, "portal/choose_patient.html", {"form": form})


@portal_required()
def home(request: PortalRequest) -> HttpResponseBase:
    return redirect("portal:records", request.practice.slug)


@require_GET
@portal_required()
def logs(request: PortalRequest) -> HttpResponse:
    events = portal_log_for_patient(actor=request.portal)
    page = counted_page(events, LOG_ENTRIES_PER_PAGE, request.GET.get("page"))
    entries = log_entries(list(page.object_list), practice=request.practice)
    return render(request, "portal/logs.html", {"page": page, "entries": entries})


@never_cache
@require_http_methods(["GET", "POST"])
def forgot_password(request: HttpRequest, practice_slug: str) -> HttpResponse:
    """Ask for a reset link. The answer is the same whether or not the account exists."""
    practice = practice_by_slug(practice_slug)
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        portal_password_reset_request(
            practice=practice,
            identifier=form.cleaned_data["identifier"],
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
        return render(request, "portal/forgot_password_sent.html", {"practice": practice})
    return render(request, "portal/forgot_password.html", {"practice": practice, "form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def password_link(request: HttpRequest, practice_slug: str, token: str) -> HttpResponse:
    """Choose a password through a single-use link from an email."""
    practice = practice_by_slug(practice_slug)
    context: dict[str, object] = {"practice": practice}
    try:
        link = portal_link_get(practice=practice, token=token)
    except LinkInvalid as invalid:
        context["problem"] = invalid.message
        return render(request, "portal/password_link.html", context, status=410)
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            portal_link_use(
                practice=practice,
                token=token,
                new_password=form.cleaned_data["new_password"],
                ip=client_ip(request),
                user_agent=user_agent(request),
            )
        except LinkInvalid as invalid:
            context["problem"] = invalid.message
            return render(request, "portal/password_link.html", context, status=410)
        except ValidationError as exc:
            service_errors(form, exc, rename=NEW_PASSWORD)
        else:
            messages.success(request, _("Your password is set. Please sign in with it."))
            return redirect("portal:login", practice.slug)
    context.update({"form": form, "username": link.account.username})
    return render(request, "portal/password_link.html", context)


@require_GET
@portal_required()
def records(request: PortalRequest) -> HttpResponse:
    education_only = request.GET.get("education") == "1"
    documents = portal_records_listed(actor=request.portal, education_only=education_only)
    page = counted_page(documents, RECORDS_PER_PAGE, request.GET.get("page"))
    slug = request.practice.slug
    context = {
        "page": page,
        "opened": portal_records_opened(actor=request.portal, documents=page.object_list),
        "education_only": education_only,
        "has_files": bool(page.object_list) and page.object_list[0].any_files,
        "view_url": reverse_with_id_slot("portal:record_view", slug),
        "download_url": reverse_with_id_slot("portal:record_download", slug),
    }
    return render(request, "portal/records.html", context)


@framed_by_this_site
@require_GET
@portal_required()
def record_content(
    request: PortalRequest, document_id: uuid.UUID, download: bool
) -> HttpResponseBase:
    document = portal_record(actor=request.portal, public_id=document_id)
    try:
        path = portal_document_open(actor=request.portal, document=document, download=download)
    except FileNotFoundError:
        raise Http404("This record cannot be opened right now. Please call the office.") from None
    return portal_document_response(document=document, location=path, download=download)


@require_GET
@portal_required()
def records_zip(request: PortalRequest) -> HttpResponseBase:
    """Download all: every record in one ZIP, streamed."""
    entries = portal_records_download_all(actor=request.portal)
    patient = request.portal.patient
    assert patient is not None  # portal_required picked one
    response = StreamingHttpResponse(zip_stream(entries), content_type="application/zip")
    filename = _("%(practice)s records - %(patient)s.zip") % {
        "practice": request.practice.name,
        "patient": patient.full_name,
    }
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    return response
