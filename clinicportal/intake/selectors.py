"""The office's reads of FORMS: the practice's forms, who was asked to fill them, what came back.

Every read is scoped by the staff member's practice; an id of another practice is NotFound,
like an unknown one. Drafts are the patient's work in progress: the office sees a submission
only once it is submitted (and, on the patient's page, that a draft was saved, and when).
The portal's reads are in ``intake.portal_selectors``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from clinicportal.accounts.models import PortalGrant
from clinicportal.core.access import NotFound, require_reachable
from clinicportal.core.context import StaffActor
from clinicportal.core.keyset import Keys, KeysetPage, keyset_page
from clinicportal.intake.models import Form, FormAssignment, FormVersion, Submission
from clinicportal.patients.models import Patient

SUBMISSIONS_PER_PAGE = 25
SUBMISSION_ORDER: Keys = ("submitted_at", "id")  # the submission_list and _form_list indexes
LATEST_FOR_PATIENT = 10  # submitted forms on the patient's page; the rest in the list


def _uuid(text: str) -> str:
    """``text`` if it is a well-formed id, else "" (a filter that names nothing is no filter)."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return ""


# Admin → Forms ------------------------------------------------------------------------------


def office_forms(*, actor: StaffActor) -> list[Form]:
    """The practice's forms by name, each with ``version_number`` (its current version),
    ``submitted`` (how many submissions) and ``waiting`` (assignments not yet answered)."""

    def counted(rows: QuerySet[Submission] | QuerySet[FormAssignment]) -> Coalesce:
        per_form = rows.order_by().values("form").annotate(n=Count("*")).values("n")
        return Coalesce(Subquery(per_form, output_field=IntegerField()), Value(0))

    latest = FormVersion.objects.filter(form=OuterRef("pk")).order_by("-number").values("number")
    return list(
        Form.objects.filter(practice=actor.practice)
        .annotate(
            version_number=Subquery(latest[:1]),
            submitted=counted(
                Submission.objects.filter(form=OuterRef("pk"), status=Submission.Status.SUBMITTED)
            ),
            waiting=counted(
                FormAssignment.objects.filter(form=OuterRef("pk"), completed_at__isnull=True)
            ),
        )
        .order_by("name", "id")
    )


def office_form(*, actor: StaffActor, public_id: uuid.UUID | str) -> Form:
    form = Form.objects.filter(practice=actor.practice, public_id=public_id).first()
    if form is None:
        raise NotFound("No such form.")
    return form


@dataclass(frozen=True)
class Current:
    """The version of a form the builder edits, and whether anything answers it yet (then a
    save makes the next version)."""

    version: FormVersion
    answered: bool


def form_current(*, actor: StaffActor, form: Form) -> Current:
    require_reachable(actor, form)
    version = form.versions.order_by("-number").first()
    if version is None:
        raise NotFound("A form without a version.")
    return Current(version, Submission.objects.filter(version=version).exists())


def form_names(*, actor: StaffActor, in_use: bool = False) -> list[Form]:
    """The practice's forms by name (only those in use, with ``in_use``: the ones staff may
    ask a patient to fill), for a list to choose one from."""
    rows = Form.objects.filter(practice=actor.practice)
    if in_use:
        rows = rows.filter(active=True)
    return list(rows.only("public_id", "name", "active").order_by("name", "id"))


def assignable_form(*, actor: StaffActor, public_id: str) -> Form | None:
    """The form in use that a posted choice names, or None."""
    found = _uuid(public_id)
    if not found:
        return None
    return Form.objects.filter(practice=actor.practice, public_id=found, active=True).first()


def assignment_open(*, actor: StaffActor, patient: Patient, form: Form) -> bool:
    require_reachable(actor, patient)
    return FormAssignment.objects.filter(
        patient=patient, form=form, completed_at__isnull=True
    ).exists()


# The patient's page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientForms:
    """The Forms section of a patient's page.

    ``waiting``: open assignments (each with ``draft_saved_at``: when the patient last saved a
    draft of it, or None); ``offered``: the forms offered to every patient that the portal
    lists for this one (in use, not assigned, not submitted; each with ``draft_saved_at``
    too); ``submitted``: the latest submissions, newest first (``more`` when there are others).
    """

    waiting: Sequence[FormAssignment]
    offered: Sequence[Form]
    submitted: Sequence[Submission]
    more: bool


