"""Billing → Online payments: the portal's card payments, as they arrive, for the office only."""

from __future__ import annotations

import datetime
import re
import uuid
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinicportal.accounts.models import PortalAccount
from clinicportal.accounts.services.portal_access import portal_access_issue
from clinicportal.billing.models import Invoice, Payment, PaymentAttempt
from clinicportal.billing.payments import payment_start
from clinicportal.core.context import PortalActor
from clinicportal.patients.models import Patient
from clinicportal.practices.models import StaffMember
from tests.conftest import actor, add_guardian
from tests.test_pay_bills import bill, pay_bills_on

ONLINE = reverse("office:payments_online")
BILLING = reverse("office:billing")


def portal_actor(account: PortalAccount, patient: Patient) -> PortalActor:
    """The account, read afresh (with its practice as it is now), acting for ``patient``."""
    return PortalActor(
        account=PortalAccount.objects.select_related("practice").get(pk=account.pk),
        patient=patient,
    )


def own_account(member: StaffMember, patient: Patient, username: str) -> PortalActor:
    """The patient's own portal account, issued by ``member``'s office."""
    issued = portal_access_issue(
        actor=actor(member), patient=patient, username=username, password=None
    )
    return portal_actor(issued.account, patient)


def start(who: PortalActor, invoice: Invoice, cents: int) -> tuple[PaymentAttempt, str]:
    """Press Pay for ``cents`` as ``who`` does under PAY BILLS; return the attempt and its page."""
    page = payment_start(actor=who, invoice=invoice, amount_cents=cents, key=uuid.uuid4().hex)
    attempt = PaymentAttempt.objects.get(redirect_url=page)
    return attempt, page.removeprefix("http://testserver")


def finish(checkout: str, action: str = "pay") -> None:
    """Pay (or decline) on the TEST processor's page, which confirms as the webhook does."""
    assert Client().post(checkout, {"action": action}).status_code == 302


def rows_of(response) -> list[int]:
    assert response.status_code == 200
    return [row.attempt.pk for row in response.context["rows"]]


def row_html(html: str, invoice_number: int, amount: str) -> str:
    """The table row of the attempt on ``invoice_number`` for ``amount`` ("$50.00")."""
    for row in re.findall(r"<tr>.*?</tr>", html, re.S):
        if f">#{invoice_number}</a>" in row and amount in row:
            return row
    raise AssertionError(f"no row for #{invoice_number} {amount}")


@pytest.fixture
def ada(alice, patient_a) -> PortalActor:
    pay_bills_on(alice)
    return own_account(alice, patient_a, "ada")


@pytest.fixture
def mary(alice, patient_a, ada) -> PortalActor:
    """Ada's authorized user, paying for her."""
    return portal_actor(add_guardian(alice, patient_a).account, patient_a)


def test_every_attempt_is_listed_newest_first_with_its_status_and_who_paid(
    bob_client, alice, ada, mary, patient_a
):
    invoice = bill(alice, patient_a)
    paid, checkout = start(ada, invoice, 5_000)
    finish(checkout)
    declined, checkout = start(ada, invoice, 2_500)
    finish(checkout, "decline")
    waiting, _ = start(mary, invoice, 1_000)
    expired, _ = start(ada, invoice, 700)
    PaymentAttempt.objects.filter(pk=expired.pk).update(status=PaymentAttempt.Status.EXPIRED)

    response = bob_client.get(ONLINE)
    assert rows_of(response) == [expired.pk, waiting.pk, declined.pk, paid.pk]
    html = response.content.decode()
    patient = reverse("office:patient", args=[patient_a.public_id])
    office_invoice = reverse("office:invoice", args=[patient_a.public_id, invoice.public_id])

    row = row_html(html, invoice.number, "$50.00")
    assert f'<a href="{patient}">Lovelace, Ada</a>' in row
    assert f'<a href="{office_invoice}">#{invoice.number}</a>' in row
    assert '<span class="status status-paid">Paid</span>' in row
    payment = Payment.objects.get()
    confirmed = timezone.localtime(payment.received_at).strftime("%m/%d/%Y")
    assert f"Confirmed {confirmed} " in row and ">The patient</td>" in row
    assert "refunded" not in row

    row = row_html(html, invoice.number, "$10.00")
    assert '<span class="status status-pending">Waiting for the processor</span>' in row
    assert 'Mary Lovelace <span class="help">(authorized user)</span>' in row
    assert "Confirmed" not in row and "processor’s dashboard" not in row  # just started

    row = row_html(html, invoice.number, "$25.00")
    assert '<span class="status status-declined">Declined</span>' in row
    row = row_html(html, invoice.number, "$7.00")
    assert '<span class="status status-expired">Not completed</span>' in row


