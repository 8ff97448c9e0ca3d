"""What one portal account may send the office in files: a count and a size in any 30 days
(messaging/services/quota.py, ASVS 5.2.4)."""

from __future__ import annotations

import copy
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinicportal.accounts.services.portal_access import authorized_user_link
from clinicportal.content.models import Blob
from clinicportal.messaging.models import Attachment, Message
from clinicportal.messaging.services import sending
from clinicportal.messaging.services.quota import QUOTA_DAYS
from tests.conftest import GUARDIAN_PASSWORD, PDF_BYTES, actor, add_guardian, portal_login
from tests.secure_messages import reply
from tests.test_portal_messages import field_error, send
from tests.test_upload_failures import named


def pdfs(count: int, start: int = 0) -> list:
    # Each its own content: the storage keeps one copy of equal files, the quota counts each.
    return [
        named(f"scan-{n}.pdf", PDF_BYTES + b"%" + str(n).encode())
        for n in range(start, start + count)
    ]


@pytest.fixture
def three_files(settings):
    settings.CLINICPORTAL_PORTAL_UPLOAD_QUOTA_FILES = 3


def test_files_past_the_account_s_limit_are_refused_kindly_and_nothing_is_sent(
    ada_portal: Client, three_files
) -> None:
    assert send(ada_portal, attachments=pdfs(2)).status_code == 302
    before = (Message.objects.count(), Attachment.objects.count(), Blob.objects.count())

    refused = send(ada_portal, body="Two more scans.", attachments=pdfs(2, start=2))
    assert refused.status_code == 400
    html = refused.content.decode()
    error = field_error(html, "attachments")
    assert "This account has sent 2 files (" in error
    assert f"in the last {QUOTA_DAYS} days" in error
    assert (
        "These 2 files would take it past the portal’s limit of 3 files and 500.0\xa0MB, so "
        "nothing was sent."
    ) in error
    assert "call the office at (207) 555-0100" in error
    assert "Two more scans." in html  # what she typed is kept
    assert (Message.objects.count(), Attachment.objects.count(), Blob.objects.count()) == before

    # Up to the limit is taken, and a message without files always is.
    assert send(ada_portal, attachments=pdfs(1, start=4)).status_code == 302
    assert send(ada_portal, body="No files this time.").status_code == 302
    assert Attachment.objects.count() == 3


def test_the_size_counts_too(ada_portal: Client, settings) -> None:
    one = len(PDF_BYTES) + 2
    limit = settings.CLINICPORTAL_PORTAL_UPLOAD_QUOTA_BYTES = 2 * one + 1
    assert send(ada_portal, attachments=pdfs(2)).status_code == 302
    refused = send(ada_portal, attachments=pdfs(1, start=2))
    assert refused.status_code == 400
    assert (
        f"This file would take it past the portal’s limit of 100 files and {limit}\xa0bytes"
        in field_error(refused.content.decode(), "attachments")
    )


def test_files_sent_more_than_thirty_days_ago_no_longer_count(
    ada_portal: Client, three_files
) -> None:
    assert send(ada_portal, attachments=pdfs(3)).status_code == 302
    assert send(ada_portal, attachments=pdfs(1, start=3)).status_code == 400
    Message.objects.update(created_at=timezone.now() - timedelta(days=QUOTA_DAYS, minutes=1))
    assert send(ada_portal, attachments=pdfs(3, start=3)).status_code == 302


def test_a_guardian_s_files_for_each_child_count_together(
    client: Client, alice, patient_a, patient_b, practice_x, three_files
) -> None:
    add_guardian(alice, patient_a)
    authorized_user_link(actor=actor(alice), patient=patient_b, username="mary", note="guardian")
    portal_login(client, practice_x, "mary", GUARDIAN_PASSWORD)
    for patient, start, status in ((patient_a, 0, 302), (patient_b, 2, 400)):
        client.post("/p/clinic-x/choose/", {"patient": str(patient.public_id)})
        assert send(client, attachments=pdfs(2, start=start)).status_code == status


