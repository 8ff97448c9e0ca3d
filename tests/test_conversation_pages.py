"""A long conversation shows its newest messages, and pages back, at both doors.

Every page of it costs the same queries, whatever the conversation's length.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from clinicportal.core.context import PortalActor
from clinicportal.messaging import services
from clinicportal.messaging.selectors import HISTORY_PER_PAGE
from clinicportal.messaging.services import Draft
from tests.conftest import actor
from tests.secure_messages import conversation_url, count_queries, start


def replies(alice, asked, count: int) -> None:
    for number in range(count):
        services.office_send(
            actor=actor(alice),
            patient=asked.patient,
            conversation=asked.conversation,
            draft=Draft(body=f"Reply number {number}."),
            send_email=False,
        )


def earlier_link(html: str) -> str:
    found = re.search(r'<a href="(\?page=[^"]+)" rel="prev">Earlier messages</a>', html)
    assert found, "no link to earlier messages"
    return found.group(1).replace("&amp;", "&")


@pytest.mark.parametrize("door", ["office", "portal"])
def test_a_long_conversation_opens_on_its_newest_messages_and_pages_back(
    door, bob_client, ada_portal, alice, patient_a
):
    asked = start(PortalActor(account=ada_portal_account(patient_a), patient=patient_a))
    replies(alice, asked, HISTORY_PER_PAGE + 2)
    client = bob_client if door == "office" else ada_portal
    url = (
        conversation_url(asked)
        if door == "office"
        else reverse("portal:conversation", args=["clinic-x", asked.conversation.public_id])
    )
    newest = client.get(url).content.decode()
    assert f"Reply number {HISTORY_PER_PAGE + 1}." in newest
    assert "I would like a refill" not in newest  # the first message is a page back
    earlier = client.get(url + earlier_link(newest)).content.decode()
    assert "I would like a refill" in earlier and "Reply number 0." in earlier
    assert f"Reply number {HISTORY_PER_PAGE + 1}." not in earlier
    assert "Later messages" in earlier and "Newest messages" in earlier

    first = count_queries(client, url)
    back = count_queries(client, url + earlier_link(newest))
    replies(alice, asked, HISTORY_PER_PAGE)
    client.get(url)  # read what came in, so that each page now counts the same
    assert count_queries(client, url) == first
    assert count_queries(client, url + earlier_link(client.get(url).content.decode())) == back


def ada_portal_account(patient):
    from clinicportal.accounts.models import PortalGrant

    return PortalGrant.objects.get(patient=patient, kind="patient").account