def test_a_refund_is_shown_beside_the_amount(bob_client, alice, ada, patient_a):
    invoice = bill(alice, patient_a)
    _, checkout = start(ada, invoice, 5_000)
    finish(checkout)
    Payment.objects.update(refunded_cents=1_500)
    row = row_html(bob_client.get(ONLINE).content.decode(), invoice.number, "$50.00")
    assert '<span class="help">($15.00 refunded)</span>' in row


def test_the_amount_of_a_paid_attempt_is_what_the_processor_charged(
    bob_client, alice, ada, patient_a
):
    invoice = bill(alice, patient_a)
    _, checkout = start(ada, invoice, 5_000)
    finish(checkout)
    Payment.objects.update(amount_cents=4_000)  # as a confirmation of another amount records
    html = bob_client.get(ONLINE).content.decode()
    assert row_html(html, invoice.number, "$40.00") and "$50.00" not in html


def test_an_attempt_waiting_over_an_hour_says_the_processor_has_not_confirmed_it(
    bob_client, alice, ada, patient_a
):
    invoice = bill(alice, patient_a)
    old, _ = start(ada, invoice, 3_000)
    PaymentAttempt.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=61)
    )
    start(ada, invoice, 2_000)
    html = bob_client.get(ONLINE).content.decode()
    note = "Not confirmed for over an hour: look it up on the processor’s dashboard."
    assert note in row_html(html, invoice.number, "$30.00")
    assert note not in row_html(html, invoice.number, "$20.00")
    # Declined or paid long ago is no longer waiting: no note.
    PaymentAttempt.objects.filter(pk=old.pk).update(status=PaymentAttempt.Status.DECLINED)
    assert note not in bob_client.get(ONLINE).content.decode()


@pytest.fixture
def other_practice_attempt(carol, patient_c) -> PaymentAttempt:
    """Practice Y's patient, paying Y's invoice: never X's to see."""
    pay_bills_on(StaffMember.objects.get(user__username="yvonne"))  # Y's admin
    charles = own_account(carol, patient_c, "charles")
    attempt, checkout = start(charles, bill(carol, patient_c), 9_900)
    finish(checkout)
    return attempt


def test_another_practices_attempts_are_never_listed(
    bob_client, carol_client, alice, ada, patient_a, other_practice_attempt
):
    mine, _ = start(ada, bill(alice, patient_a), 4_200)
    for status in ("", "paid", "waiting", "unpaid"):
        response = bob_client.get(ONLINE, {"status": status})
        assert other_practice_attempt.pk not in rows_of(response)
        html = response.content.decode()
        assert "Babbage" not in html and "$99.00" not in html
    assert rows_of(bob_client.get(ONLINE)) == [mine.pk]
    theirs = carol_client.get(ONLINE)
    assert rows_of(theirs) == [other_practice_attempt.pk]
    assert "Lovelace" not in theirs.content.decode()
    # Y's payment today is not counted on X's Billing page either.
    assert "0 online payments received today" in bob_client.get(BILLING).content.decode()


def test_the_list_filters_by_outcome(bob_client, alice, ada, patient_a):
    invoice = bill(alice, patient_a)
    paid, checkout = start(ada, invoice, 1_000)
    finish(checkout)
    declined, checkout = start(ada, invoice, 1_100)
    finish(checkout, "decline")
    waiting, _ = start(ada, invoice, 1_200)
    expired, _ = start(ada, invoice, 1_300)
    PaymentAttempt.objects.filter(pk=expired.pk).update(status=PaymentAttempt.Status.EXPIRED)

    assert rows_of(bob_client.get(ONLINE, {"status": "paid"})) == [paid.pk]
    assert rows_of(bob_client.get(ONLINE, {"status": "waiting"})) == [waiting.pk]
    assert rows_of(bob_client.get(ONLINE, {"status": "unpaid"})) == [expired.pk, declined.pk]
    everything = [expired.pk, waiting.pk, declined.pk, paid.pk]
    assert rows_of(bob_client.get(ONLINE)) == everything
    bogus = bob_client.get(ONLINE, {"status": "bogus"})
    assert rows_of(bogus) == everything  # a choice that makes no sense shows them all
    html = bob_client.get(ONLINE, {"status": "unpaid"}).content.decode()
    assert '<option value="unpaid" selected>Declined or not completed</option>' in html


