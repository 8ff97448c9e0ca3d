"""Email settings name an encrypted server on the internet, or one on this machine.

Plain SMTP would carry patients' names, sign-in links and the server's password in the clear;
a server inside a private network would let an admin point the worker at the hosting network's
machines. Both are refused, kindly, next to the field, and again before the worker connects.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinicportal.notifications.models import EmailSettings, OutboxEmail
from tests.conftest import run_worker

PUBLIC = "93.184.215.14"


def save(client, host: str, security: str = "starttls", port: int = 587):
    return client.post(
        reverse("office:settings_email"),
        {"host": host, "port": str(port), "security": security, "from_address": "p@example.org"},
    )


def test_plain_smtp_is_refused_except_to_this_machine(alice_client, practice_x, dns):
    dns["mail.example.org"] = [PUBLIC]
    for host in (PUBLIC, "mail.example.org"):
        response = save(alice_client, host, security="none")
        assert response.status_code == 200
        assert "Please choose STARTTLS or TLS." in response.content.decode()
        assert response.context["form"].errors["security"]
    assert not EmailSettings.objects.exists()
    for host in ("127.0.0.1", "localhost", "::1"):
        assert save(alice_client, host, security="none", port=2525).status_code == 302, host
        assert EmailSettings.objects.get().host == host


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.10",
        "169.254.169.254",  # link-local: the cloud's metadata service
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "0.0.0.0",  # noqa: S104  (it reaches this machine, under another name)
        "fd00::25",
        "fe80::1",
        "::ffff:10.0.0.5",
    ],
)
def test_a_server_inside_a_private_network_is_refused(alice_client, practice_x, address):
    response = save(alice_client, address)
    assert response.status_code == 200
    html = response.content.decode()
    assert "is inside a private network" in html and "CLINICPORTAL_SMTP_ALLOW_PRIVATE" in html
    assert response.context["form"].errors["host"]
    assert not EmailSettings.objects.exists()


def test_every_address_a_name_resolves_to_is_checked(alice_client, practice_x, dns):
    dns["mail.example.org"] = [PUBLIC, "10.1.2.3"]
    response = save(alice_client, "mail.example.org")
    assert "“mail.example.org” is inside a private network (10.1.2.3)" in response.content.decode()
    dns["mail.example.org"] = [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    assert save(alice_client, "mail.example.org").status_code == 302


def test_a_name_that_does_not_resolve_is_refused_kindly(alice_client, practice_x):
    response = save(alice_client, "no-such-server.invalid")
    assert "We could not find the mail server “no-such-server.invalid”." in (
        response.content.decode()
    )
    assert not EmailSettings.objects.exists()


def test_the_operator_may_allow_private_servers(alice_client, practice_x, settings, dns):
    settings.CLINICPORTAL_SMTP_ALLOW_PRIVATE = True
    dns["relay.clinic.internal"] = ["10.0.0.25"]
    assert save(alice_client, "relay.clinic.internal").status_code == 302
    # Still encrypted: the private network is a network too.
    response = save(alice_client, "relay.clinic.internal", security="none")
    assert "Please choose STARTTLS or TLS." in response.content.decode()
    assert EmailSettings.objects.get().security == "starttls"


@pytest.mark.django_db(transaction=True)
def test_the_worker_checks_again_before_it_connects(alice_client, email_settings, dns):
    # Saved while it was allowed, or its name now resolves inside: no connection is made.
    dns["mail.example.org"] = ["192.168.0.9"]
    EmailSettings.objects.update(host="mail.example.org", security="starttls")
    alice_client.post(reverse("office:settings_email"), {"action": "test", "to": "me@example.com"})
    run_worker()
    email = OutboxEmail.objects.get()
    assert email.status == "queued" and "is inside a private network" in email.last_error
