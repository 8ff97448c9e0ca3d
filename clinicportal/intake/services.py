"""Forms: the office builds and assigns them; patients save drafts and submit.

Editing a form whose current version has been answered (a draft or a submission) makes a new
version, so every submission keeps the questions it answered. A draft keeps what was typed, as
typed. Submitting checks every answer; if the form changed while the patient filled it, nothing
is lost: their answers stay in the draft and they are asked to look again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.access import (
    NotFound,
    portal_patient,
    require_admin,
    require_in_practice,
    require_reachable,
)
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field
from clinicportal.intake.filing import submission_file
from clinicportal.intake.models import Form, FormAssignment, FormVersion, Submission
from clinicportal.messaging.services.tasks import form_task_record
from clinicportal.patients.models import Patient


class AnswersInvalid(Exception):
    """Some answers are not right; ``errors`` by field key, ``typed`` as the patient typed."""

    def __init__(self, errors: dict[str, str], typed: dict[str, Any]) -> None:
        super().__init__("answers invalid")
        self.errors = errors
        self.typed = typed


class VersionChanged(Exception):
    """The office changed the form while the patient filled it; their answers were kept."""

    def __init__(self, draft: Submission) -> None:
        super().__init__("form version changed")
        self.draft = draft


# The office ---------------------------------------------------------------------------------


def current_version(form: Form) -> FormVersion:
    found = form.versions.order_by("-number").first()
    if found is None:
        raise NotFound("A form without a version.")
    return found


def form_create(
    *, actor: StaffActor, name: str, kind: str, description: str = "", offered_to_all: bool = False
) -> Form:
    """A new form (admins), with an empty first version to add fields to."""
    require_admin(actor)
    name = _name_checked(name, kind)
    with transaction.atomic():
        form = Form.objects.create(
            practice=actor.practice,
            name=name,
            kind=kind,
            description=description.strip(),
            offered_to_all=offered_to_all,
        )
        FormVersion.objects.create(
            practice=actor.practice, form=form, number=1, fields=[], created_by=actor.user
        )
        audit_record(actor=actor, action=AuditEvent.Action.FORM_CHANGED, target=form)
    return form


def _name_checked(name: str, kind: str) -> str:
    """The form's name, its spaces tidied; refuse a blank one or an unknown kind."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Please give the form a name.")})
    if kind not in Form.Kind.values:
        raise ValidationError({"kind": _("Please choose what kind of form it is.")})
    return name[:200]


def form_fields_save(*, actor: StaffActor, form: Form, fields: Sequence[Field]) -> FormVersion:
    """Save the form's fields, in order: in place while nothing answers the current version,
    else as a new version (the answered one stays as it was)."""
    require_admin(actor)
    require_in_practice(actor, form)
    errors = {
        str(n): " ".join(problems)
        for n, field in enumerate(fields)
        if (problems := kinds.definition_errors(field))
    }
    if errors:
        raise ValidationError(errors)
    keys = [f.key for f in fields]
    if len(set(keys)) != len(keys):
        raise ValidationError(_("Two fields have the same key."))
    data = [f.as_data() for f in fields]
    with transaction.atomic():
        Form.objects.select_for_update().get(pk=form.pk)
        version = current_version(form)
        if version.fields == data:
            return version
        if Submission.objects.filter(version=version).exists():
            version = FormVersion.objects.create(
                practice=actor.practice,
                form=form,
                number=version.number + 1,
                fields=data,
                created_by=actor.user,
            )
        else:
            version.fields = data
            version.save(update_fields=["fields"])
        Form.objects.filter(pk=form.pk).update(updated_at=timezone.now())
        audit_record(actor=actor, action=AuditEvent.Action.FORM_CHANGED, target=form)
    return version


def form_details_save(
    *,
    actor: StaffActor,
    form: Form,
    name: str,
    kind: str,
    description: str,
    offered_to_all: bool,
    active: bool,
) -> Form:
    """Change what the form is called and who sees it (admins). Not versioned: a submission
    keeps its questions, and its PDF, already made, keeps the name it had."""
    require_admin(actor)
    require_in_practice(actor, form)
    name = _name_checked(name, kind)
    with transaction.atomic():
        form = Form.objects.select_for_update().get(pk=form.pk)
        form.name = name
        form.kind = kind
        form.description = description.strip()
        form.offered_to_all = offered_to_all
        form.active = active
        form.save()
        audit_record(actor=actor, action=AuditEvent.Action.FORM_CHANGED, target=form)
    return form


