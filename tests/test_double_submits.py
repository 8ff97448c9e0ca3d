"""Never doubled: a form sent twice (a double click, a retried request) takes effect once.

Create forms carry a one-time token; two posts with the same token, even at the same moment,
make one thing and both land on the first's answer. The concurrency tests post from two real
threads to the live server, with one session cookie, as a browser would.
"""

from __future__ import annotations

import io
import re
import threading

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.urls import reverse

from clinicportal.accounts.models import PortalAccount
from clinicportal.notifications.models import OutboxEmail
from clinicportal.patients.models import ChartFile, Patient
from clinicportal.practices.models import SystemDocument
from clinicportal.records.models import PortalDocument
from tests.conftest import (
    PDF_BYTES,
    actor,
    add_chart_pdf,
    add_guardian,
    login,
    portal_login,
    run_worker,
)

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


# -- Two identical posts at once, from two threads against the live server -------------------

HIDDEN = re.compile(r'<input type="hidden" name="([\w-]+)" value="([^"]*)"')
POST_FORM = re.compile(r'<form\b[^>]*method="post"[^>]*>.*?</form>', re.S)


def hidden_fields(html: str, marker: str) -> dict[str, str]:
    """The hidden fields (CSRF, one-time token ...) of the page's post form holding ``marker``."""
    form = next(f for f in POST_FORM.findall(html) if marker in f)
    return dict(HIDDEN.findall(form))


def signed_in(member) -> requests.Session:
    """A browser's cookies: a staff member signed in."""
    client = Client()
    client.force_login(member.user)
    browser = requests.Session()
    name = settings.SESSION_COOKIE_NAME
    browser.cookies.set(name, client.cookies[name].value)
    return browser


def post_twice_at_once(browser: requests.Session, url: str, data, files=None) -> list:
    """Post the same form from two threads at the same moment, with the browser's cookies."""
    start = threading.Barrier(2)
    answers: list = [None, None]

    def post(index: int) -> None:
        tab = requests.Session()
        tab.cookies.update(browser.cookies)
        start.wait()
        answers[index] = tab.post(url, data=data, files=files, allow_redirects=False, timeout=60)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.parametrize("form", ["share", "chart upload", "portal upload", "email access"])
@pytest.mark.django_db(transaction=True)
def test_two_identical_posts_at_once_make_one_thing(
    live_server, alice, patient_a, email_settings, issue_access, form
):
    issue_access(patient_a, "ada")
    patient_page = reverse("office:patient", args=[patient_a.public_id])
    data = {"document_date": "2026-11-20", "description": "Your exam"}
    files = None
    if form == "share":
        chart_file = add_chart_pdf(alice, patient_a)
        page = url = reverse(
            "office:portal_document_share", args=[patient_a.public_id, chart_file.public_id]
        )
        made = PortalDocument.objects.count
    elif form == "chart upload":
        page = url = reverse("office:chart_file_upload", args=[patient_a.public_id])
        files = {"uploads": ("exam.pdf", PDF_BYTES, "application/pdf")}
        made = ChartFile.objects.count
    elif form == "portal upload":
        page = url = reverse("office:portal_document_upload", args=[patient_a.public_id])
        files = {"upload": ("exam.pdf", PDF_BYTES, "application/pdf")}
        made = PortalDocument.objects.count
    else:
        page, url = patient_page, reverse("office:portal_access_email", args=[patient_a.public_id])
        data = {}
        made = OutboxEmail.objects.count
    browser = signed_in(alice)
    html = browser.get(live_server.url + page, timeout=30).text
    fields = hidden_fields(html, 'name="document_date"' if page == url else f'action="{url}"')
    assert made() == 0
    first, second = post_twice_at_once(browser, live_server.url + url, {**fields, **data}, files)
    assert (first.status_code, second.status_code) == (302, 302)
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"].startswith(patient_page)
    assert made() == 1


