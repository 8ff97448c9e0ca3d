"""The real URLconf plus views that fail on purpose, for the error page tests."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def broken(request: HttpRequest, **kwargs: str) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [
    path("office/broken/", broken),
    path("p/<slug:practice_slug>/broken/", broken),
    path("broken/", broken),
    *urlpatterns,
]