def test_empty_lists_say_so(bob_client, alice, ada, patient_a):
    html = bob_client.get(ONLINE).content.decode()
    assert "No online payments yet." in html and "<table" not in html
    start(ada, bill(alice, patient_a), 1_000)
    html = bob_client.get(ONLINE, {"status": "paid"}).content.decode()
    assert "No online payments match this choice." in html and "<table" not in html
    assert f'<a href="{ONLINE}">Show all online payments</a>' in html


# Many attempts: pages and their cost -----------------------------------------------------------


def link(html: str, text: str) -> str | None:
    """The address of the pages' link called ``text`` (First, Previous, Next, Last), or None."""
    found = re.search(rf'<a href="(\?[^"]*)"[^>]*>{text}</a>', html)
    return ONLINE + unescape(found.group(1)) if found else None


def made(alice, ada: PortalActor, mary: PortalActor, count: int) -> list[PaymentAttempt]:
    """``count`` attempts a minute apart, oldest first: every third paid (by Mary, with a
    refund), every third waiting, every third declined."""
    invoice = bill(alice, ada.patient)  # type: ignore[arg-type]
    start_at = timezone.now() - datetime.timedelta(days=2)
    attempts = []
    for number in range(count):
        paid = number % 3 == 0
        payment = None
        if paid:
            payment = Payment.objects.create(
                practice=alice.practice,
                patient=invoice.patient,
                invoice=invoice,
                method=Payment.Method.CARD_ONLINE,
                amount_cents=100 + number,
                refunded_cents=number,
                received_at=start_at,
                processor_payment_id=f"pi_{uuid.uuid4().hex}",
            )
        attempt = PaymentAttempt.objects.create(
            practice=alice.practice,
            patient=invoice.patient,
            invoice=invoice,
            account=(mary if paid else ada).account,
            amount_cents=100 + number,
            idempotency_key=uuid.uuid4().hex,
            processor="test",
            status=("paid", "pending", "declined")[number % 3],
            payment=payment,
        )
        attempt.created_at = start_at + datetime.timedelta(minutes=number)
        PaymentAttempt.objects.filter(pk=attempt.pk).update(created_at=attempt.created_at)
        attempts.append(attempt)
    return attempts


def test_first_next_last_and_previous_pages_hold_the_right_rows(bob_client, alice, ada, mary):
    newest = [a.pk for a in made(alice, ada, mary, 60)][::-1]
    first = bob_client.get(ONLINE)
    assert rows_of(first) == newest[:25]
    html = first.content.decode()
    assert link(html, "First") is None and link(html, "Previous") is None
    second = bob_client.get(link(html, "Next"))
    assert rows_of(second) == newest[25:50]
    third = bob_client.get(link(second.content.decode(), "Next"))
    assert rows_of(third) == newest[50:]
    assert link(third.content.decode(), "Next") is None
    last = bob_client.get(link(html, "Last"))
    assert rows_of(last) == newest[35:]
    back = bob_client.get(link(last.content.decode(), "Previous"))
    assert rows_of(back) == newest[10:35]
    assert rows_of(bob_client.get(link(back.content.decode(), "First"))) == newest[:25]


def test_the_pages_links_keep_the_chosen_outcome(bob_client, alice, ada, mary):
    attempts = made(alice, ada, mary, 90)
    waiting = [a.pk for a in attempts if a.status == "pending"][::-1]
    html = bob_client.get(ONLINE, {"status": "waiting"}).content.decode()
    following = link(html, "Next")
    assert following is not None and "status=waiting&page=" in following
    assert rows_of(bob_client.get(following)) == waiting[25:]
    assert "status=waiting&page=last" in (link(html, "Last") or "")


def test_a_cursor_that_makes_no_sense_or_is_past_every_row_gives_the_first_page(
    bob_client, alice, ada, mary
):
    attempts = made(alice, ada, mary, 90)
    newest = [a.pk for a in attempts][::-1]
    assert rows_of(bob_client.get(ONLINE, {"page": "zzz"})) == newest[:25]
    waiting = [a.pk for a in attempts if a.status == "pending"][::-1]
    following = link(bob_client.get(ONLINE, {"status": "waiting"}).content.decode(), "Next")
    # Meanwhile the processor has answered for every attempt on the next page.
    PaymentAttempt.objects.filter(pk__in=waiting[25:]).update(status="declined")
    assert rows_of(bob_client.get(following)) == waiting[:25]