# -- The same post again, one after the other, for every create form -------------------------


def _add_patient(**_):
    url = reverse("office:patient_create")
    data = {"first_name": "Grace", "last_name": "Hopper", "date_of_birth": "1906-12-09"}
    count = Patient.objects.filter(first_name="Grace").count
    return url, 'name="first_name"', url, data, count


def _link_authorized_user(patient_a, alice, patient_b, **_):
    add_guardian(alice, patient_b)
    page = reverse("office:authorized_user_add", args=[patient_a.public_id])
    url = reverse("office:authorized_user_link", args=[patient_a.public_id])
    data = {"username": "mary", "note": "aunt"}
    return page, f'action="{url}"', url, data, patient_a.portal_grants.count


def _assign_from_library(patient_a, alice_client, **_):
    library = reverse("office:settings_library_add")
    alice_client.post(library, {"upload": upload("glaucoma.pdf"), "description": "Glaucoma"})
    url = reverse("office:portal_document_assign_system", args=[patient_a.public_id])
    data = {"document": str(SystemDocument.objects.get().public_id), "is_education": "on"}
    return url, 'name="document"', url, data, PortalDocument.objects.count


def _assign_from_other_patient(patient_a, alice, patient_b, **_):
    from clinicportal.records.services import portal_document_share_chart_file

    chart_file = add_chart_pdf(alice, patient_b, "handout.pdf", "Handout")
    handout = portal_document_share_chart_file(
        actor=actor(alice),
        chart_file=chart_file,
        document_date=chart_file.document_date,
        description="Handout",
        is_education=True,
    )
    url = reverse("office:portal_document_assign_other", args=[patient_a.public_id])
    page = f"{url}?from={patient_b.public_id}&document={handout.public_id}"
    url = f"{url}?from={patient_b.public_id}"
    data = {"document": str(handout.public_id), "is_education": "on"}
    return page, 'name="document"', url, data, patient_a.portal_documents.count


def _share_a_health_topic(patient_a, alice_client, request, **_):
    request.getfixturevalue("medlineplus")
    url = reverse("office:portal_document_search_online", args=[patient_a.public_id])
    url = alice_client.post(url, {"q": "glaucoma"})["Location"]  # ?s=<handle>
    return url, 'name="topic"', url, {}, PortalDocument.objects.count


def _add_to_library(**_):
    page = reverse("office:settings_website")
    url = reverse("office:settings_library_add")
    data = {"description": "About glaucoma"}
    return page, f'action="{url}"', url, data, SystemDocument.objects.count


def _send_a_test_email(**_):
    url = reverse("office:settings_email")
    data = {"action": "test", "to": "alice@example.com"}
    return url, 'name="to"', url, data, OutboxEmail.objects.count


