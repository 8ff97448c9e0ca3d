"""Office console pages. Each parses input, calls one selector or service, and renders."""

from __future__ import annotations

import time
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicportal.accounts import services as account_services
from clinicportal.accounts import two_factor
from clinicportal.accounts.forms import CodeForm, TurnOffForm
from clinicportal.accounts.passwords import temporary_password
from clinicportal.accounts.selectors import (
    api_key_get,
    api_keys,
    authorized_grant_get,
    portal_access_for_patient,
    two_factor_device,
    two_factor_pending,
)
from clinicportal.accounts.services import (
    IssuedCredentials,
    SignInRefused,
    portal_access_issue,
    portal_username_suggest,
    staff_second_step,
    staff_two_factor_turn_off,
    staff_two_factor_turn_on,
    two_factor_enrol,
)
from clinicportal.content.sniff import by_content_type
from clinicportal.core.context import StaffActor, client_ip, user_agent
from clinicportal.core.files import stored_file_response
from clinicportal.core.http import redirect_after_upload
from clinicportal.core.pagination import CappedPaginator
from clinicportal.notifications.selectors import (
    email_settings_for,
    outbox_email_get,
    outbox_failed_count,
    outbox_for_practice,
)
from clinicportal.notifications.services import email_send_test, email_settings_save
from clinicportal.office.auth import StaffRequest, admin_required, staff_required
from clinicportal.office.forms import (
    ApiKeyForm,
    AssignForm,
    AuthorizedUserForm,
    AuthorizedUserLinkForm,
    ChartFileUploadForm,
    ChooseDocumentForm,
    EmailSettingsForm,
    PatientForm,
    PortalAccessForm,
    PortalUploadForm,
    PracticeForm,
    ReplaceFileForm,
    ShareToPortalForm,
    StaffLoginForm,
    SystemDocumentForm,
    TestEmailForm,
    TopicShareForm,
)
from clinicportal.patients import selectors as patient_selectors
from clinicportal.patients import services as patient_services
from clinicportal.practices import services as practice_services
from clinicportal.practices.selectors import (
    staff_member_for_user,
    system_document_get,
    system_documents,
)
from clinicportal.practices.services import practice_update, staff_record_login, staff_record_logout
from clinicportal.records import services as record_services
from clinicportal.records.http import portal_document_response
from clinicportal.records.medlineplus import (
    HealthTopic,
    MedlinePlusUnavailable,
    health_topics_search,
)
from clinicportal.records.selectors import (
    CATEGORIES,
    portal_document_for_office,
    portal_documents_for_office,
)

PATIENTS_PER_PAGE = 25
OUTBOX_PER_PAGE = 25


