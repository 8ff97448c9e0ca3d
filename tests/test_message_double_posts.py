"""A double-clicked Send makes one message: two identical posts at once, on PostgreSQL.

Both posts carry the form's one-time key. The database holds the second at the key's unique
index until the first commits, then refuses it; the second then answers with the first's
message. Posted from two real threads to the live server with one session, as a browser would.
"""

from __future__ import annotations

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from clinicportal.messaging.models import Conversation, Message, Task
from clinicportal.notifications.models import OutboxEmail
from tests.conftest import login
from tests.test_double_submits import hidden_fields, post_twice_at_once


def browser_of(client: Client) -> requests.Session:
    browser = requests.Session()
    name = settings.SESSION_COOKIE_NAME
    browser.cookies.set(name, client.cookies[name].value)
    return browser


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers: SQLite takes one write transaction at a time")


@pytest.mark.django_db(transaction=True)
def test_two_sends_at_once_from_the_portal_make_one_message(live_server, ada_portal, practice_x):
    browser = browser_of(ada_portal)
    url = live_server.url + reverse("portal:message_new", args=[practice_x.slug])
    fields = hidden_fields(browser.get(url, timeout=30).text, 'name="subject"')
    assert fields.get("key")
    data = {
        **fields,
        "category": "refill",
        "subject": "Refill",
        "body": "Please refill my drops.",
        "requests_response": "on",
    }
    answers = post_twice_at_once(browser, url, data)
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert Conversation.objects.count() == 1
    assert Message.objects.filter(writer="patient").count() == 1
    assert Message.objects.filter(writer="automatic").count() == 1
    assert Task.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_replies_at_once_from_the_office_make_one_message(
    live_server, ada_portal, alice, patient_a, practice_x, email_settings
):
    ada_portal.post(
        reverse("portal:message_new", args=[practice_x.slug]),
        {"category": "refill", "subject": "Refill", "body": "Please refill.", "key": "k1"},
    )
    conversation = Conversation.objects.get()
    staff = login(Client(), alice)
    browser = browser_of(staff)
    url = live_server.url + reverse(
        "office:conversation", args=[patient_a.public_id, conversation.public_id]
    )
    fields = hidden_fields(browser.get(url, timeout=30).text, 'name="body"')
    asked = Message.objects.get(writer="patient")
    data = {
        **fields,
        "body": "Sent to your pharmacy.",
        "office_notes": "eRx",
        "answering": str(asked.public_id),
        "send_email": "on",
    }
    answers = post_twice_at_once(browser, url, data)
    assert [a.status_code for a in answers] == [302, 302]
    assert Message.objects.filter(writer="office").count() == 1
    assert OutboxEmail.objects.filter(kind="message_waiting").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_saves_to_chart_at_once_make_one_chart_file(
    live_server, alice, patient_a, issue_access
):
    from clinicportal.messaging.models import Attachment
    from clinicportal.patients.models import ChartFile
    from tests.conftest import PDF_BYTES
    from tests.secure_messages import hashed, portal_actor, start

    asked = start(
        portal_actor(patient_a, "ada", issue_access),
        uploads=(hashed("card.pdf", PDF_BYTES + b"card"),),
    )
    document = Attachment.objects.get(message=asked).portal_document
    assert document is not None
    browser = browser_of(login(Client(), alice))
    page = live_server.url + reverse("office:patient", args=[patient_a.public_id])
    url = live_server.url + reverse(
        "office:portal_document_save_to_chart", args=[patient_a.public_id, document.public_id]
    )
    fields = hidden_fields(browser.get(page, timeout=30).text, "Save to chart")
    answers = post_twice_at_once(browser, url, fields)
    assert [a.status_code for a in answers] == [302, 302]
    assert ChartFile.objects.filter(patient=patient_a).count() == 1
