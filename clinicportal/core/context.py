"""Who is acting, from where: passed from views into services for the audit trail."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from clinicportal.accounts.models import ApiKey, PortalAccount, User
    from clinicportal.patients.models import Patient
    from clinicportal.practices.models import Practice, StaffMember

USER_AGENT_MAX = 300
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


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
    """Return the address of the client that made the request, for throttles and the trail.

    REMOTE_ADDR is whoever opened the connection to the app server: gunicorn sets it to its
    peer, and its --forwarded-allow-ips does not rewrite it. Behind a load balancer that peer is
    the balancer, so when (and only when) it is one of CLINICPORTAL_TRUSTED_PROXIES its
    X-Forwarded-For is read, from the right: each proxy appends the address it saw, so the
    first address from the right that is not a trusted proxy is the client. What lies further
    left was written by the client and is never believed. A malformed entry ends the walk at
    the last address a trusted proxy vouched for.
    """
    peer = _address(str(request.META.get("REMOTE_ADDR", "")))
    if peer is None:
        return None
    trusted = settings.CLINICPORTAL_TRUSTED_PROXIES
    if not _is_trusted(peer, trusted):
        return str(peer)
    client = peer
    for hop in reversed(str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")):
        address = _address(hop)
        if address is None:
            break
        client = address
        if not _is_trusted(address, trusted):
            break
    return str(client)


def _address(text: str) -> IPAddress | None:
    """Return ``text`` as an IP address (IPv4-mapped IPv6 as IPv4), or None if it is not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, proxies: Iterable[IPNetwork]) -> bool:
    return any(address in network for network in proxies)


def user_agent(request: HttpRequest) -> str:
    return str(request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX]


BROWSER_TAG_LENGTH = 32


def browser_tag(request: HttpRequest) -> str:
    """Something the same browser sends with every form, and another never does: a keyed hash
    of its CSRF cookie's secret ("" before it has one). Two posts of one form at once (a double
    click) carry the same tag, though each may start a session of its own."""
    secret = request.META.get("CSRF_COOKIE")
    if not secret:
        return ""
    return salted_hmac("browser-tag", str(secret), algorithm="sha256").hexdigest()[
        :BROWSER_TAG_LENGTH
    ]