class StaffLoginView(LoginView):
    template_name = "office/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        """After the password: the code step, or (admins without one) enrolling an app."""
        user = form.get_user()
        staff = staff_member_for_user(user.pk)
        if staff is None:
            return self.form_invalid(form)
        if two_factor_device(user) is not None:
            _await_second_step(self.request, user.pk, self.get_success_url())
            return redirect("office:login_code")
        if staff.is_admin:
            _await_second_step(self.request, user.pk, self.get_success_url())
            return redirect("office:login_setup")
        return _finish_login(self.request, staff, self.get_success_url())


PENDING = "office.pending"
PENDING_SECONDS = 5 * 60


def _await_second_step(request: HttpRequest, user_id: int, next_url: str) -> None:
    request.session[PENDING] = [user_id, next_url, int(time.time())]


def _pending(request: HttpRequest) -> tuple[int, str] | None:
    pending = request.session.get(PENDING)
    if not pending or int(time.time()) - int(pending[2]) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    return int(pending[0]), str(pending[1])


def _finish_login(request: HttpRequest, staff: Any, next_url: str) -> HttpResponse:
    request.session.pop(PENDING, None)
    auth_login(request, staff.user)
    staff_record_login(actor=_actor_for(request, staff))
    return redirect(next_url)


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """Office sign-in, second step: the authenticator app's code or a recovery code."""
    pending = _pending(request)
    if pending is None:
        messages.info(request, "Please sign in again.")
        return redirect("office:login")
    user_id, next_url = pending
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = staff_second_step(
                user_id=user_id, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except SignInRefused as refused:
            form.add_error("code", refused.message)
        else:
            staff = staff_member_for_user(user.pk)
            if staff is not None:
                return _finish_login(request, staff, next_url)
    return render(request, "office/login_code.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def login_setup(request: HttpRequest) -> HttpResponse:
    """Admins must use two-step sign-in: enrol an authenticator app before going on."""
    pending = _pending(request)
    staff = staff_member_for_user(pending[0]) if pending else None
    if pending is None or staff is None:
        messages.info(request, "Please sign in again.")
        return redirect("office:login")
    return _two_factor_enrol(request, staff, pending[1], during_login=True)


def _two_factor_enrol(
    request: HttpRequest, staff: Any, done_url: str, *, during_login: bool
) -> HttpResponse:
    user = staff.user
    issuer, label = f"{staff.practice.name} office", user.username
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = staff_two_factor_turn_on(
                user=user,
                code=form.cleaned_data["code"],
                ip=client_ip(request),
                user_agent=user_agent(request),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            if during_login:
                request.session.pop(PENDING, None)
                auth_login(request, user)
                staff_record_login(actor=_actor_for(request, staff))
            return render(request, "office/recovery_codes.html", {"codes": codes, "done": done_url})
    pending = two_factor_pending(user) if request.method == "POST" else None
    device = pending or two_factor_enrol(owner=user, issuer=issuer, label=label).device
    context = {
        "form": form,
        "secret": device.secret,
        "qr": two_factor.qr_for(device, issuer=issuer, label=label),
        "during_login": during_login,
    }
    return render(request, "office/two_factor_setup.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def my_account(request: StaffRequest) -> HttpResponse:
    """The signed-in staff member's own settings: two-step sign-in."""
    device = two_factor_device(request.actor.user)
    form = TurnOffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            staff_two_factor_turn_off(actor=request.actor, password=form.cleaned_data["password"])
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Two-step sign-in is off.")
            return redirect("office:account")
    return render(
        request, "office/account.html", {"two_factor_on": device is not None, "form": form}
    )


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def my_two_factor_setup(request: StaffRequest) -> HttpResponse:
    if two_factor_device(request.actor.user) is not None:
        return redirect("office:account")
    return _two_factor_enrol(
        request, request.actor.staff, reverse("office:account"), during_login=False
    )


def _actor_for(request: HttpRequest, staff: Any) -> StaffActor:
    return StaffActor(
        user=staff.user, staff=staff, ip=client_ip(request), user_agent=user_agent(request)
    )


@require_POST
@staff_required
def logout_view(request: StaffRequest) -> HttpResponse:
    staff_record_logout(actor=request.actor)
    logout(request)
    messages.info(request, "You have signed out.")
    return redirect("office:login")


@staff_required
def home(request: StaffRequest) -> HttpResponse:
    return redirect("office:patients")


@staff_required
def patient_list(request: StaffRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    patients = patient_selectors.patient_search(actor=request.actor, text=query)
    page = CappedPaginator(patients, PATIENTS_PER_PAGE).get_page(request.GET.get("page"))
    failed = outbox_failed_count(actor=request.actor)
    return render(
        request, "office/patient_list.html", {"page": page, "query": query, "failed_emails": failed}
    )


@require_http_methods(["GET", "POST"])
@staff_required
def patient_create(request: StaffRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = patient_services.patient_create(actor=request.actor, details=form.details())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{patient.full_name} was added.")
            return redirect("office:patient", patient_id=patient.public_id)
    return render(request, "office/patient_form.html", {"form": form, "patient": None})


@require_http_methods(["GET", "POST"])
@staff_required
def patient_edit(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    initial = {name: getattr(patient, name) for name in PatientForm.base_fields}
    form = PatientForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            patient_services.patient_update(
                actor=request.actor, patient=patient, details=form.details()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The patient's details were saved.")
            return redirect("office:patient", patient_id=patient.public_id)
    return render(request, "office/patient_form.html", {"form": form, "patient": patient})


@staff_required
def patient_detail(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    patient_services.patient_record_view(actor=request.actor, patient=patient)
    chart_files = patient_selectors.chart_files_for_patient(actor=request.actor, patient=patient)
    access = portal_access_for_patient(actor=request.actor, patient=patient)
    documents = portal_documents_for_office(actor=request.actor, patient=patient)
    return render(
        request,
        "office/patient_detail.html",
        {"patient": patient, "chart_files": chart_files, "access": access, "documents": documents},
    )


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _slip(
    request: StaffRequest,
    patient: Any,
    issued: IssuedCredentials,
    heading: str,
    done_url: str | None = None,
) -> HttpResponse:
    """Show new credentials once, on screen and ready to print (callers are never_cache)."""
    return render(
        request,
        "office/portal_slip.html",
        {
            "patient": patient,
            "issued": issued,
            "heading": heading,
            "portal_url": request.build_absolute_uri(request.actor.practice.portal_path()),
            "done_url": done_url
            or reverse("office:patient", args=[patient.public_id]) + "#online-portal",
        },
    )


def _next_within_office(request: HttpRequest) -> str | None:
    """The page to come back to (``?next=``), if it is one of this site's office pages."""
    url = request.GET.get("next", "")
    if url.startswith("/office/") and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def portal_access(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Issue or reissue the patient's own portal access; "Default" proposes both values."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    access = portal_access_for_patient(actor=request.actor, patient=patient)
    current = access.own.account.username if access.own else ""
    form = PortalAccessForm(request.POST or None, initial={"username": current})
    if request.method == "POST" and request.POST.get("action") == "default":
        form = PortalAccessForm(
            initial={
                "username": current or _suggest(request, patient),
                "password": temporary_password(),
            }
        )
    elif request.method == "POST" and form.is_valid():
        try:
            issued = portal_access_issue(
                actor=request.actor,
                patient=patient,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"] or None,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return _slip(
                request, patient, issued, "Portal access is ready", _next_within_office(request)
            )
    context = {
        "patient": patient,
        "form": form,
        "access": access,
        "back_url": _next_within_office(request),
    }
    return render(request, "office/portal_access.html", context)


def _to_online_portal(patient: Any) -> HttpResponse:
    return redirect(reverse("office:patient", args=[patient.public_id]) + "#online-portal")


def _suggest(request: StaffRequest, patient: Any) -> str:
    return portal_username_suggest(practice=request.actor.practice, patient=patient)


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def authorized_user_add(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    form = AuthorizedUserForm(request.POST or None)
    link_form = AuthorizedUserLinkForm()
    if request.method == "POST" and request.POST.get("action") == "default":
        data = request.POST.copy()
        data["password"] = temporary_password()
        form = AuthorizedUserForm(initial=data.dict())
    elif request.method == "POST" and form.is_valid():
        try:
            issued = account_services.authorized_user_add(
                actor=request.actor,
                patient=patient,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"] or None,
                display_name=form.cleaned_data["display_name"],
                note=form.cleaned_data["note"],
                email=form.cleaned_data["email"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return _slip(request, patient, issued, "Authorized web user added")
    return render(
        request,
        "office/authorized_user_add.html",
        {"patient": patient, "form": form, "link_form": link_form},
    )


@require_POST
@staff_required
def authorized_user_link(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    link_form = AuthorizedUserLinkForm(request.POST)
    if link_form.is_valid():
        try:
            grant = account_services.authorized_user_link(
                actor=request.actor,
                patient=patient,
                username=link_form.cleaned_data["username"],
                note=link_form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _form_errors(link_form, exc)
        else:
            messages.success(
                request, f"{grant.account.display_name} can now see {patient.first_name}’s portal."
            )
            return _to_online_portal(patient)
    return render(
        request,
        "office/authorized_user_add.html",
        {"patient": patient, "form": AuthorizedUserForm(), "link_form": link_form},
        status=400,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def authorized_user_remove(
    request: StaffRequest, patient_id: uuid.UUID, grant_id: uuid.UUID
) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    grant = authorized_grant_get(actor=request.actor, patient=patient, public_id=grant_id)
    if request.method == "POST":
        account_services.authorized_user_remove(actor=request.actor, grant=grant)
        messages.success(
            request,
            f"{grant.account.display_name} can no longer see {patient.first_name}’s portal.",
        )
        return _to_online_portal(patient)
    return render(
        request, "office/authorized_user_remove.html", {"patient": patient, "grant": grant}
    )


@require_http_methods(["GET", "POST"])
@staff_required
def chart_file_upload(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    form = ChartFileUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = patient_services.chart_files_upload(
                    actor=request.actor,
                    patient=patient,
                    uploads=form.cleaned_data["uploads"],
                    document_date=form.cleaned_data["document_date"],
                    description=form.cleaned_data["description"],
                )
            except ValidationError as exc:
                form.add_error("uploads", exc)
            else:
                count = len(created)
                messages.success(
                    request, f"{count} file{'s' if count != 1 else ''} added to the chart."
                )
                url = reverse("office:patient", args=[patient.public_id]) + "#files"
                return redirect_after_upload(request, url)
        status = 400
    return render(
        request,
        "office/chart_file_upload.html",
        {"patient": patient, "form": form, "max_bytes": settings.CLINICPORTAL_UPLOAD_MAX_BYTES},
        status=status,
    )


@staff_required
def chart_file_preview(
    request: StaffRequest, patient_id: uuid.UUID, file_id: uuid.UUID
) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    chart_file = patient_selectors.chart_file_get(
        actor=request.actor, patient=patient, public_id=file_id
    )
    file_type = by_content_type(chart_file.blob.content_type)
    return render(
        request,
        "office/chart_file_preview.html",
        {"patient": patient, "chart_file": chart_file, "file_type": file_type},
    )


@xframe_options_sameorigin
@staff_required
def chart_file_content(
    request: StaffRequest, patient_id: uuid.UUID, file_id: uuid.UUID, download: bool
) -> HttpResponseBase:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    chart_file = patient_selectors.chart_file_get(
        actor=request.actor, patient=patient, public_id=file_id
    )
    try:
        path = patient_services.chart_file_open(
            actor=request.actor, chart_file=chart_file, download=download
        )
    except FileNotFoundError:
        raise Http404("The stored file is missing or damaged.") from None
    return stored_file_response(
        path=path,
        content_type=chart_file.blob.content_type,
        filename=chart_file.filename,
        download=download,
    )


@staff_required
def tasks(request: StaffRequest) -> HttpResponse:
    return render(request, "office/tasks.html")


@staff_required
def billing(request: StaffRequest) -> HttpResponse:
    return render(request, "office/billing.html")


@admin_required
def settings_index(request: StaffRequest) -> HttpResponse:
    return redirect("office:settings_website")


@require_http_methods(["GET", "POST"])
@admin_required
def settings_website(request: StaffRequest) -> HttpResponse:
    practice = request.actor.practice
    initial = {name: getattr(practice, name) for name in PracticeForm.base_fields}
    form = PracticeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            practice_update(actor=request.actor, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The practice settings were saved.")
            return redirect("office:settings_website")
    return _website(request, form=form)


def _website(
    request: StaffRequest,
    *,
    form: PracticeForm | None = None,
    library_form: SystemDocumentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    practice = request.actor.practice
    if form is None:
        form = PracticeForm(
            initial={name: getattr(practice, name) for name in PracticeForm.base_fields}
        )
    context = {
        "form": form,
        "portal_url": request.build_absolute_uri(practice.portal_path()),
        "library": system_documents(actor=request.actor),
        "library_form": library_form or SystemDocumentForm(),
        "replace_form": ReplaceFileForm(),
    }
    return render(request, "office/settings_website.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def settings_api_keys(request: StaffRequest) -> HttpResponse:
    """Admin → API keys: list, create (the key is shown once), and the way to revoke."""
    form = ApiKeyForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            # Shown in this answer only (never_cache), like a credentials slip: the key is
            # kept nowhere else, not even in the session.
            created = account_services.api_key_create(
                actor=request.actor, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            form.add_error("name", exc)
        else:
            form = ApiKeyForm()
    context = {
        "form": form,
        "keys": api_keys(actor=request.actor),
        "created": created,
        "api_url": request.build_absolute_uri("/").rstrip("/"),
    }
    status = 400 if form.errors else 200
    return render(request, "office/settings_api_keys.html", context, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def api_key_revoke(request: StaffRequest, key_id: uuid.UUID) -> HttpResponse:
    api_key = api_key_get(actor=request.actor, public_id=key_id)
    if request.method == "POST":
        account_services.api_key_revoke(actor=request.actor, api_key=api_key)
        messages.success(request, f"The key for “{api_key.name}” no longer works.")
        return redirect("office:settings_api_keys")
    return render(request, "office/api_key_revoke.html", {"api_key": api_key})


@require_POST
@staff_required
def portal_access_email(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Email Portal Access: portal address, username and a set-password link; no password."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    try:
        account_services.portal_access_email(
            actor=request.actor, patient=patient, base_url=request.build_absolute_uri("/")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Portal access is on its way to {patient.email}. See Outbox.")
    return _to_online_portal(patient)


@staff_required
def outbox(request: StaffRequest) -> HttpResponse:
    emails = outbox_for_practice(actor=request.actor)
    page = Paginator(emails, OUTBOX_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "office/outbox.html", {"page": page})


@staff_required
def outbox_email(request: StaffRequest, email_id: uuid.UUID) -> HttpResponse:
    email = outbox_email_get(actor=request.actor, public_id=email_id)
    return render(request, "office/outbox_email.html", {"email": email})


@require_http_methods(["GET", "POST"])
@admin_required
def settings_email(request: StaffRequest) -> HttpResponse:
    config = email_settings_for(actor=request.actor)
    initial = (
        {
            name: getattr(config, name)
            for name in EmailSettingsForm.base_fields
            if name != "password"
        }
        if config
        else {}
    )
    form = EmailSettingsForm(request.POST or None, initial=initial)
    test_form = TestEmailForm(initial={"to": request.actor.user.email})
    if request.method == "POST" and request.POST.get("action") == "test":
        test_form = TestEmailForm(request.POST)
        form = EmailSettingsForm(initial=initial)
        if test_form.is_valid():
            email_send_test(actor=request.actor, to=test_form.cleaned_data["to"])
            messages.success(request, "A test email is queued. Its status shows in the Outbox.")
            return redirect("office:settings_email")
    elif request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            email_settings_save(
                actor=request.actor, **{**data, "password": data["password"] or None}
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Email settings saved.")
            return redirect("office:settings_email")
    return render(
        request,
        "office/settings_email.html",
        {"form": form, "test_form": test_form, "config": config},
    )


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_share(
    request: StaffRequest, patient_id: uuid.UUID, file_id: uuid.UUID
) -> HttpResponse:
    """Share a chart file to the patient's portal (pre-filled with its date and description)."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    chart_file = patient_selectors.chart_file_get(
        actor=request.actor, patient=patient, public_id=file_id
    )
    initial = {"document_date": chart_file.document_date, "description": chart_file.description}
    form = ShareToPortalForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        record_services.portal_document_share_chart_file(
            actor=request.actor, chart_file=chart_file, **form.cleaned_data
        )
        messages.success(request, f"“{chart_file.filename}” is on {patient.first_name}’s portal.")
        return _to_online_portal(patient)
    access = portal_access_for_patient(actor=request.actor, patient=patient)
    context = {"patient": patient, "chart_file": chart_file, "form": form, "access": access}
    return render(request, "office/portal_document_share.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_upload(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Upload a file from the desktop to the patient's portal."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    form = PortalUploadForm(
        request.POST or None, request.FILES or None, initial={"document_date": timezone.localdate()}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                document = record_services.portal_document_upload(
                    actor=request.actor, patient=patient, upload=data.pop("upload"), **data
                )
            except ValidationError as exc:
                form.add_error("upload", exc)
            else:
                messages.success(
                    request, f"“{document.filename}” is on {patient.first_name}’s portal."
                )
                url = reverse("office:patient", args=[patient.public_id]) + "#online-portal"
                return redirect_after_upload(request, url)
    access = portal_access_for_patient(actor=request.actor, patient=patient)
    context = {
        "patient": patient,
        "form": form,
        "access": access,
        "max_bytes": settings.CLINICPORTAL_UPLOAD_MAX_BYTES,
    }
    return render(request, "office/portal_document_upload.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_remove_choose(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Remove Files: choose the category, then the file; the next page asks to confirm."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    category = request.GET.get("category", "patient")
    if category not in CATEGORIES:
        raise Http404("No such category.")
    documents = list(
        portal_documents_for_office(actor=request.actor, patient=patient, category=category)
    )
    choices = [
        (str(d.public_id), f"{d.document_date:%m/%d/%Y} · {d.filename} · {d.description}")
        for d in documents
    ]
    form = ChooseDocumentForm(request.POST if request.method == "POST" else None, choices=choices)
    if request.method == "POST" and form.is_valid():
        return redirect(
            "office:portal_document_remove", patient.public_id, form.cleaned_data["document"]
        )
    context = {
        "patient": patient,
        "form": form,
        "documents": documents,
        "category": category,
        "categories": [(key, label) for key, (label, _) in CATEGORIES.items()],
    }
    status = 400 if form.errors else 200
    return render(request, "office/portal_document_remove_choose.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_remove(
    request: StaffRequest, patient_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponse:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    document = portal_document_for_office(
        actor=request.actor, patient=patient, public_id=document_id
    )
    if request.method == "POST":
        record_services.portal_document_remove(actor=request.actor, document=document)
        messages.success(request, f"“{document.filename}” was removed from the portal.")
        return _to_online_portal(patient)
    return render(
        request, "office/portal_document_remove.html", {"patient": patient, "document": document}
    )


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_assign_system(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Assign System File: pick a library document (with a search box), then Assign."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    search = request.GET.get("q", "")
    library = list(system_documents(actor=request.actor, search=search, active_only=True))
    choices = [(str(d.public_id), f"{d.description} ({d.filename})") for d in library]
    form = AssignForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        chosen = next(d for d in library if str(d.public_id) == form.cleaned_data["document"])
        record_services.portal_document_assign_system(
            actor=request.actor,
            patient=patient,
            system_document=chosen,
            is_education=form.cleaned_data["is_education"],
        )
        messages.success(request, f"“{chosen.description}” is on {patient.first_name}’s portal.")
        return _to_online_portal(patient)
    context = {"patient": patient, "form": form, "query": search, "library": library}
    return render(request, "office/portal_document_assign_system.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_assign_other(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Assign File From Other Patient: find the patient, then pick one of their portal files."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    query = request.GET.get("q", "")
    other = None
    matches: list[Any] = []
    choices: list[tuple[str, str]] = []
    documents: list[Any] = []
    if request.GET.get("from"):
        try:
            other_id = uuid.UUID(request.GET["from"])
        except ValueError:
            raise Http404("No such patient.") from None
        other = patient_selectors.patient_get(actor=request.actor, public_id=other_id)
        documents = list(portal_documents_for_office(actor=request.actor, patient=other))
        choices = [
            (str(d.public_id), f"{d.description or d.filename} ({d.filename})") for d in documents
        ]
    elif query:
        matches = patient_selectors.patient_search(actor=request.actor, text=query)[0:10]
    form = AssignForm(request.POST or None, choices=choices)
    if request.method == "POST" and other is not None and form.is_valid():
        chosen = next(d for d in documents if str(d.public_id) == form.cleaned_data["document"])
        try:
            record_services.portal_document_assign_from_patient(
                actor=request.actor,
                patient=patient,
                document=chosen,
                is_education=form.cleaned_data["is_education"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"“{chosen.filename}” is on {patient.first_name}’s portal.")
            return _to_online_portal(patient)
    context = {
        "patient": patient,
        "form": form,
        "query": query,
        "matches": matches,
        "other": other,
        "documents": documents,
    }
    return render(request, "office/portal_document_assign_other.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def portal_document_search_online(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Search Online: find MedlinePlus health topics and share one as an education link."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    status = 200
    if request.method == "POST":
        status = 400
        form = TopicShareForm(request.POST)
        if form.is_valid():
            topic = form.cleaned_data["topic"]
            try:
                record_services.portal_document_share_topic(
                    actor=request.actor,
                    patient=patient,
                    topic=topic,
                    is_education=form.cleaned_data["is_education"],
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, f"“{topic.title}” is on {patient.first_name}’s portal.")
                return _to_online_portal(patient)
        else:
            messages.error(request, "That search result has expired. Please search again.")
    query = request.GET.get("q", "").strip()[:200]
    results: list[tuple[HealthTopic, TopicShareForm]] = []
    unavailable = False
    if query:
        try:
            topics = health_topics_search(query)
        except MedlinePlusUnavailable:
            unavailable = True
        else:
            results = [
                (topic, TopicShareForm(initial={"topic": topic.signed()}, auto_id=f"topic{n}_%s"))
                for n, topic in enumerate(topics, start=1)
            ]
    context = {
        "patient": patient,
        "query": query,
        "results": results,
        "unavailable": unavailable,
        "access": portal_access_for_patient(actor=request.actor, patient=patient),
    }
    return render(request, "office/portal_document_search_online.html", context, status=status)


@require_POST
@admin_required
def library_add(request: StaffRequest) -> HttpResponse:
    form = SystemDocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            practice_services.system_document_add(
                actor=request.actor,
                upload=form.cleaned_data["upload"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "The document is in the library.")
            return redirect(reverse("office:settings_website") + "#library")
    return _website(request, library_form=form, status=400)


@require_POST
@admin_required
def library_replace(request: StaffRequest, document_id: uuid.UUID) -> HttpResponse:
    document = system_document_get(actor=request.actor, public_id=document_id)
    form = ReplaceFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            practice_services.system_document_replace(
                actor=request.actor, document=document, upload=form.cleaned_data["upload"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"“{document.description}” now has the new file.")
    else:
        messages.error(request, "Please choose the new file.")
    return redirect(reverse("office:settings_website") + "#library")


@require_POST
@admin_required
def library_retire(request: StaffRequest, document_id: uuid.UUID) -> HttpResponse:
    document = system_document_get(actor=request.actor, public_id=document_id)
    retire = request.POST.get("retired") == "1"
    practice_services.system_document_retire(actor=request.actor, document=document, retired=retire)
    messages.success(
        request, f"“{document.description}” is {'retired' if retire else 'back in use'}."
    )
    return redirect(reverse("office:settings_website") + "#library")


@xframe_options_sameorigin
@require_GET
@staff_required
def portal_document_content(
    request: StaffRequest, patient_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponseBase:
    """Open a file as it is on the patient's portal (recorded in the audit trail)."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    document = portal_document_for_office(
        actor=request.actor, patient=patient, public_id=document_id
    )
    try:
        path = record_services.portal_document_open_in_office(
            actor=request.actor, document=document
        )
    except FileNotFoundError:
        raise Http404("The stored file is missing or damaged.") from None
    return portal_document_response(document=document, location=path, download=False)
