"""Portal sessions: who is signed in at which practice's portal, for which patient.

The server enforces the idle time-out (the practice's setting) and an absolute lifetime; no
request parameter changes either. A session also needs its PortalSession row, so the office
or a password change can end it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache, partial, wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from clinicportal.accounts.models import PortalAccount
from clinicportal.accounts.selectors import portal_session_patients
from clinicportal.accounts.services.sessions import (
    portal_session_start,
    portal_session_touch,
    portal_sign_out,
    session_rows_rekey,
)
from clinicportal.core import session_state
from clinicportal.core.context import PortalActor, client_ip, user_agent
from clinicportal.core.http import never_stored, signed_out
from clinicportal.core.logcontext import bind_actor
from clinicportal.core.session_state import (
    idle_check,
    lifetime_over,
    lifetime_start,
    second_step_await,
    second_step_clear,
    second_step_mark,
)
from clinicportal.messaging.selectors import portal_unread_count, portal_unread_counted
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice
from clinicportal.practices.selectors import practice_by_slug

ACCOUNT = "portal.account"
PRACTICE = "portal.practice"
PATIENT = "portal.patient"
STARTED = "portal.started"
SEEN = "portal.seen"
# Sent by every form that acts for the chosen patient (portal/includes/for_patient.html): the
# patient whose page it was, whom the form then acts for.
FOR_PATIENT = "for_patient"


class PortalRequest(HttpRequest):
    practice: Practice
    portal: PortalActor
    portal_patients: list[Patient]
    # How many office messages wait unread, for the menu: counted as the page began, or again
    # by unread_recount() after a page reads some.
    unread_messages: Callable[[], int]


View = Callable[..., HttpResponseBase]


def sign_in(request: HttpRequest, account: PortalAccount) -> None:
    """Start a new portal session for ``account`` (a new session id: no fixation)."""
    for key in (ACCOUNT, PRACTICE, PATIENT, STARTED, SEEN):
        request.session.pop(key, None)
    second_step_clear(request, PENDING)
    request.session[ACCOUNT] = account.pk
    request.session[PRACTICE] = account.practice_id
    lifetime_start(request, STARTED)
    request.session[SEEN] = request.session[STARTED]
    _new_key(request)  # stores it under the new key, ready for the row below
    portal_session_start(
        account=account,
        session_key=request.session.session_key or "",
        ip=client_ip(request),
        user_agent=user_agent(request),
    )


PENDING = "portal.pending"


def await_second_step(
    request: HttpRequest, account: PortalAccount, next_path: str, awaited_at: datetime | None
) -> None:
    """Remember the sign-in owing its code, and ``awaited_at``: the account's mark for the
    unfinished-sign-in check when this sign-in set it (sign_in_unfinished_watch)."""
    second_step_await(request, PENDING, account.pk, next_path, awaited_at)


def second_step_awaited_at(request: HttpRequest, account_id: int) -> datetime | None:
    """The mark this browser's password set on the account, if it set one."""
    return second_step_mark(request, PENDING, account_id)


def second_step_pending(request: HttpRequest) -> tuple[int, str] | None:
    return session_state.second_step_pending(request, PENDING)


def _forget(request: HttpRequest) -> None:
    for key in (ACCOUNT, PRACTICE, PATIENT, STARTED, SEEN):
        request.session.pop(key, None)


def sign_out(request: PortalRequest, *, timed_out: bool = False) -> None:
    portal_sign_out(
        actor=request.portal, session_key=request.session.session_key or "", timed_out=timed_out
    )
    _forget(request)
    _new_key(request)


def _new_key(request: HttpRequest) -> None:
    """Give the session a new key (no fixation); an office sign-in in the same browser carries
    on under it."""
    old_key = request.session.session_key or ""
    request.session.cycle_key()
    new_key = request.session.session_key or ""
    session_rows_rekey(old_key=old_key, new_key=new_key, office=True, portal=False)


def unread_recount(request: PortalRequest) -> None:
    """Count the menu's unread messages again, when the page asks: it has just read some."""
    request.unread_messages = cache(partial(portal_unread_count, actor=request.portal))