def form_assign(*, actor: StaffActor, form: Form, patient: Patient) -> FormAssignment:
    """Ask the patient to fill the form; asking again while it is open changes nothing."""
    require_in_practice(actor, form)
    require_reachable(actor, patient)
    if not form.active:
        raise ValidationError(_("This form is not in use."))
    open_one = FormAssignment.objects.filter(
        patient=patient, form=form, completed_at__isnull=True
    ).first()
    if open_one is not None:
        return open_one
    try:
        with transaction.atomic():
            assignment = FormAssignment.objects.create(
                practice=actor.practice, patient=patient, form=form, assigned_by=actor.user
            )
            audit_record(
                actor=actor, action=AuditEvent.Action.FORM_ASSIGNED, target=form, patient=patient
            )
    except IntegrityError:  # assigned twice at once
        return FormAssignment.objects.get(patient=patient, form=form, completed_at__isnull=True)
    return assignment


def form_assignment_withdraw(*, actor: StaffActor, assignment: FormAssignment) -> bool:
    """Stop asking the patient to fill the form: the assignment is deleted, and the portal
    no longer lists it. True when this call withdrew it, False when it was withdrawn already
    (by another click or another tab); a submitted one is refused.

    Deleted rather than marked: the trail keeps who withdrew which form for whom and when, and
    every read of open assignments (the office's, the portal's, the one-open rule) stays as it
    is. A draft the patient saved for it is kept, out of sight, not tied to it any more: it is
    what they typed, the office never reads drafts, and if the form is assigned again (it was
    withdrawn by mistake) they find their answers where they left them. The office has no task
    for a form until it is submitted, so there is none to close.
    """
    require_reachable(actor, assignment)
    with transaction.atomic():
        # The draft first, then the assignment: the order the patient's save and submit take
        # them in, so that neither waits on the other for ever.
        list(
            Submission.objects.select_for_update().filter(
                patient_id=assignment.patient_id,
                form_id=assignment.form_id,
                status=Submission.Status.DRAFT,
            )
        )
        found = FormAssignment.objects.select_for_update().filter(pk=assignment.pk).first()
        if found is None:
            return False
        if found.completed_at is not None:
            raise ValidationError(
                _(
                    "“%(form)s” was submitted already, so it can no longer be withdrawn; "
                    "its answers are under Submitted."
                )
                % {"form": assignment.form.name}
            )
        Submission.objects.filter(assignment=found).update(assignment=None)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.FORM_ASSIGNMENT_WITHDRAWN,
            target=assignment.form,
            patient=assignment.patient,
        )
        found.delete()
    return True


def submission_office_view(*, actor: StaffActor, submission: Submission) -> None:
    """Record staff opening a submitted form (a viewing of patient data)."""
    require_reachable(actor, submission)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.FORM_SUBMISSION_VIEWED,
        target=submission,
        patient=submission.patient,
    )


def submission_refile(*, actor: StaffActor, submission: Submission) -> Submission:
    """Make the PDF of a submission whose PDF could not be made, and put it in the chart.

    Nothing is done for one that has its PDF already (two clicks make one file). When it fails
    again, ``pdf_error`` says why, and the answers stay as they are.
    """
    require_reachable(actor, submission)
    with transaction.atomic():
        found = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("form", "version", "patient__practice")
            .get(pk=submission.pk)
        )
        if found.status != Submission.Status.SUBMITTED:
            raise NotFound("Not a submitted form.")
        if found.chart_file_id is None:
            submission_file(actor, found)
    return found


# The patient --------------------------------------------------------------------------------


def fillable(actor: PortalActor, form: Form) -> FormAssignment | None:
    """The open assignment the patient fills, None for a form offered to all; NotFound when
    the patient may not fill it (off, not in use, not theirs, or already submitted)."""
    patient = portal_patient(actor)
    require_in_practice(actor, form)
    if not actor.practice.forms_enabled or not form.active:
        raise NotFound("No such form.")
    assignment = FormAssignment.objects.filter(
        patient=patient, form=form, completed_at__isnull=True
    ).first()
    if assignment is not None:
        return assignment
    if (
        form.offered_to_all
        and not Submission.objects.filter(
            patient=patient, form=form, status=Submission.Status.SUBMITTED
        ).exists()
    ):
        return None
    raise NotFound("The form is not this patient's to fill.")


