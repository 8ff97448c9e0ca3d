"""The site's URLs plus a bare view, the yardstick of bench/portal_pages.py, and a naive
signed-in page to show where a page of Django stands against it. Bench only."""

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as site


def bare(request: HttpRequest) -> HttpResponse:
    """The least a Django view can do, through the same middleware as every page."""
    return HttpResponse("ok")


_NAIVE = engines["django"].from_string(
    '<!doctype html><html lang="en"><head><title>{{ practice.name }}</title></head>'
    "<body><h1>{{ practice.name }}</h1><p>{{ signed_in|yesno:'in,out' }}</p></body></html>"
)


def naive(request: HttpRequest) -> HttpResponse:
    """A naive signed-in page, for scale: its session read, one query and a small template."""
    from clinicportal.practices.models import Practice

    signed_in = "portal.account" in request.session
    practice = Practice.objects.order_by("pk").first()
    return HttpResponse(_NAIVE.render({"practice": practice, "signed_in": signed_in}, request))


urlpatterns = [path("bench/bare/", bare), path("bench/naive/", naive), *site]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
