"""The office's reads of FORMS: the practice's forms, who was asked to fill them, what came back.

Every read is scoped by the staff member's practice; an id of another practice is NotFound,
like an unknown one. The portal's reads are in ``intake.portal_selectors``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from clinicportal.core.access import NotFound, require_reachable
from clinicportal.core.context import StaffActor
from clinicportal.intake.models import Form, FormAssignment, FormVersion, Submission

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
