"""The real URLconf plus views that fail on purpose, for the error page tests."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from clinicportal.office.auth import staff_required
from config.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def broken(request: HttpRequest, **kwargs: str) -> HttpResponse:
    raise RuntimeError("a bug")


@staff_required
def broken_with_data(request: HttpRequest) -> HttpResponse:
    """Fail as a save can, with an error that quotes what was posted (a database's DETAIL)."""
    raise ValueError(f"Key (name, email)=({request.POST['name']}, {request.POST['email']})")


urlpatterns = [
    path("office/broken/", broken),
    path("office/broken-with-data/", broken_with_data),
    path("p/<slug:practice_slug>/broken/", broken),
    path("broken/", broken),
    *urlpatterns,
]
