"""The site's URLs plus a bare view, the yardstick of bench/portal_pages.py. Bench only."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as site


def bare(request: HttpRequest) -> HttpResponse:
    """The least a Django view can do, through the same middleware as every page."""
    return HttpResponse("ok")


urlpatterns = [path("bench/bare/", bare), *site]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
