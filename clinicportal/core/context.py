"""Who is acting, from where: passed from views into services for the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from clinicportal.accounts.models import ApiKey, PortalAccount, User
    from clinicportal.patients.models import Patient
    from clinicportal.practices.models import Practice, StaffMember

USER_AGENT_MAX = 300


@dataclass(frozen=True)
class StaffActor:
    """A staff member acting in their own practice, with the request's address and browser."""

    user: User
    staff: StaffMember
    ip: str | None = None
    user_agent: str = ""

    @property
    def practice(self) -> Practice:
        return self.staff.practice

    @property
    def is_admin(self) -> bool:
        return self.staff.is_admin

    @property
    def name(self) -> str:
        return self.staff.display_name


@dataclass(frozen=True)
class PortalActor:
    """A signed-in portal account, acting for one of the patients it is granted."""

    account: PortalAccount
    patient: Patient | None
    ip: str | None = None
    user_agent: str = ""

    @property
    def practice(self) -> Practice:
        return self.account.practice

    @property
    def name(self) -> str:
        return self.account.display_name


@dataclass(frozen=True)
class VisitorActor:
    """Someone not signed in at a practice's door (a failed sign-in, a reset request)."""

    practice: Practice
    ip: str | None = None
    user_agent: str = ""
    name: str = ""


@dataclass(frozen=True)
class ApiActor:
    """A program calling the machine API with one of the practice's API keys."""

    api_key: ApiKey
    ip: str | None = None
    user_agent: str = ""

    @property
    def practice(self) -> Practice:
        return self.api_key.practice

    @property
    def name(self) -> str:
        # Stored in the trail as written (see audit_record), in the language of the request.
        return _("API key “%(name)s” (cpk_%(prefix)s_…)") % {
            "name": self.api_key.name,
            "prefix": self.api_key.prefix,
        }


Actor = StaffActor | PortalActor | VisitorActor | ApiActor


def client_ip(request: HttpRequest) -> str | None:
    """Return the client's address as the web server saw it.

    REMOTE_ADDR only: behind a proxy, the proxy must set it (gunicorn's --forwarded-allow-ips),
    since a client-supplied X-Forwarded-For cannot be trusted.
    """
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request: HttpRequest) -> str:
    return str(request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX]