def _queries(client: Client, url: str, params: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200 and response.context["rows"]
    return len(queries)


def test_the_page_costs_the_same_for_3_or_30_attempts(bob_client, alice, ada, mary):
    made(alice, ada, mary, 3)
    bob_client.get(ONLINE)  # the first page after sign-in stamps the session's use
    three = _queries(bob_client, ONLINE)
    made(alice, ada, mary, 27)
    assert _queries(bob_client, ONLINE) == three
    html = bob_client.get(ONLINE).content.decode()
    assert html.count("<tr>") == 25 + 1  # a page of 25, and the head
    for params in ({"status": "paid"}, {"status": "unpaid"}, {"page": "last"}):
        assert _queries(bob_client, ONLINE, params) == three
    following = link(html, "Next")
    assert following and _queries(bob_client, following) == three


# Billing's head: today's count, and the way in ------------------------------------------------


def test_billing_counts_todays_online_payments_and_links_the_list(
    bob_client, alice, ada, patient_a
):
    invoice = bill(alice, patient_a)
    html = bob_client.get(BILLING).content.decode()
    assert f'<a class="button" href="{ONLINE}">Online payments</a>' in html
    assert "0 online payments received today" in html
    _, checkout = start(ada, invoice, 1_000)
    finish(checkout)
    assert "1 online payment received today" in bob_client.get(BILLING).content.decode()
    _, checkout = start(ada, invoice, 1_000)
    finish(checkout)
    start(ada, invoice, 1_000)  # waiting: not received yet
    Payment.objects.create(  # at the desk: not online
        practice=alice.practice,
        patient=patient_a,
        invoice=invoice,
        method=Payment.Method.CASH,
        amount_cents=500,
        received_at=timezone.now(),
    )
    Payment.objects.create(  # online, yesterday
        practice=alice.practice,
        patient=patient_a,
        invoice=invoice,
        method=Payment.Method.CARD_ONLINE,
        amount_cents=500,
        received_at=timezone.now() - datetime.timedelta(days=1),
        processor_payment_id="pi_yesterday",
    )
    assert "2 online payments received today" in bob_client.get(BILLING).content.decode()


def test_today_is_the_practices_day(bob_client, alice, ada, patient_a, settings):
    """Just after midnight in the practice's time zone is today, whatever UTC says."""
    from zoneinfo import ZoneInfo

    invoice = bill(alice, patient_a)
    zone = ZoneInfo(settings.TIME_ZONE)
    local_midnight = timezone.localtime(timezone.now(), zone).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    for minutes, reference in ((1, "pi_after_midnight"), (-1, "pi_before_midnight")):
        Payment.objects.create(
            practice=alice.practice,
            patient=patient_a,
            invoice=invoice,
            method=Payment.Method.CARD_ONLINE,
            amount_cents=500,
            received_at=local_midnight + datetime.timedelta(minutes=minutes),
            processor_payment_id=reference,
        )
    html = bob_client.get(BILLING).content.decode()
    assert "1 online payment received today" in html


def test_no_count_for_a_practice_that_never_took_payments_online(bob_client):
    html = bob_client.get(BILLING).content.decode()
    assert "received today" not in html
    assert f'href="{ONLINE}"' in html  # the list is there, and says it is empty


def test_the_list_is_under_billing_read_only_and_for_staff_only(bob_client, client):
    response = bob_client.get(ONLINE)
    assert response.context["nav"] == "billing"
    assert bob_client.post(ONLINE).status_code == 405
    anonymous = client.get(ONLINE)
    assert anonymous.status_code == 302 and reverse("office:login") in anonymous["Location"]


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test's few rows: judge the indexes
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({}, "attempt_list"),
        ({"status": "paid"}, "attempt_list_paid"),
        ({"status": "waiting"}, "attempt_list_pending"),
        ({"status": "unpaid", "page": "last"}, "attempt_list_unpaid"),
    ],
)
def test_an_index_serves_each_choice_in_its_order(bob_client, alice, ada, mary, params, index):
    if connection.vendor != "postgresql":
        pytest.skip("the plans checked are PostgreSQL's")
    made(alice, ada, mary, 30)
    with CaptureQueriesContext(connection) as queries:
        assert bob_client.get(ONLINE, params).status_code == 200
    [sql] = [q["sql"] for q in queries if 'FROM "billing_paymentattempt"' in q["sql"]]
    plan = _plan(sql)
    # The page's rows come from the index in the list's order: no table scan, no sort.
    assert re.search(rf"Index Scan( Backward)? using {index} on billing_paymentattempt", plan), plan
    assert "Sort" not in plan.split("SubPlan")[0], plan
