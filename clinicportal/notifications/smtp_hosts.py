"""Which mail servers a practice's email settings may name.

Email carries patients' names and single-use sign-in links, and the server's password goes with
it, so:

- Without encryption (security "None") only a server on this machine is allowed: every address
  the name resolves to must be a loopback address. Anywhere else the mail and the password would
  cross a network in the clear.
- A server inside a private network (RFC 1918, unique-local, link-local, shared or other
  addresses that are not on the internet) is refused, unless the operator allows it with
  CLINICPORTAL_SMTP_ALLOW_PRIVATE=true. Otherwise an admin's settings could make the worker
  connect to, and talk to, machines on the hosting network that no one meant to expose.

The name is resolved and every address it gives is checked: a name with one public address and
one private one is refused. The check runs when the settings are saved (a form error) and again
before the worker connects (the email fails with the same words), since what a name resolves to
can change.
"""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

NONE = "none"  # EmailSettings.Security.NONE


def smtp_server_check(*, host: str, port: int, security: str) -> None:
    """Raise a ValidationError naming the field at fault unless the settings may use ``host``."""
    addresses = _resolve(host, port)
    if all(address.is_loopback for address in addresses):
        return  # this machine: a local relay, or the demo's and the tests' servers
    if security == NONE:
        raise ValidationError(
            {
                "security": _(
                    "Please choose STARTTLS or TLS. Without encryption, email and the mail "
                    "server's password would cross the network readable by anyone on the way; "
                    "“None” is only for a mail server on this machine."
                )
            }
        )
    inside = [str(a) for a in addresses if not a.is_global]
    if inside and not settings.CLINICPORTAL_SMTP_ALLOW_PRIVATE:
        raise ValidationError(
            {
                "host": _(
                    "“%(host)s” is inside a private network (%(addresses)s), so email cannot be "
                    "sent through it. Please use your email provider’s server. If your mail "
                    "server really is on your own network, the person who runs Clinic Portal "
                    "can allow it with the setting CLINICPORTAL_SMTP_ALLOW_PRIVATE."
                )
                % {"host": host, "addresses": ", ".join(sorted(set(inside)))}
            }
        )


def _resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    not_found = ValidationError(
        {
            "host": _(
                "We could not find the mail server “%(host)s”. Please check its name, "
                "or try again in a moment."
            )
            % {"host": host}
        }
    )
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise not_found from None
    addresses = []
    for *_info, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]))
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        addresses.append(address)
    if not addresses:
        raise not_found
    return addresses