def test_the_office_sends_without_a_limit(ada_portal: Client, bob_client: Client, three_files):
    assert send(ada_portal, attachments=pdfs(3)).status_code == 302
    asked = Message.objects.get(writer="patient")
    assert reply(bob_client, asked, attachments=pdfs(2, start=3)).status_code == 302
    assert Attachment.objects.count() == 5


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite writes one at a time")
def test_the_count_is_taken_with_the_account_locked(ada_portal: Client, three_files) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert send(ada_portal, attachments=pdfs(1)).status_code == 302
    locked = [q["sql"] for q in queries if 'FROM "accounts_portalaccount"' in q["sql"]]
    assert any(sql.endswith("FOR UPDATE") for sql in locked), locked


class TwinPosts:
    """One browser's form posted twice at once, with one file: the first post holds its
    transaction open (at its audit row) until ``go`` is set, and the twin posts meanwhile."""

    KEY = "one-double-click"

    def __init__(self, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
        self.client = client
        self.answers: dict[str, Any] = {}
        self.inside, self.go = threading.Event(), threading.Event()
        self.first = threading.Thread(target=self._first_post, name="first")
        record = sending.audit_record

        def held(**kwargs: Any) -> Any:
            if threading.current_thread().name == "first":
                self.inside.set()
                self.go.wait(10)
            return record(**kwargs)

        monkeypatch.setattr(sending, "audit_record", held)

    def _first_post(self) -> None:
        self.answers["first"] = send(self.client, key=self.KEY, attachments=pdfs(1))
        connection.close()

    def post(self) -> tuple[Any, Any]:
        """Both answers, the first post's and its twin's."""
        self.first.start()
        assert self.inside.wait(10)
        twin = Client()
        twin.cookies = copy.deepcopy(self.client.cookies)
        self.answers["second"] = send(twin, key=self.KEY, attachments=pdfs(1))
        self.first.join(10)
        return self.answers["first"], self.answers["second"]


def sent_once(first: Any, second: Any) -> None:
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Message.objects.filter(writer="patient").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_form_posted_twice_at_once_at_the_limit_is_sent_once_and_both_say_so(
    ada_portal: Client, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CLINICPORTAL_PORTAL_UPLOAD_QUOTA_FILES = 1
    twins = TwinPosts(ada_portal, monkeypatch)
    threading.Timer(0.5, twins.go.set).start()  # the twin is waiting on the first by then
    sent_once(*twins.post())


def test_files_past_the_limit_and_a_form_posted_again_are_not_checked_again(
    ada_portal: Client, three_files, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[int] = []
    validate = sending.uploads_validate

    def counted(uploads: Any) -> Any:
        checked.append(len(uploads))
        return validate(uploads)

    monkeypatch.setattr(sending, "uploads_validate", counted)
    first = send(ada_portal, key="sent-once", attachments=pdfs(3))
    again = send(ada_portal, key="sent-once", attachments=pdfs(3))  # a reload that posts again
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert send(ada_portal, attachments=pdfs(1, start=3)).status_code == 400  # past the limit
    assert checked == [3]  # only the first post's files were opened and scanned


@pytest.mark.django_db(transaction=True)
def test_a_twin_post_sent_between_its_look_up_and_the_first_count_is_not_refused(
    ada_portal: Client, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CLINICPORTAL_PORTAL_UPLOAD_QUOTA_FILES = 1
    twins = TwinPosts(ada_portal, monkeypatch)
    count = sending.portal_upload_quota_check

    def twin_count(**kwargs: Any) -> Any:  # the twin found no message; the first commits now
        if threading.current_thread().name != "first" and kwargs.get("lock") is False:
            twins.go.set()
            twins.first.join(10)
        return count(**kwargs)

    monkeypatch.setattr(sending, "portal_upload_quota_check", twin_count)
    sent_once(*twins.post())
