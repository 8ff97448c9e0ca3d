"""FORMS as the patient's side reads it: what to fill, what was sent, one form, one submission.

Every read takes the portal actor and returns only the chosen patient's rows, in the actor's
practice: a form the patient may not fill and never sent, or another patient's submission, is
NotFound, exactly as an unknown id. Whether a form may be filled is ``services.fillable``'s
rule, used here as it is when the patient saves or submits.

A form the patient may fill is shown with a mark, signed for that form and that patient. When
the office takes the form out of use or stops asking the patient while they fill it, the mark
their page sends back is what lets them (and no one else) read what they typed (``Gone``).
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils.crypto import constant_time_compare, salted_hmac

from clinicportal.core.access import NotFound, portal_patient
from clinicportal.core.context import PortalActor
from clinicportal.core.keyset import Keys, KeysetPage, keyset_page
from clinicportal.intake.models import Form, FormAssignment, FormVersion, Submission
from clinicportal.intake.services import current_version, fillable
from clinicportal.patients.models import Patient

SUBMISSIONS_PER_PAGE = 25
SUBMITTED_ORDER: Keys = ("submitted_at", "id")


@dataclass(frozen=True)
class ToFill:
    """A form the patient may fill now: asked for by the office, or offered to every patient."""

    form: Form
    assigned_at: datetime.datetime | None  # None: offered to every patient
    draft_saved_at: datetime.datetime | None


def _draft_saved(patient: Patient, form_ref: str) -> Subquery:
    drafts = Submission.objects.filter(
        patient=patient, form=OuterRef(form_ref), status=Submission.Status.DRAFT
    )
    return Subquery(drafts.values("updated_at")[:1])


def portal_forms_to_fill(*, actor: PortalActor) -> list[ToFill]:
    """The forms the patient may fill, in two queries however many: those the office asked
    for (newest first), then those offered to every patient and not yet sent (by name)."""
    patient = portal_patient(actor)
    if not actor.practice.forms_enabled:
        return []
    assigned = (
        FormAssignment.objects.filter(
            practice=actor.practice, patient=patient, completed_at__isnull=True, form__active=True
        )
        .select_related("form")
        .annotate(draft_saved_at=_draft_saved(patient, "form_id"))
        .order_by("-assigned_at", "-id")
    )
    found = [ToFill(a.form, a.assigned_at, a.draft_saved_at) for a in assigned]
    offered = (
        Form.objects.filter(practice=actor.practice, offered_to_all=True, active=True)
        .exclude(
            Exists(
                FormAssignment.objects.filter(
                    patient=patient, form=OuterRef("pk"), completed_at__isnull=True
                )
            )
        )
        .exclude(
            Exists(
                Submission.objects.filter(
                    patient=patient, form=OuterRef("pk"), status=Submission.Status.SUBMITTED
                )
            )
        )
        .annotate(draft_saved_at=_draft_saved(patient, "pk"))
        .order_by("name", "id")
    )
    found += [ToFill(form, None, form.draft_saved_at) for form in offered]
    return found


def _submitted(actor: PortalActor) -> QuerySet[Submission]:
    return Submission.objects.filter(
        practice=actor.practice, patient=portal_patient(actor), status=Submission.Status.SUBMITTED
    )


def portal_submissions_page(*, actor: PortalActor, cursor: str | None) -> KeysetPage[Submission]:
    """A page of the forms the patient's side has sent, newest first, with their forms.

    ``cursor`` is a place in this patient's own list: whatever it names, the page holds only
    this patient's submissions.
    """
    rows = _submitted(actor).select_related("form")
    page = keyset_page(
        rows, per_page=SUBMISSIONS_PER_PAGE, cursor=cursor, descending=True, keys=SUBMITTED_ORDER
    )
    if not page.rows and cursor:  # nothing past this mark any more: start again
        page = keyset_page(
            rows, per_page=SUBMISSIONS_PER_PAGE, cursor=None, descending=True, keys=SUBMITTED_ORDER
        )
    return page


def portal_submission(*, actor: PortalActor, public_id: uuid.UUID) -> Submission:
    """One of the patient's sent forms, with the version it answered (a draft is not one)."""
    try:
        return (
            _submitted(actor).select_related("form", "version", "patient").get(public_id=public_id)
        )
    except Submission.DoesNotExist:
        raise NotFound("No such submission.") from None


@dataclass(frozen=True)
class Filling:
    """A form as the patient opens it: its questions now, and what they typed or sent."""

    form: Form
    version: FormVersion  # the current one: the questions as the office has them now
    open: bool  # the patient may fill it (and save a draft, and submit)
    draft: Submission | None  # what they typed so far, on whichever version they saw
    sent: Submission | None  # the last one sent, when the form is not open to fill again
    mark: str = ""  # while open: sent back with the page, see portal_form_gone


MARK_SALT = "clinicportal.intake.portal_selectors.filling"


def _mark(form: Form, patient: Patient) -> str:
    """Signs "this patient was shown this form to fill" (the secret key, made for this use)."""
    value = f"{form.public_id}:{patient.public_id}"
    return salted_hmac(MARK_SALT, value, algorithm="sha256").hexdigest()


def portal_form_filling(*, actor: PortalActor, public_id: uuid.UUID) -> Filling:
    """The form ``public_id`` as this patient may open it: open to fill (assigned, or offered
    to every patient and not yet sent), or already sent. Anything else is NotFound."""
    patient = portal_patient(actor)
    form = Form.objects.filter(practice=actor.practice, public_id=public_id).first()
    if form is None or not actor.practice.forms_enabled:
        raise NotFound("No such form.")
    try:
        fillable(actor, form)
    except NotFound:
        sent = (
            _submitted(actor)
            .filter(form=form)
            .select_related("form")
            .order_by("-submitted_at", "-id")
            .first()
        )
        if sent is None:
            raise
        return Filling(form, current_version(form), open=False, draft=None, sent=sent)
    draft = (
        Submission.objects.filter(patient=patient, form=form, status=Submission.Status.DRAFT)
        .select_related("version")
        .first()
    )
    return Filling(
        form, current_version(form), open=True, draft=draft, sent=None, mark=_mark(form, patient)
    )


@dataclass(frozen=True)
class Gone:
    """A form the patient's side was filling when it stopped being theirs to fill."""

    form: Form  # ``active`` says why: taken out of use, or (in use) no longer asked of them
    version: FormVersion  # the questions they answered: the version posted, else the current


def portal_form_gone(
    *, actor: PortalActor, public_id: uuid.UUID, mark: str, version_number: int
) -> Gone:
    """The form ``public_id``, for showing a patient's side what they typed into it after the
    office took it out of use or stopped asking them (call it once ``portal_form_filling`` has
    said NotFound).

    Only a page that showed this patient the form to fill carries ``mark``, so only they get it;
    another patient, another practice, an unknown id and Forms off are NotFound, as ever. It
    reads the form's questions only: what they typed comes from their own request.
    """
    patient = portal_patient(actor)
    form = Form.objects.filter(practice=actor.practice, public_id=public_id).first()
    if (
        form is None
        or not actor.practice.forms_enabled
        or not constant_time_compare(mark, _mark(form, patient))
    ):
        raise NotFound("No such form.")
    version = FormVersion.objects.filter(form=form, number=version_number).first()
    return Gone(form, version or current_version(form))