def patient_forms(*, actor: StaffActor, patient: Patient) -> PatientForms:
    require_reachable(actor, patient)
    draft = Submission.objects.filter(
        patient=patient, form=OuterRef("form"), status=Submission.Status.DRAFT
    ).values("updated_at")
    waiting = list(
        FormAssignment.objects.filter(patient=patient, completed_at__isnull=True)
        .select_related("form", "assigned_by__staff_member")
        .annotate(draft_saved_at=Subquery(draft[:1]))
        .order_by("-assigned_at", "-id")
    )
    submitted = list(
        _with_submitter(
            Submission.objects.filter(patient=patient, status=Submission.Status.SUBMITTED)
        )
        .select_related("form")
        .order_by("-submitted_at", "-id")[: LATEST_FOR_PATIENT + 1]
    )
    offered: list[Form] = []
    if actor.practice.forms_enabled:
        own_draft = Submission.objects.filter(
            patient=patient, form=OuterRef("pk"), status=Submission.Status.DRAFT
        ).values("updated_at")
        offered = list(
            Form.objects.filter(practice=actor.practice, active=True, offered_to_all=True)
            .exclude(
                Exists(
                    Submission.objects.filter(
                        patient=patient, form=OuterRef("pk"), status=Submission.Status.SUBMITTED
                    )
                )
            )
            .exclude(id__in=[assignment.form_id for assignment in waiting])
            .annotate(draft_saved_at=Subquery(own_draft[:1]))
            .order_by("name", "id")
        )
    return PatientForms(
        waiting, offered, submitted[:LATEST_FOR_PATIENT], len(submitted) > LATEST_FOR_PATIENT
    )


def patient_assignment(
    *, actor: StaffActor, patient: Patient, public_id: uuid.UUID | str
) -> FormAssignment:
    """One of the patient's assignments (waiting or submitted), with its form and
    ``draft_saved_at`` (as on the patient's page); another patient's or an unknown one is
    NotFound."""
    require_reachable(actor, patient)
    draft = Submission.objects.filter(
        patient=patient, form=OuterRef("form"), status=Submission.Status.DRAFT
    ).values("updated_at")
    found = (
        FormAssignment.objects.filter(practice=actor.practice, patient=patient, public_id=public_id)
        .select_related("form", "patient")
        .annotate(draft_saved_at=Subquery(draft[:1]))
        .first()
    )
    if found is None:
        raise NotFound("No such assignment.")
    return found


# Submissions ----------------------------------------------------------------------------------


def _with_submitter(rows: QuerySet[Submission]) -> QuerySet[Submission]:
    """Each with ``by_patient``: whether the patient's own account submitted it (otherwise an
    authorized user did, named in ``submitted_by_name``)."""
    own = PortalGrant.objects.filter(
        account=OuterRef("submitted_by"), patient=OuterRef("patient"), kind=PortalGrant.Kind.PATIENT
    )
    return rows.annotate(by_patient=Exists(own))


@dataclass(frozen=True)
class SubmissionFilter:
    """Which submissions the list shows: all, or one form's, or one patient's (by public id)."""

    form: str = ""
    patient: str = ""

    @classmethod
    def parse(cls, params: dict[str, str]) -> SubmissionFilter:
        return cls(form=_uuid(params.get("form", "")), patient=_uuid(params.get("patient", "")))


def submissions_page(
    *, actor: StaffActor, chosen: SubmissionFilter, cursor: str | None
) -> KeysetPage[Submission]:
    """One page of the practice's submitted forms, newest first, in one query, each with its
    patient, form and version, and ``by_patient``."""
    rows = _with_submitter(
        Submission.objects.filter(practice=actor.practice, status=Submission.Status.SUBMITTED)
    ).select_related("patient", "form", "version")
    # The form and the patient by their ids, looked up once (an InitPlan), so that the page
    # reads the submission_form_list index rather than every submission of the practice.
    if chosen.form:
        form = Form.objects.filter(practice=actor.practice, public_id=chosen.form)
        rows = rows.filter(form_id=Subquery(form.order_by().values("pk")[:1]))
    if chosen.patient:
        patient = Patient.objects.filter(practice=actor.practice, public_id=chosen.patient)
        rows = rows.filter(patient_id=Subquery(patient.order_by().values("pk")[:1]))
    return keyset_page(
        rows,
        per_page=SUBMISSIONS_PER_PAGE,
        cursor=cursor,
        descending=True,
        keys=SUBMISSION_ORDER,
    )


def filter_patient(*, actor: StaffActor, chosen: SubmissionFilter) -> Patient | None:
    """The patient the list is filtered by, to name them (None when it is not)."""
    if not chosen.patient:
        return None
    return Patient.objects.filter(practice=actor.practice, public_id=chosen.patient).first()


def office_submission(*, actor: StaffActor, public_id: uuid.UUID | str) -> Submission:
    """A submitted form of the practice, with its patient, form, version and chart file."""
    found = (
        _with_submitter(
            Submission.objects.filter(
                practice=actor.practice, public_id=public_id, status=Submission.Status.SUBMITTED
            )
        )
        .select_related("patient", "form", "version", "chart_file")
        .first()
    )
    if found is None:
        raise NotFound("No such submission.")
    return found
