"""The machine API (``/api/v1/``): JSON in and out, an API key in the Authorization header.

Endpoints parse input, call one service or selector, and answer. Errors are JSON too:
``{"error": "…"}`` (and ``"fields"`` for form errors), with 401 for a missing, wrong or revoked
key and 404 for a patient that does not exist or belongs to another practice.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from clinicportal.accounts import throttle
from clinicportal.accounts.services.api_keys import ApiKeysPaused, api_key_authenticate
from clinicportal.api.multipart import FilePartParser
from clinicportal.api.openapi import openapi
from clinicportal.content.uploads import UploadNotFinished
from clinicportal.core.context import ApiActor, client_ip, user_agent
from clinicportal.core.logcontext import bind_actor
from clinicportal.patients.selectors import patient_get
from clinicportal.records.printing import PrintKeyUsed, PrintRemoved, portal_document_print

View = Callable[..., HttpResponse]
IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,64}")


def error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def api_key_required(view: View) -> View:
    """Authenticate ``Authorization: Bearer <key>``; the view gets an ApiActor and runs in the
    key's practice's time zone."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        scheme, _space, key = request.headers.get("Authorization", "").partition(" ")
        try:
            api_key = api_key_authenticate(
                key=key if scheme.lower() == "bearer" else "",
                ip=client_ip(request),
                user_agent=user_agent(request),
            )
        except ApiKeysPaused:
            response = error(429, _("Too many wrong API keys from this address; wait 15 minutes."))
            response["Retry-After"] = str(int(throttle.WINDOW.total_seconds()))
            return response
        if api_key is None:
            response = error(401, _("A valid API key is needed (Authorization: Bearer <key>)."))
            response["WWW-Authenticate"] = 'Bearer realm="clinicportal"'
            return response
        actor = ApiActor(api_key=api_key, ip=client_ip(request), user_agent=user_agent(request))
        bind_actor(actor)
        try:
            # A document's date, when none is sent, is today at the practice.
            with timezone.override(actor.practice.zone):
                return view(request, actor, *args, **kwargs)
        except Http404:
            return error(404, _("No such patient."))

    return wrapped


def allow_only(method: str) -> Callable[[View], View]:
    """Answer any other method with a JSON 405, as the rest of the API answers."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != method:
                response = error(
                    405,
                    _("%(method)s is not allowed here; use %(allowed)s.")
                    % {"method": request.method, "allowed": method},
                )
                response["Allow"] = method
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


@csrf_exempt  # no cookies: a POST here gets the JSON 405, not a CSRF page
@allow_only("GET")
def openapi_document(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi(server_url=request.build_absolute_uri("/api/v1")))


def parse_id(value: str) -> uuid.UUID:
    """Return the id in a path; a malformed one is not found, like an unknown one."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None


class TrueOrFalseField(forms.Field):
    """A JSON-style boolean in a form: ``true`` or ``false`` (any case); left out is false.

    Unlike Django's BooleanField, which takes any other text as true, anything else is refused,
    as the OpenAPI document says.
    """

    default_error_messages = {"invalid": gettext_lazy("Enter true or false.")}

    def to_python(self, value: Any) -> bool:
        if value is None:
            return False
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValidationError(self.error_messages["invalid"], code="invalid")


class PortalDocumentForm(forms.Form):
    file = forms.FileField()
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    description = forms.CharField(max_length=300, required=False)
    is_education = TrueOrFalseField(required=False)


@csrf_exempt  # no cookies: the API key in the header is the credential
@never_cache
@allow_only("POST")
@api_key_required
def portal_documents(request: HttpRequest, actor: ApiActor, patient_id: str) -> HttpResponse:
    """Print to portal: put a PDF on a patient's portal (multipart/form-data).

    An ``Idempotency-Key`` header makes a retry safe: the same key, patient and file get the
    record made the first time (``Idempotent-Replayed: true``), however often they are sent.
    """
    patient = patient_get(actor=actor, public_id=parse_id(patient_id))
    idempotency_key = request.headers.get("Idempotency-Key")
    if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        return error(400, _("The Idempotency-Key header must be 1 to 64 visible ASCII characters."))
    request.multipart_parser_class = FilePartParser  # type: ignore[assignment]  # stubs: a class
    try:
        form = PortalDocumentForm(request.POST, request.FILES)
    except RequestDataTooBig:
        return error(413, _("The form fields are too large."))
    except MultiPartParserError:
        return error(400, _("The body is not valid multipart/form-data."))
    except (TooManyFieldsSent, TooManyFilesSent):
        return error(400, _("Too many form parts; send the file and at most three fields."))
    if not form.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        return error(400, _("The request is not complete; see fields."), fields=fields)
    data = form.cleaned_data
    try:
        document, made = portal_document_print(
            actor=actor,
            patient=patient,
            upload=data["file"],
            document_date=data["date"] or timezone.localdate(),
            description=data["description"],
            is_education=data["is_education"],
            idempotency_key=idempotency_key or "",
        )
    except PrintKeyUsed as exc:
        return error(422, str(exc))
    except PrintRemoved as exc:
        return error(409, str(exc))
    except ValidationError as exc:
        return error(400, " ".join(exc.messages))
    except UploadNotFinished as exc:
        return error(503, exc.message)
    assert document.blob is not None
    answer = JsonResponse(
        {
            "id": str(document.public_id),
            "patient_id": str(patient.public_id),
            "filename": document.filename,
            "description": document.description,
            "date": document.document_date.isoformat(),
            "is_education": document.is_education,
            "size": document.blob.size,
            "sha256": document.blob.sha256,
        },
        status=201,
    )
    if not made:
        answer["Idempotent-Replayed"] = "true"
    return answer
