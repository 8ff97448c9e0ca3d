"""Create forms take effect once: a repeat of the same post answers as the first did.

A double click, or a request that a browser or a proxy sends again, posts the same form twice,
and each post used to make its own patient, document or email. Every office form that creates
something carries a one-time token (``{% load once %}{% submission_field %}`` in the form) and
its view runs the write through ``submit_once``. The token is claimed, as a FormSubmission row
with a unique token, in the same database transaction as the write. So:

- a second post with the token writes nothing and gets the first's answer: the same redirect
  and message, or a page shown once (a password slip) again, for a few minutes, to the same
  user in the same session;
- two posts at the same moment are no different: the database makes the second wait for the
  first (PostgreSQL on the unique index, SQLite for its single writer), then it finds the claim;
- a write that fails (a refused file, a form error) takes its claim back with it, so the form
  can be corrected and sent again.

A post without a token (a page loaded before tokens existed, a script) is taken as a new
submission: refusing it would break them, and it is no worse than before tokens. A token that
another user claimed is refused with a kind page, and nothing is written. ``clinicportal sweep``
forgets claims after a day (``form_submissions_prune``); by then the form's session is over.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from clinicportal.accounts.models import FormSubmission
from clinicportal.core.context import StaffActor
from clinicportal.core.errors import already_sent
from clinicportal.core.http import redirect_after_upload

FIELD = "submission"
KEEP = datetime.timedelta(days=1)
PRIVATE_KEEP = datetime.timedelta(minutes=10)

Private = Mapping[str, Any]


@dataclass(frozen=True)
class Sent:
    """What a form's write answers: go to ``url`` and say ``message`` there.

    ``private`` is for a page shown instead, once (a password slip): data for ``submit_once``'s
    ``page``, as JSON gives it back (dates become ISO strings). A repeat that may not see that
    page again goes to ``url`` and says ``message``.
    """

    url: str
    message: str = ""
    private: Private | None = None


def submission_token() -> str:
    return secrets.token_urlsafe(24)


def submit_once(
    request: HttpRequest,
    *,
    actor: StaffActor,
    write: Callable[[], Sent],
    page: Callable[[Private], HttpResponse] | None = None,
    show_again: bool = True,
) -> HttpResponse:
    """Run ``write`` once for the posted form's token; answer a repeat as the first was answered.

    ``write`` calls the service and says where to go next; what it raises (a ValidationError)
    takes the claim back with the write and goes on to the caller. With ``page``, the answer is
    ``page(sent.private)``, and a repeat shows it again, from ``sent.private`` kept encrypted,
    only within PRIVATE_KEEP, to the same user in the same session; never with ``show_again``
    False (for a secret that must be kept nowhere, like an API key).
    """
    token = request.POST.get(FIELD, "")
    if not token:
        return _answer(request, write(), page)
    token_hash = _digest(token)
    sent: Sent | None = None
    with transaction.atomic():
        claim = _claim(request, actor, token_hash)
        if claim is not None:
            sent = write()
            _keep(claim, sent, private=page is not None and show_again)
    if sent is None:
        return _repeat(request, actor, token_hash, page)
    return _answer(request, sent, page)


def form_submissions_prune() -> int:
    """Wipe slips past PRIVATE_KEEP and forget claims older than KEEP; return how many rows."""
    now = timezone.now()
    FormSubmission.objects.filter(private_until__lt=now).update(private="", private_until=None)
    deleted, _ = FormSubmission.objects.filter(created_at__lt=now - KEEP).delete()
    return deleted


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _session_hash(request: HttpRequest) -> str:
    key = request.session.session_key
    return _digest(key) if key else ""


def _claim(request: HttpRequest, actor: StaffActor, token_hash: str) -> FormSubmission | None:
    try:
        with transaction.atomic():
            return FormSubmission.objects.create(
                token_hash=token_hash,
                user=actor.user,
                practice=actor.practice,
                session_hash=_session_hash(request),
            )
    except IntegrityError:
        return None  # claimed by the first post, which has committed its write with it


def _as_json(private: Private) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(private, cls=DjangoJSONEncoder))
    return loaded


def _keep(claim: FormSubmission, sent: Sent, *, private: bool) -> None:
    claim.url, claim.message = sent.url, sent.message
    if private and sent.private is not None:
        claim.private = json.dumps(_as_json(sent.private))
        claim.private_until = timezone.now() + PRIVATE_KEEP
    claim.save()


def _answer(
    request: HttpRequest, sent: Sent, page: Callable[[Private], HttpResponse] | None
) -> HttpResponse:
    if page is not None and sent.private is not None:
        return page(_as_json(sent.private))
    if sent.message:
        messages.success(request, sent.message)
    return redirect_after_upload(request, sent.url)


def _repeat(
    request: HttpRequest,
    actor: StaffActor,
    token_hash: str,
    page: Callable[[Private], HttpResponse] | None,
) -> HttpResponse:
    claim = FormSubmission.objects.filter(token_hash=token_hash).first()
    if claim is None or claim.user_id != actor.user.pk:
        return already_sent(request)
    if page is None:
        return _answer(request, Sent(claim.url, claim.message), None)
    private = _private_of(request, claim)
    if private is not None:
        return page(private)
    if claim.message:
        messages.info(request, claim.message)
    return redirect_after_upload(request, claim.url)


def _private_of(request: HttpRequest, claim: FormSubmission) -> dict[str, Any] | None:
    """The first answer's page data, for the same session only, until it is wiped."""
    if not claim.private or claim.private_until is None:
        return None
    if claim.private_until < timezone.now():
        FormSubmission.objects.filter(pk=claim.pk).update(private="", private_until=None)
        return None
    if not claim.session_hash or claim.session_hash != _session_hash(request):
        return None
    loaded: dict[str, Any] = json.loads(claim.private)
    return loaded