def login_url(practice: Practice, next_path: str | None = None) -> str:
    url = reverse("portal:login", args=[practice.slug])
    return f"{url}?{urlencode({'next': next_path})}" if next_path else url


def portal_required(
    *, allow_temporary: bool = False, needs_patient: bool = True
) -> Callable[[View], View]:
    """Let a signed-in account of this practice through, with ``request.portal`` set.

    A temporary password must be replaced first; an account that sees several patients picks
    one first. A form sent for a patient (``for_patient``) acts for that patient even if another
    was opened since in another tab, so nothing lands in the wrong patient's records; for a
    patient the account no longer opens, nothing is done (409). No answer is stored by the
    browser or a proxy (core.http.never_stored). The view runs in the practice's time zone.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(
            request: HttpRequest, practice_slug: str, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            account_id = request.session.get(ACCOUNT)
            session_key = request.session.session_key or ""
            # The account, its session, its practice and its patients (each with the unread
            # count of the menu) in one query.
            found = (
                portal_session_patients(
                    practice_slug=practice_slug,
                    account_id=account_id,
                    session_key=session_key,
                    unread_messages=portal_unread_counted(),
                )
                if account_id
                else None
            )
            if found is None:
                practice = practice_by_slug(practice_slug)
                to_login = redirect(login_url(practice, request.get_full_path()))
                if account_id and request.session.get(PRACTICE) == practice.pk:
                    _forget(request)  # its session was ended elsewhere: signed out now
                    messages.info(request, _("You were signed out. Please sign in again."))
                    return signed_out(to_login)
                # else: never signed in, or signed in at another practice's portal. That
                # sign-in is not for this one, and a visit here leaves it as it is.
                return to_login
            account, patients = found
            practice = account.practice
            chosen = next((p for p in patients if p.pk == request.session.get(PATIENT)), None)
            if chosen is None and len(patients) == 1:
                chosen = patients[0]
            posted_for = request.POST.get(FOR_PATIENT) if request.method == "POST" else None
            meant = chosen
            if posted_for is not None and (chosen is None or posted_for != str(chosen.public_id)):
                # A page of another patient, sent after this one was opened in another tab:
                # it acts for the patient whose page it is, if the account still may.
                meant = next((p for p in patients if str(p.public_id) == posted_for), None)
                if meant is not None:
                    chosen = meant
                    messages.info(
                        request,
                        _(
                            "That page was for %(name)s, so it was taken for %(name)s, whose "
                            "portal is open again."
                        )
                        % {"name": meant.full_name},
                    )
            if chosen is not None and request.session.get(PATIENT) != chosen.pk:
                request.session[PATIENT] = chosen.pk  # saved only when it changes
            actor = PortalActor(
                account=account,
                patient=chosen,
                ip=client_ip(request),
                user_agent=user_agent(request),
            )
            bind_actor(actor)
            portal_request: PortalRequest = request  # type: ignore[assignment]
            portal_request.practice = practice
            portal_request.portal = actor
            portal_request.portal_patients = patients
            unread = chosen.unread_messages if chosen is not None else 0  # type: ignore[attr-defined]
            portal_request.unread_messages = lambda: unread
            idle = idle_check(
                request, SEEN, practice.portal_idle_minutes * 60, unstamped_is_idle=True
            )
            if lifetime_over(request, STARTED) or idle.expired:
                sign_out(portal_request, timed_out=True)
                messages.info(
                    request,
                    _("You were signed out to protect your information. Please sign in again."),
                )
                return signed_out(redirect(login_url(practice)))
            if idle.stamped:
                portal_session_touch(session_key=session_key)
            if account.password_is_temporary and not allow_temporary:
                return redirect("portal:set_password", practice.slug)
            if needs_patient and chosen is None:
                return redirect("portal:choose_patient", practice.slug)
            # The page shows the practice's dates and times, and its "today" is the practice's.
            with timezone.override(practice.zone):
                if meant is None and posted_for is not None:
                    return render(request, "portal/patient_not_yours.html", status=409)
                return view(portal_request, *args, **kwargs)

        return never_stored(wrapped)

    return decorator
