"""The client's address: the peer's, unless a trusted proxy says whom it is forwarding for.

Throttles and the audit trail both use it, so a client must not be able to choose it by
sending its own X-Forwarded-For.
"""

from __future__ import annotations

import ipaddress

import pytest
from django.test import Client, RequestFactory

from clinicportal.accounts.models import LoginFailure
from clinicportal.audit.models import AuditEvent
from clinicportal.core.context import client_ip
from tests.conftest import portal_login

BALANCERS = (ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("2001:db8:1::/64"))


def address(peer: str, forwarded_for: str | None = None) -> str | None:
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    return client_ip(RequestFactory(REMOTE_ADDR=peer).get("/", headers=headers))


@pytest.fixture
def balancers(settings):
    settings.CLINICPORTAL_TRUSTED_PROXIES = BALANCERS


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards(settings):
    assert settings.CLINICPORTAL_TRUSTED_PROXIES == ()
    assert address("10.0.0.5", "198.51.100.7") == "10.0.0.5"
    assert address("203.0.113.9") == "203.0.113.9"


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(balancers):
    assert address("203.0.113.9", "198.51.100.7") == "203.0.113.9"
    assert address("203.0.113.9", "10.0.0.5") == "203.0.113.9"


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # One balancer: it appended the address it saw.
        ("10.0.0.5", "198.51.100.7", "198.51.100.7"),
        # The client wrote its own entry first; the balancer's, on the right, is believed.
        ("10.0.0.5", "1.2.3.4, 198.51.100.7", "198.51.100.7"),
        # A chain of trusted proxies, each appending the one before it.
        ("10.0.0.5", "1.2.3.4, 198.51.100.7, 10.0.0.9, 10.0.0.8", "198.51.100.7"),
        # Repeated headers are joined with commas by the server; spaces do not matter.
        ("10.0.0.5", "198.51.100.7,10.0.0.9", "198.51.100.7"),
        ("2001:db8:1::5", "2001:db8:2::7", "2001:db8:2::7"),
        ("::ffff:10.0.0.5", "198.51.100.7", "198.51.100.7"),
    ],
)
def test_a_chain_through_trusted_proxies_names_the_client(balancers, peer, forwarded_for, client):
    assert address(peer, forwarded_for) == client


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        (None, "10.0.0.5"),
        ("", "10.0.0.5"),
        ("not-an-address", "10.0.0.5"),
        ("198.51.100.7:4431", "10.0.0.5"),
        ("198.51.100.7, garbage, 10.0.0.9", "10.0.0.9"),
        ("198.51.100.7, , 10.0.0.9", "10.0.0.9"),
        ("10.0.0.9, 10.0.0.8", "10.0.0.9"),  # only proxies: the farthest one vouched for
    ],
)
def test_malformed_forwarded_values_stop_at_the_last_address_vouched_for(
    balancers, forwarded_for, client
):
    assert address("10.0.0.5", forwarded_for) == client


def test_a_malformed_peer_address_is_none():
    assert address("") is None
    assert address("unix:/run/gunicorn.sock") is None


def test_throttles_and_the_trail_record_the_client_behind_the_balancer(
    balancers, practice_x, patient_a, issue_access
):
    username, _ = issue_access(patient_a, "ada")
    behind = Client(REMOTE_ADDR="10.0.0.5", headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.7"})
    portal_login(behind, practice_x, username, "wrong-password-guess")
    spoofed = Client(REMOTE_ADDR="203.0.113.9", headers={"X-Forwarded-For": "198.51.100.7"})
    portal_login(spoofed, practice_x, username, "wrong-password-guess")
    assert set(LoginFailure.objects.values_list("ip", flat=True)) == {"198.51.100.7", "203.0.113.9"}
    failed = AuditEvent.objects.filter(action=AuditEvent.Action.PORTAL_LOGIN_FAILED)
    assert set(failed.values_list("ip", flat=True)) == {"198.51.100.7", "203.0.113.9"}
