"""FORMS: the forms the office asks the patient to fill, filling one, and what was sent.

Shown only while the practice has Forms on; otherwise every route here is a 404. A form is
filled on one page with two buttons: "Save draft" keeps what was typed, as typed, to finish
later; "Submit" checks every answer (intake.services) and sends it into the chart. A refused
answer comes back next to its question with everything typed kept. An authorized user fills
for the patient and is named on what they send. A form the office takes out of use, or stops
asking the patient to fill, while they fill it takes nothing more: the page they send it from
is answered with what they typed, to copy (410), and nothing is written.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinicportal.core.access import NotFound
from clinicportal.intake import fields as kinds
from clinicportal.intake.filing import answer_rows
from clinicportal.intake.portal_selectors import (
    Filling,
    portal_form_filling,
    portal_form_gone,
    portal_forms_to_fill,
    portal_submission,
    portal_submissions_page,
)
from clinicportal.intake.questions import questions
from clinicportal.intake.services import (
    AnswersInvalid,
    VersionChanged,
    draft_save,
    submission_submit,
)
from clinicportal.portal.auth import PortalRequest, portal_required
from clinicportal.portal.form_fill import blocks, typed_rows

# Tells portal/base.html to mark FORMS as where the patient is.
SECTION = "forms"
SUBMIT, DRAFT = "submit", "draft"


def forms_on(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Answer 404 on every FORMS route while the practice has Forms off."""

    @wraps(view)
    def wrapped(request: PortalRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.practice.forms_enabled:
            raise Http404("Forms is off.")
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@portal_required()
@forms_on
def form_list(request: PortalRequest) -> HttpResponse:
    """The forms to fill (with the date of a saved draft), and the forms already sent."""
    context = {
        "to_fill": portal_forms_to_fill(actor=request.portal),
        "sent": portal_submissions_page(actor=request.portal, cursor=request.GET.get("sent")),
        "section": SECTION,
    }
    return render(request, "portal/forms.html", context)


@require_http_methods(["GET", "POST"])
@portal_required()
@forms_on
def form_fill(request: PortalRequest, form_id: uuid.UUID) -> HttpResponseBase:
    """Fill a form: a saved draft comes back as typed; a sent one leads to what was sent."""
    try:
        filling = portal_form_filling(actor=request.portal, public_id=form_id)
    except NotFound:
        if request.method == "POST":
            return _gone(request, form_id)  # NotFound too, unless the page was theirs
        raise
    if request.method == "GET":
        if not filling.open:
            assert filling.sent is not None
            return redirect("portal:submission", request.practice.slug, filling.sent.public_id)
        draft = filling.draft
        changed = draft is not None and draft.version_id != filling.version.pk
        return _page(
            request,
            filling,
            typed=draft.answers if draft else {},
            notice=_(
                "The office changed this form since you saved your draft. Your answers are "
                "kept; please check them before you submit."
            )
            if changed
            else "",
        )
    if not filling.open:
        return _already_sent(request, filling)
    number = _version_number(request.POST.get("version"))
    if request.POST.get("action") != SUBMIT:
        return _draft(request, filling, number)
    try:
        submission = submission_submit(
            actor=request.portal, form=filling.form, version_number=number, posted=request.POST
        )
    except AnswersInvalid as invalid:
        return _page(request, filling, typed=invalid.typed, errors=invalid.errors, status=400)
    except VersionChanged as moved:
        return _page(
            request,
            dataclasses.replace(filling, version=moved.draft.version, draft=moved.draft),
            typed=moved.draft.answers,
            notice=_(
                "The office changed this form while you were filling it. Your answers are "
                "kept; please check them and submit again."
            ),
            status=409,
        )
    except ValidationError as refused:  # a version the form never had
        return _page(
            request, filling, typed=_typed(filling, request.POST), problem=refused, status=400
        )
    except NotFound:  # sent meanwhile (a second click, another tab), or no longer to fill
        return _refused(request, form_id)
    messages.success(request, _("Thank you. Your form was submitted to the office."))
    return redirect("portal:submission", request.practice.slug, submission.public_id)


def _draft(request: PortalRequest, filling: Filling, number: int) -> HttpResponseBase:
    try:
        draft_save(
            actor=request.portal, form=filling.form, version_number=number, posted=request.POST
        )
    except NotFound:  # sent meanwhile in another tab, or no longer to fill
        return _refused(request, filling.form.public_id)
    except ValidationError as refused:  # a version the form never had
        return _page(
            request, filling, typed=_typed(filling, request.POST), problem=refused, status=400
        )
    messages.success(
        request, _("Your answers are saved as a draft. You can come back and finish later.")
    )
    return redirect("portal:form", request.practice.slug, filling.form.public_id)


def _refused(request: PortalRequest, form_id: uuid.UUID) -> HttpResponse:
    """The service would not take the form, though it was open a moment ago: say why."""
    try:
        filling = portal_form_filling(actor=request.portal, public_id=form_id)
    except NotFound:
        return _gone(request, form_id)
    return _already_sent(request, filling)


def _gone(request: PortalRequest, form_id: uuid.UUID) -> HttpResponse:
    """A form taken out of use, or no longer asked of the patient, while they filled it: what
    they typed, listed to copy (from this request alone; the form's draft, if any, stays as it
    was). Nothing is written. Anyone else gets NotFound, as for an unknown id."""
    gone = portal_form_gone(
        actor=request.portal,
        public_id=form_id,
        mark=str(request.POST.get("mark", "")),
        version_number=_version_number(request.POST.get("version")),
    )
    fields = kinds.fields_of(gone.version.fields)
    typed = {f.key: kinds.typed(f, request.POST) for f in fields if f.asks}
    context = {
        "form": gone.form,
        "saving": request.POST.get("action") != SUBMIT,
        "blocks": blocks(typed_rows(fields, typed)),
        "section": SECTION,
    }
    return render(request, "portal/form_gone.html", context, status=410)


def _already_sent(request: PortalRequest, filling: Filling) -> HttpResponse:
    """The form shown again with what was typed, saying it was sent already (nothing more is)."""
    if filling.open:  # not sent, yet not to be filled either a moment ago: gone meanwhile
        raise NotFound("No longer to fill.")
    return _page(request, filling, typed=_typed(filling, request.POST), status=409)


def _version_number(posted: str | None) -> int:
    try:
        return int(posted or "")
    except ValueError:
        return 0  # no such version: the service says the form changed


def _typed(filling: Filling, posted: Mapping[str, Any]) -> dict[str, Any]:
    """What was posted for the form's current questions, as typed."""
    return {
        f.key: kinds.typed(f, posted) for f in kinds.fields_of(filling.version.fields) if f.asks
    }


def _page(
    request: PortalRequest,
    filling: Filling,
    *,
    typed: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    notice: str = "",
    problem: ValidationError | None = None,
    status: int = 200,
) -> HttpResponse:
    fields = kinds.fields_of(filling.version.fields)
    shown = questions(fields, typed, errors)
    context = {
        "form": filling.form,
        "filling": filling,
        "version": filling.version,
        "questions": shown,
        "wrong": [q for q in shown if q.error],
        "required": any(f.required for f in fields),
        "notice": notice,
        "problems": problem.messages if problem is not None else [],
        "for_someone_else": request.portal.patient is not None
        and request.portal.account.display_name != request.portal.patient.full_name,
        "section": SECTION,
    }
    return render(request, "portal/form_fill.html", context, status=status)


@require_GET
@portal_required()
@forms_on
def submission(request: PortalRequest, submission_id: uuid.UUID) -> HttpResponse:
    """A form the patient's side sent: every answer as the office reads it (and its PDF says)."""
    sent = portal_submission(actor=request.portal, public_id=submission_id)
    context = {
        "submission": sent,
        "blocks": blocks(answer_rows(sent)),
        "section": SECTION,
    }
    return render(request, "portal/form_submission.html", context)
