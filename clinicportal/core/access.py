"""Who may reach what: the one access rule that every service checks on the objects it is given."""

from __future__ import annotations

from typing import Protocol

from django.core.exceptions import PermissionDenied
from django.http import Http404

from clinicportal.core.context import ApiActor, StaffActor


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


def require_reachable(actor: StaffActor | ApiActor, obj: InAPractice) -> None:
    """Refuse (NotFound) a row of another practice: the one last guard behind selectors."""
    if obj.practice_id != actor.practice.pk:
        raise NotFound(f"{type(obj).__name__} of another practice.")
