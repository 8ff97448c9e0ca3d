"""Remove what uploads left half written when their request ended early."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from clinicportal.content.uploads import HashingUploadHandler


class UnfinishedUploadsMiddleware:
    """After each request, remove any uploaded file that was still being written.

    Django's body parser stops at the first error (a dropped connection, a malformed part)
    without telling the upload handler, and the body is often parsed inside another middleware
    (the CSRF check reads the form), so only a wrapper around the whole request sees its end.
    Completed files are not touched: the request closes those itself, which removes them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            return self.get_response(request)
        finally:
            for handler in getattr(request, "_upload_handlers", ()):
                if isinstance(handler, HashingUploadHandler):
                    handler.discard_unfinished()