def draft_save(
    *, actor: PortalActor, form: Form, version_number: int, posted: Mapping[str, Any]
) -> Submission:
    """Keep what was typed, as typed, in the patient's one draft of the form."""
    assignment = fillable(actor, form)
    version = _version(form, version_number)
    typed = {f.key: kinds.typed(f, posted) for f in kinds.fields_of(version.fields) if f.asks}
    return _draft_keep(actor, form, version, assignment, typed)


def _version(form: Form, number: int) -> FormVersion:
    found = FormVersion.objects.filter(form=form, number=number).first()
    if found is None:
        raise ValidationError(_("This form has changed. Please look at it again."))
    return found


def _draft_keep(
    actor: PortalActor,
    form: Form,
    version: FormVersion,
    assignment: FormAssignment | None,
    typed: dict[str, Any],
) -> Submission:
    patient = portal_patient(actor)
    with transaction.atomic():
        draft = (
            Submission.objects.select_for_update()
            .filter(patient=patient, form=form, status=Submission.Status.DRAFT)
            .first()
        )
        if assignment is not None and not _still_open(assignment):
            raise NotFound("No longer to fill.")  # withdrawn or submitted meanwhile
        if draft is None:
            try:
                with transaction.atomic():
                    return Submission.objects.create(
                        practice=actor.practice,
                        patient=patient,
                        form=form,
                        version=version,
                        assignment=assignment,
                        answers=typed,
                        started_by=actor.account,
                    )
            except IntegrityError:  # two saves at once: the other made the draft
                draft = Submission.objects.select_for_update().get(
                    patient=patient, form=form, status=Submission.Status.DRAFT
                )
        draft.version = version
        draft.answers = typed
        draft.assignment = assignment
        draft.save(update_fields=["version", "answers", "assignment", "updated_at"])
    return draft


def _still_open(assignment: FormAssignment) -> bool:
    """Lock the assignment (after the draft, as withdrawing does) if it is still open."""
    still = FormAssignment.objects.select_for_update().filter(
        pk=assignment.pk, completed_at__isnull=True
    )
    return still.values_list("pk", flat=True).first() is not None


def submission_submit(
    *, actor: PortalActor, form: Form, version_number: int, posted: Mapping[str, Any]
) -> Submission:
    """Check every answer and submit: one transaction makes the submission, its PDF in the
    chart, the office's review task and the audit row (``intake.filing``).

    Raises AnswersInvalid (the typed answers kept in the draft) and VersionChanged.
    """
    assignment = fillable(actor, form)
    version = _version(form, version_number)
    now = timezone.now()
    fields = kinds.fields_of(version.fields)
    answers, typed, errors = kinds.answers_clean(fields, posted, now=now)
    latest = current_version(form)
    if latest.pk != version.pk:
        raise VersionChanged(_draft_keep(actor, form, latest, assignment, typed))
    if errors:
        _draft_keep(actor, form, version, assignment, typed)
        raise AnswersInvalid(errors, typed)
    patient = portal_patient(actor)
    with transaction.atomic():
        draft = (
            Submission.objects.select_for_update()
            .filter(patient=patient, form=form, status=Submission.Status.DRAFT)
            .first()
        )
        if assignment is not None:
            closed = FormAssignment.objects.filter(
                pk=assignment.pk, completed_at__isnull=True
            ).update(completed_at=now)
            if not closed:
                raise NotFound("Already submitted.")  # a second submit of the same form
        elif Submission.objects.filter(
            patient=patient, form=form, status=Submission.Status.SUBMITTED
        ).exists():
            raise NotFound("Already submitted.")
        submission = draft or Submission(
            practice=actor.practice, patient=patient, form=form, started_by=actor.account
        )
        submission.version = version
        submission.assignment = assignment
        submission.answers = answers
        submission.status = Submission.Status.SUBMITTED
        submission.submitted_by = actor.account
        submission.submitted_by_name = actor.name
        submission.submitted_at = now
        submission.save()
        audit_record(
            actor=actor, action=AuditEvent.Action.FORM_SUBMITTED, target=submission, patient=patient
        )
        submission_file(actor, submission)
        form_task_record(submission=submission)
    return submission
