"""Error pages (400, 403, 404, 409, 500, a failed CSRF check) in the site's frame, with a way back.

They render a static template without the request, so no context processor runs: the pages need
neither the database nor a request that may be half broken. None shows the exception's text, so
"not yours" and "not found" stay the same page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

_PORTAL_PATH = re.compile(r"^/p/(?P<slug>[-a-zA-Z0-9_]+)/")


@dataclass(frozen=True)
class _Problem:
    status: int
    title: Promise
    api: Promise  # the whole answer under /api/, which speaks JSON
    sentence: Promise
    office: Promise | None = None  # instead of sentence, under /office/
    portal: Promise | None = None  # instead of sentence, under /p/<practice>/


_BAD_REQUEST = _Problem(
    400,
    _("We could not read that request"),
    _("Bad request."),
    _("Something in the request did not look right. Please go back and try again."),
)
_FORBIDDEN = _Problem(
    403,
    _("You cannot open this page"),
    _("Forbidden."),
    _("This page is not available."),
    office=_(
        "Your account is not allowed to open this page. If you need it, please ask your "
        "practice admin."
    ),
    portal=_("This page is not available from your account."),
)
_NOT_FOUND = _Problem(
    404,
    _("Page not found"),
    _("Not found."),
    _(
        "We could not find that page. If you are a patient, please use the portal link your "
        "practice gave you."
    ),
    office=_("We could not find that page. It may have moved, or the address may be mistyped."),
    portal=_("We could not find that page. It may have moved, or the address may be mistyped."),
)
_CSRF = _Problem(
    403,
    _("This form has expired"),
    _("Forbidden."),
    _(
        "For your safety, forms stop working after a while. Please reload the page and try "
        "again. Your browser must allow cookies from this site."
    ),
)
_OTHER_SITE = _Problem(
    403,
    _("This request came from another site"),
    _("Forbidden."),
    _(
        "For your safety, this site only takes forms and files asked for from its own "
        "pages. Please open the page from the site’s own address and try again."
    ),
)
_ALREADY_SENT = _Problem(
    409,
    _("This form was already sent"),
    _("This form was already sent."),
    _(
        "This form was already sent, from another sign-in, so nothing was changed. Please "
        "open the page again."
    ),
)
_SERVER_ERROR = _Problem(
    500,
    _("Something went wrong on our side"),
    _("Server error."),
    _("The page could not be shown. Nothing you did caused this; please try again in a minute."),
)


def _render(request: HttpRequest, problem: _Problem) -> HttpResponse:
    path = request.path_info
    if path.startswith("/api/"):
        return JsonResponse({"error": str(problem.api)}, status=problem.status)
    sentence = problem.sentence
    if path.startswith("/office/"):
        side, sentence = gettext("Office"), problem.office or sentence
        back, back_label = reverse("office:home"), gettext("Go to the office home page")
    elif match := _PORTAL_PATH.match(path):
        side, sentence = gettext("Patient portal"), problem.portal or sentence
        back = reverse("portal:home", args=[match["slug"]])
        back_label = gettext("Go to your patient portal")
    else:
        side = ""
        back, back_label = reverse("office:login"), gettext("Staff: go to the office sign-in")
    context = {
        "title": problem.title,
        "sentence": sentence,
        "side": side,
        "back": back,
        "back_label": back_label,
    }
    body = loader.get_template("errors/error.html").render(context)  # no request: see above
    return HttpResponse(body, status=problem.status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _render(request, _BAD_REQUEST)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _render(request, _FORBIDDEN)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _render(request, _NOT_FOUND)


def server_error(request: HttpRequest) -> HttpResponse:
    return _render(request, _SERVER_ERROR)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _render(request, _CSRF)


def other_site(request: HttpRequest) -> HttpResponse:
    """Refuse what another site's page made the browser ask for (see core.fetch_metadata)."""
    return _render(request, _OTHER_SITE)


def already_sent(request: HttpRequest) -> HttpResponse:
    """Refuse a form whose one-time token another user claimed (see office/once.py)."""
    return _render(request, _ALREADY_SENT)
