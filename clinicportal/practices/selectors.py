"""Reads of practices and staff."""

from __future__ import annotations

from django.http import Http404

from clinicportal.practices.models import Practice, StaffMember


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
