"""Reads of practices and staff."""

from __future__ import annotations

import uuid

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from clinicportal.core.context import StaffActor
from clinicportal.practices.models import Practice, StaffMember, SystemDocument


def practice_by_slug(slug: str) -> Practice:
    """Return the practice whose portal is at ``/p/<slug>/``, or 404."""
    try:
        return Practice.objects.get(slug=slug)
    except Practice.DoesNotExist:
        raise Http404("No such practice.") from None


def staff_member_for_user(user_id: int) -> StaffMember | None:
    """Return the active staff membership (with its practice) of an office user, if any."""
    return (
        StaffMember.objects.select_related("practice", "user")
        .filter(user_id=user_id, is_active=True, user__is_active=True)
        .first()
    )


def system_documents(
    *, actor: StaffActor, search: str = "", active_only: bool = False
) -> QuerySet[SystemDocument]:
    documents = SystemDocument.objects.filter(practice=actor.practice).select_related("blob")
    if active_only:
        documents = documents.filter(is_retired=False)
    if search.strip():
        words = search.strip()[:100]
        documents = documents.filter(Q(description__icontains=words) | Q(filename__icontains=words))
    return documents


def library_documents(*, actor: StaffActor) -> QuerySet[SystemDocument]:
    """Return the practice's library, each entry with ``patient_count``: on how many portals.

    Every assignment from the entry counts, also those made before its content was replaced.
    """
    return system_documents(actor=actor).annotate(
        patient_count=Count("portal_documents__patient", distinct=True)
    )


def system_document_get(*, actor: StaffActor, public_id: uuid.UUID) -> SystemDocument:
    try:
        return system_documents(actor=actor).get(public_id=public_id)
    except SystemDocument.DoesNotExist:
        raise Http404("No such document.") from None
