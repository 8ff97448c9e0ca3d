"""Patient portal pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinicportal.practices.selectors import practice_by_slug


def portal_home(request: HttpRequest, practice_slug: str) -> HttpResponse:
    """The practice's portal address: who the practice is and how patients get access."""
    practice = practice_by_slug(practice_slug)
    return render(request, "portal/home.html", {"practice": practice})