def named(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def upload(name: str) -> io.BytesIO:
    return named(name, PDF_BYTES)


@pytest.mark.parametrize(
    "form",
    [
        _add_patient,
        _link_authorized_user,
        _assign_from_library,
        _assign_from_other_patient,
        _share_a_health_topic,
        _add_to_library,
        _send_a_test_email,
    ],
    ids=lambda form: form.__name__.strip("_"),
)
def test_the_same_post_again_answers_as_the_first_and_makes_nothing_more(
    alice_client, alice, patient_a, patient_b, email_settings, request, form
):
    page, marker, url, data, made = form(
        patient_a=patient_a,
        patient_b=patient_b,
        alice=alice,
        alice_client=alice_client,
        request=request,
    )
    fields = hidden_fields(alice_client.get(page).content.decode(), marker)
    assert "submission" in fields
    before = made()
    answers = []
    for _ in range(2):
        files = {"upload": upload("glaucoma.pdf")} if "library" in url else {}
        answers.append(alice_client.post(url, {**fields, **data, **files}))
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"]
    assert made() == before + 1


def add_patient_form(token: str | None) -> dict[str, str]:
    data = {"first_name": "Grace", "last_name": "Hopper", "date_of_birth": "1906-12-09"}
    return {**data, "submission": token} if token else data


def test_a_token_another_user_sent_is_refused_without_writing(alice_client, bob_client):
    url = reverse("office:patient_create")
    assert alice_client.post(url, add_patient_form("tok3n")).status_code == 302
    refused = bob_client.post(url, add_patient_form("tok3n"))
    assert refused.status_code == 409
    assert "This form was already sent" in refused.content.decode()
    assert Patient.objects.filter(first_name="Grace").count() == 1


def test_a_post_without_a_token_is_taken_as_a_new_one(alice_client):
    # Pages loaded before tokens existed, and scripts, keep working as they did.
    url = reverse("office:patient_create")
    for _ in range(2):
        assert alice_client.post(url, add_patient_form(None)).status_code == 302
    assert Patient.objects.filter(first_name="Grace").count() == 2


def test_a_refused_write_leaves_its_token_free_for_the_corrected_form(alice_client, patient_a):
    url = reverse("office:chart_file_upload", args=[patient_a.public_id])
    form = {"document_date": "2026-11-20", "description": "Exam", "submission": "tok3n"}
    refused = alice_client.post(url, {**form, "uploads": named("bad.pdf", b"MZ\x90\x00")})
    assert refused.status_code == 400 and not ChartFile.objects.exists()
    accepted = alice_client.post(url, {**form, "uploads": upload("exam.pdf")})
    assert accepted.status_code == 302 and ChartFile.objects.count() == 1


def test_sweep_forgets_tokens_after_a_day_and_slips_after_minutes(alice_client, patient_a):
    import datetime

    from django.core.management import call_command
    from django.utils import timezone

    from clinicportal.accounts.models import FormSubmission

    alice_client.post(reverse("office:patient_create"), add_patient_form("old"))
    form = {"action": "issue", "username": "ada", "password": "", "submission": "slip"}
    alice_client.post(access_url(patient_a), form)
    old, slip = FormSubmission.objects.order_by("pk")
    FormSubmission.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=1, minutes=1)
    )
    FormSubmission.objects.filter(pk=slip.pk).update(
        private_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    out = io.StringIO()
    call_command("sweep", stdout=out)
    (kept,) = FormSubmission.objects.all()
    assert kept.pk == slip.pk and kept.private == ""
    assert "Forgot 1 sent-form tokens older than a day." in out.getvalue()


# -- Set up portal access: the one-time slip ---------------------------------------------------

SLIP_PASSWORD = re.compile(r"data-slip-password>([^<]+)<")


def slip_password(html: str) -> str:
    found = SLIP_PASSWORD.search(html)
    assert found is not None, "no password slip on the page"
    return found.group(1)


def access_url(patient) -> str:
    return reverse("office:portal_access", args=[patient.public_id])


@pytest.mark.django_db(transaction=True)
def test_two_set_up_posts_at_once_show_one_slip_and_its_password_works(
    live_server, alice, patient_a, practice_x
):
    browser = signed_in(alice)
    url = live_server.url + access_url(patient_a)
    fields = hidden_fields(browser.get(url, timeout=30).text, 'name="username"')
    data = {**fields, "action": "issue", "username": "ada", "password": ""}
    first, second = post_twice_at_once(browser, url, data)
    assert (first.status_code, second.status_code) == (200, 200)
    password = slip_password(first.text)
    assert slip_password(second.text) == password
    assert PortalAccount.objects.count() == 1
    assert portal_login(Client(), practice_x, "ada", password).status_code == 302  # signed in


@pytest.mark.django_db(transaction=True)
def test_two_staff_setting_up_access_at_once_get_one_slip_and_a_way_to_reissue(
    live_server, alice, bob, patient_a, practice_x
):
    url = live_server.url + access_url(patient_a)
    answers: dict[str, requests.Response] = {}
    start = threading.Barrier(2)

    def set_up(member) -> None:
        browser = signed_in(member)
        fields = hidden_fields(browser.get(url, timeout=30).text, 'name="username"')
        start.wait()  # both forms were opened before either was sent
        data = {**fields, "action": "issue", "username": "ada", "password": ""}
        answers[member.display_name] = browser.post(url, data, allow_redirects=False, timeout=60)

    threads = [threading.Thread(target=set_up, args=(m,)) for m in (alice, bob)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    by_status = {answer.status_code: answer for answer in answers.values()}
    assert sorted(by_status) == [200, 409]
    password = slip_password(by_status[200].text)
    told = by_status[409].text
    assert "Portal access was just set up for Ada" in told
    assert "Reissue it to get a new password slip." in told
    assert ">Reissue password</button>" in told and "data-slip-password" not in told
    winner = next(name for name, answer in answers.items() if answer.status_code == 200)
    assert f"by {winner} at" in told
    assert PortalAccount.objects.count() == 1
    assert portal_login(Client(), practice_x, "ada", password).status_code == 302


def test_a_repeat_shows_the_slip_again_only_briefly_and_in_the_same_session(
    alice_client, alice, patient_a
):
    import datetime

    from django.db import connection
    from django.utils import timezone

    from clinicportal.accounts.models import FormSubmission

    form = {"action": "issue", "username": "ada", "password": "", "submission": "tok3n"}
    password = slip_password(alice_client.post(access_url(patient_a), form).content.decode())
    with connection.cursor() as cursor:  # kept for a repeat, encrypted
        cursor.execute("SELECT private FROM accounts_formsubmission")
        (column,) = cursor.fetchone()
    assert column.startswith("fernet:") and password not in column
    again = alice_client.post(access_url(patient_a), form)
    assert slip_password(again.content.decode()) == password
    other_session = login(Client(), alice).post(access_url(patient_a), form, follow=True)
    assert "data-slip-password" not in other_session.content.decode()
    assert "Reissue the password for a new slip" in other_session.content.decode()
    FormSubmission.objects.update(private_until=timezone.now() - datetime.timedelta(seconds=1))
    late = alice_client.post(access_url(patient_a), form, follow=True).content.decode()
    assert "data-slip-password" not in late and "Reissue the password" in late
    assert FormSubmission.objects.get().private == ""  # wiped
    assert PortalAccount.objects.count() == 1


def test_an_authorized_user_added_twice_is_added_once_with_one_slip(alice_client, patient_a):
    url = reverse("office:authorized_user_add", args=[patient_a.public_id])
    fields = hidden_fields(alice_client.get(url).content.decode(), 'name="display_name"')
    form = {**fields, "display_name": "Mary Lovelace", "username": "mary", "password": ""}
    first = slip_password(alice_client.post(url, form).content.decode())
    assert slip_password(alice_client.post(url, form).content.decode()) == first
    assert PortalAccount.objects.filter(username="mary").count() == 1


def test_an_api_key_made_twice_is_made_once_and_never_kept(alice_client):
    from clinicportal.accounts.models import ApiKey, FormSubmission

    url = reverse("office:settings_api_keys")
    fields = hidden_fields(alice_client.get(url).content.decode(), 'name="name"')
    form = {**fields, "name": "Front desk printer"}
    first = alice_client.post(url, form).content.decode()
    assert "cpk_" in first
    again = alice_client.post(url, form, follow=True).content.decode()
    assert "was made and shown once" in again
    assert ApiKey.objects.count() == 1
    assert FormSubmission.objects.get().private == ""


def test_a_set_up_refused_by_the_unique_username_at_the_last_moment_says_so(bob_client, patient_a):
    """The database's unique username, hit after the service's own check: never a 500.

    A trigger raises the unique violation as a concurrent insert would; with another staff
    member's setup of this same patient, see the PostgreSQL test below.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER taken BEFORE INSERT ON accounts_portalaccount "
                "WHEN NEW.username_key = 'ada' BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint "
                "failed: accounts_portalaccount.practice_id, accounts_portalaccount.username_key');"
                " END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION taken() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.username_key = 'ada' THEN RAISE unique_violation USING MESSAGE = "
                "'duplicate key value violates unique constraint'; END IF; RETURN NEW; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER taken BEFORE INSERT ON accounts_portalaccount "
                "FOR EACH ROW EXECUTE FUNCTION taken()"
            )
    form = {"action": "issue", "username": "ada", "password": "", "setup": "1"}
    response = bob_client.post(access_url(patient_a), form)
    assert response.status_code == 200
    assert "This username was just taken in this practice" in response.content.decode()
    assert not PortalAccount.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_set_up_that_meets_the_other_between_its_checks_says_who_won(
    monkeypatch, alice, bob, patient_a
):
    """PostgreSQL: Bob's setup reads no grant for Ada; Alice's setup commits; Bob's username
    check then finds "ada" taken. Bob is told Ada's access was just set up, not that the
    username is taken (which CI once showed, the two forms posted at once)."""
    from django.db import connection

    from clinicportal.accounts.services import portal_access
    from clinicportal.accounts.services.portal_access import (
        PortalAccessJustSetUp,
        portal_access_issue,
    )

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers: SQLite takes one write transaction at a time")
    check = portal_access._username_free

    def after_alice_commits(*args, **kwargs):
        monkeypatch.setattr(portal_access, "_username_free", check)  # Alice's own is plain

        def alice_sets_up() -> None:
            try:
                portal_access_issue(
                    actor=actor(alice), patient=patient_a, username="ada", password=None
                )
            finally:
                connection.close()  # this thread's own connection

        other = threading.Thread(target=alice_sets_up)
        other.start()
        other.join()
        return check(*args, **kwargs)

    monkeypatch.setattr(portal_access, "_username_free", after_alice_commits)
    with pytest.raises(PortalAccessJustSetUp) as told:
        portal_access_issue(
            actor=actor(bob), patient=patient_a, username="ada", password=None, new_only=True
        )
    assert told.value.grant.account.username == "ada"
    assert PortalAccount.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_set_up_that_loses_the_race_on_the_unique_username_says_who_won(
    live_server, alice, bob, patient_a
):
    """PostgreSQL: Bob's setup passes its checks, then meets Alice's committed one."""
    import time

    from django.db import connection, transaction

    from clinicportal.accounts.services.portal_access import portal_access_issue

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers: SQLite takes one write transaction at a time")
    browser = signed_in(bob)
    url = live_server.url + access_url(patient_a)
    fields = hidden_fields(browser.get(url, timeout=30).text, 'name="username"')
    data = {**fields, "action": "issue", "username": "ada", "password": ""}
    answer: dict[str, requests.Response] = {}
    thread = threading.Thread(target=lambda: answer.update(bob=browser.post(url, data)))
    with transaction.atomic(), connection.cursor() as cursor:
        # Bob's checks read the table; his insert must wait until Alice's setup commits.
        cursor.execute("LOCK TABLE accounts_portalaccount IN SHARE ROW EXCLUSIVE MODE")
        thread.start()
        for _ in range(400):
            cursor.execute(
                "SELECT count(*) FROM pg_locks JOIN pg_class ON pg_class.oid = pg_locks.relation "
                "WHERE pg_class.relname = 'accounts_portalaccount' AND NOT pg_locks.granted"
            )
            if cursor.fetchone()[0]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("Bob's setup never reached its insert")
        portal_access_issue(actor=actor(alice), patient=patient_a, username="ada", password=None)
    thread.join()
    told = answer["bob"]
    assert told.status_code == 409
    assert "Portal access was just set up for Ada (by Alice at" in told.text
    assert PortalAccount.objects.count() == 1
