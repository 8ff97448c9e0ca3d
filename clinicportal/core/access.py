"""Who may reach what: the one access rule that every service checks on the objects it is given."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import PermissionDenied
from django.http import Http404

from clinicportal.core.context import ApiActor, PortalActor, StaffActor

if TYPE_CHECKING:
    from clinicportal.patients.models import Patient


class NotFound(Http404):
    """Not the actor's to reach: answered exactly like an unknown id (404), never a 500."""


def require_admin(actor: StaffActor) -> None:
    """Refuse (PermissionDenied: the 403 page) staff who are not their practice's admins."""
    if not actor.is_admin:
        raise PermissionDenied("Only practice admins may do this.")


class InAPractice(Protocol):
    """Any row that carries its practice (a patient, an email, an API key ...)."""

    @property
    def practice_id(self) -> int: ...


def require_reachable(actor: StaffActor | ApiActor | PortalActor, obj: InAPractice) -> None:
    """The one access rule: refuse (NotFound) an object the actor may not reach.

    Staff and API keys reach the rows of their own practice. A portal account reaches only
    rows of the patient it acts for (a row with ``patient_id``) in its practice; rows of no
    patient (the library, the outbox, API keys) are never a portal's. Selectors already scope
    every read this way; services check again on whatever object a view hands them, and the
    refusal is the same 404 as an unknown id.
    """
    if obj.practice_id != actor.practice.pk:
        raise NotFound(f"{type(obj).__name__} of another practice.")
    if isinstance(actor, PortalActor):
        patient_id = getattr(obj, "patient_id", None)
        if actor.patient is None or patient_id != actor.patient.pk:
            raise NotFound(f"{type(obj).__name__} of another patient.")


def require_in_practice(actor: StaffActor | ApiActor | PortalActor, obj: InAPractice) -> None:
    """Refuse (NotFound) a row of another practice, for what a practice offers everyone who acts
    in it, its patients included (its appointment types, its providers): no patient owns them.
    """
    if obj.practice_id != actor.practice.pk:
        raise NotFound(f"{type(obj).__name__} of another practice.")


def portal_patient(actor: PortalActor) -> Patient:
    """The patient a portal account acts for; NotFound (404) while it has chosen none."""
    if actor.patient is None:
        raise NotFound("No patient chosen.")
    return actor.patient
