"""Never doubled: a form sent twice (a double click, a retried request) takes effect once.

Create forms carry a one-time token; two posts with the same token, even at the same moment,
make one thing and both land on the first's answer. The concurrency tests post from two real
threads to the live server, with one session cookie, as a browser would.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import run_worker

LINK = re.compile(r"http://testserver(/p/clinic-x/password/[\w-]+/)")


def _link_in(message) -> str:
    found = LINK.search(message.get_body(("plain",)).get_content())
    assert found is not None
    return found.group(1)


@pytest.mark.django_db(transaction=True)
def test_only_the_newest_set_password_link_works(
    alice_client, patient_a, email_settings, smtp_server, issue_access
):
    issue_access(patient_a, "ada")
    url = reverse("office:portal_access_email", args=[patient_a.public_id])
    assert alice_client.post(url).status_code == 302
    assert alice_client.post(url).status_code == 302  # pressed again, on purpose
    run_worker()
    older, newer = (_link_in(m) for m in smtp_server.messages)
    assert older != newer
    patient = Client()
    ended = patient.get(older)
    assert ended.status_code == 410
    assert "A newer link was sent" in ended.content.decode()
    new = "quiet-harbor-lamp-2044"
    refused = patient.post(older, {"new_password": new, "confirm_password": new})
    assert refused.status_code == 410
    assert patient.post(newer, {"new_password": new, "confirm_password": new}).status_code == 302
    assert patient.post("/p/clinic-x/login/", {"username": "ada", "password": new}).status_code == (
        302
    )


@pytest.mark.django_db(transaction=True)
def test_a_new_reset_link_ends_the_earlier_one_but_not_the_office_link(
    alice_client, patient_a, ada_portal, email_settings, smtp_server
):
    alice_client.post(reverse("office:portal_access_email", args=[patient_a.public_id]))
    run_worker()
    for _ in range(2):
        Client().post("/p/clinic-x/forgot/", {"identifier": "ada"})
        run_worker()
    office, first_reset, second_reset = (_link_in(m) for m in smtp_server.messages)
    patient = Client()
    assert patient.get(first_reset).status_code == 410
    assert patient.get(second_reset).status_code == 200
    # An anonymous "Forgot your password?" cannot end the link the office sent.
    assert patient.get(office).status_code == 200
