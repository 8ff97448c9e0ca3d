"""A local HTTP server that speaks the part of Stripe's API the portal uses, and its webhooks.

The real SDK (``stripe.StripeClient``) talks to it through ``CLINICPORTAL_STRIPE_API_BASE``, so
the adapter meets Stripe's own request shapes (form-encoded, nested ``a[b][0][c]`` keys, a Bearer
secret key, an ``Idempotency-Key`` header) and response shapes (objects, and errors as
``{"error": {"type", "code", "message"}}`` with Stripe's status codes). Served:

- ``POST /v1/checkout/sessions``, ``GET /v1/balance``, ``POST /v1/refunds``;
- a hosted checkout page at ``/checkout/<session id>`` (Pay, Pay with a declined card, Cancel):
  Pay posts a signed ``checkout.session.completed`` event to ``webhook_url``, as Stripe would,
  and sends the browser to the session's success URL;
- Stripe's dashboard, for refunds: ``dashboard_refund`` refunds a payment as staff do there
  (no metadata of ours), ``refund_event`` is the body of its ``refund.*`` event (also for a
  refund made through the API, which Stripe reports the same way) and ``send`` posts a signed
  body to ``webhook_url``.

``mode`` injects faults: "timeout" (does the work, then answers after ``delay`` seconds, so
the answer is lost), "error" (HTTP 500),
"disputed" (refunds refused as Stripe refuses a charged-back payment). Idempotency is Stripe's:
a key seen before replays its first answer; the same key with other parameters is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import stripe

from tests.local_server import LocalServer, QuietHandler
from tests.races import at_once

SECRET_KEY = "sk_test_51FakeClinicPortalKey0123456789"
WEBHOOK_SECRET = "whsec_fakeClinicPortalSigningSecret0123"


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str
    api_key: str


def form_decode(body: str) -> dict[str, Any]:
    """Stripe's form encoding back into nested dicts and lists: ``a[b][0][c]=1``."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    """Dicts keyed 0, 1, 2... as lists."""
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_lists(node[key]) for key in sorted(node, key=int)]
    return {key: _lists(value) for key, value in node.items()}


def event_body(kind: str, obj: Mapping[str, Any], created: int | None = None) -> bytes:
    """A v1 snapshot event, as Stripe posts it."""
    created = int(time.time()) if created is None else created
    event_id = "evt_" + hashlib.sha256(f"{kind}{obj['id']}{created}".encode()).hexdigest()[:24]
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": stripe.api_version,
            "created": created,
            "type": kind,
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": dict(obj)},
        }
    ).encode()


def signed(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    """The Stripe-Signature header Stripe sends with ``body``: HMAC-SHA256 of "<t>.<body>"."""
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={at},v1={mac}"}


class FakeStripe(LocalServer):
    def __init__(self) -> None:
        self.keys = {SECRET_KEY}
        self.webhook_secret = WEBHOOK_SECRET
        self.webhook_url = ""  # where Pay on the hosted page posts its event
        self.mode = "ok"
        self.delay = 3.0
        self.requests: list[Recorded] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.paid: dict[str, int] = {}  # payment intent id → amount
        self._answers: dict[str, tuple[dict[str, Any], int, bytes]] = {}
        self._lock = threading.Lock()
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        super().__init__(Handler)

    # Stripe's side of a payment -------------------------------------------------------------

    def created(self, path: str) -> list[Recorded]:
        """The requests that reached ``path`` (replays of a key included)."""
        return [r for r in self.requests if r.path == path]

    def session_event(self, kind: str, session_id: str, **changes: Any) -> bytes:
        """The body of a ``kind`` event about the session, changed as given."""
        return event_body(kind, {**self.sessions[session_id], **changes})

    def pay(self, session_id: str) -> dict[str, Any]:
        """The patient pays on the hosted page: the session completes with a payment intent."""
        session = self.sessions[session_id]
        intent = "pi_" + hashlib.sha256(session_id.encode()).hexdigest()[:24]
        session.update(status="complete", payment_status="paid", payment_intent=intent)
        self.paid[intent] = session["amount_total"]
        return session

    def dashboard_refund(
        self, intent: str, amount: int, reason: str | None = "requested_by_customer"
    ) -> dict[str, Any]:
        """Staff refund ``amount`` of a payment in Stripe's dashboard: the refund made."""
        status, answer = self._refund_make(intent, amount, {}, reason)
        assert status == 200, answer  # the dashboard refuses what the API refuses
        return answer

    def refund_event(self, refund_id: str, kind: str = "refund.created", **changes: Any) -> bytes:
        """The body of a ``kind`` event about the refund, changed as given."""
        return event_body(kind, {**self.refunds[refund_id], **changes})

    def send(self, body: bytes) -> requests.Response:
        """Post a signed event to ``webhook_url``, as Stripe does."""
        return requests.post(self.webhook_url, data=body, headers=signed(body), timeout=10)

    def send_twice_at_once(self, body: bytes) -> list[tuple[int, Any]]:
        """The same signed event delivered twice at the same moment: each (status, JSON)."""

        def deliver() -> tuple[int, Any]:
            answer = self.send(body)
            return (answer.status_code, answer.json())

        return at_once(deliver, deliver)

    # HTTP -----------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        if parts.path.startswith("/checkout/"):
            self._page(handler, method, parts.path.removeprefix("/checkout/"), body)
            return
        auth = handler.headers.get("Authorization", "")
        key = auth.removeprefix("Bearer ")
        params = form_decode(body if method == "POST" else parts.query)
        idem = handler.headers.get("Idempotency-Key", "")
        self.requests.append(Recorded(method, parts.path, params, idem, key))
        if self.mode == "error":
            self._json(handler, 500, _error("api_error", "", "Something went wrong on Stripe."))
            return
        if key not in self.keys:
            message = f"Invalid API Key provided: {key[:8]}****"
            self._json(handler, 401, _error("invalid_request_error", "", message))
            return
        replayed = False
        with self._lock:
            if method == "POST" and idem in self._answers:
                first, status, answer = self._answers[idem]
                if first != params:
                    message = (
                        "Keys for idempotent requests can only be used with the same parameters."
                    )
                    self._json(handler, 400, _error("idempotency_error", "", message))
                    return
                replayed = True
            else:
                status, obj = self._route(method, parts.path, params)
                answer = json.dumps(obj).encode()
                if method == "POST" and idem:
                    self._answers[idem] = (params, status, answer)
        if self.mode == "timeout":  # done, but the answer comes too late: it is lost
            time.sleep(self.delay)
        self._send(handler, status, answer, replayed=replayed)

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "GET" and path == "/v1/balance":
            return 200, {"object": "balance", "available": [], "pending": [], "livemode": False}
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._session_create(params)
        if method == "POST" and path == "/v1/refunds":
            return self._refund_create(params)
        return 404, _error("invalid_request_error", "", f"Unrecognized request URL ({path}).")

    def _session_create(self, params: dict[str, Any]) -> dict[str, Any]:
        line = params["line_items"][0]
        session_id = f"cs_test_{len(self.sessions) + 1:04d}" + "a" * 20
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params["mode"],
            "amount_total": int(line["price_data"]["unit_amount"]) * int(line["quantity"]),
            "currency": line["price_data"]["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}),
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "payment_status": "unpaid",
            "status": "open",
            "payment_intent": None,
            "url": f"{self.url}/checkout/{session_id}",
            "livemode": False,
        }
        self.sessions[session_id] = session
        return session

    def _refund_create(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        intent = params.get("payment_intent", "")
        amount = int(params.get("amount") or self.paid.get(intent, 0))
        return self._refund_make(intent, amount, params.get("metadata", {}), None)

    def _refund_make(
        self, intent: str, amount: int, metadata: dict[str, Any], reason: str | None
    ) -> tuple[int, dict[str, Any]]:
        if intent not in self.paid:
            message = f"No such payment_intent: '{intent}'"
            return 400, _error("invalid_request_error", "resource_missing", message)
        if self.mode == "disputed":
            message = f"Charge for {intent} has been charged back; cannot issue a refund."
            return 400, _error("invalid_request_error", "charge_disputed", message)
        already = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent)
        if already + amount > self.paid[intent]:
            message = "Refund amount is greater than unrefunded amount on charge."
            return 400, _error("invalid_request_error", "amount_too_large", message)
        refund_id = f"re_test_{len(self.refunds) + 1:04d}" + "b" * 20
        refund = {  # Stripe's Refund object, the fields a card refund has
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": "txn_" + hashlib.sha256(refund_id.encode()).hexdigest()[:24],
            "charge": "ch_" + hashlib.sha256(intent.encode()).hexdigest()[:24],
            "created": int(time.time()),
            "currency": "usd",
            "metadata": metadata,
            "payment_intent": intent,
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self.refunds[refund_id] = refund
        return 200, refund

    def _page(
        self, handler: BaseHTTPRequestHandler, method: str, session_id: str, body: str
    ) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            self._send(handler, 404, b"No such checkout", content_type="text/plain")
            return
        notice = ""
        if method == "POST":
            action = dict(parse_qsl(body)).get("action")
            if action == "pay":
                paid = self.pay(session_id)
                event = event_body("checkout.session.completed", paid)
                requests.post(self.webhook_url, data=event, headers=signed(event), timeout=10)
                self._redirect(handler, session["success_url"])
                return
            if action == "cancel":
                self._redirect(handler, session["cancel_url"])
                return
            notice = "<p role='alert'>Your card was declined. Try another card.</p>"
        amount = session["amount_total"] / 100
        page = (
            "<!doctype html><html lang='en'><head><title>Stripe Checkout (fake)</title></head>"
            f"<body><main><h1>Pay ${amount:.2f}</h1>{notice}<form method='post'>"
            "<button name='action' value='pay'>Pay</button>"
            "<button name='action' value='decline'>Pay with a declined card</button>"
            "<button name='action' value='cancel'>Cancel</button></form></main></body></html>"
        )
        self._send(handler, 200, page.encode(), content_type="text/html; charset=utf-8")

    @staticmethod
    def _redirect(handler: BaseHTTPRequestHandler, location: str) -> None:
        handler.send_response(303)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, status: int, obj: dict[str, Any]) -> None:
        FakeStripe._send(handler, status, json.dumps(obj).encode())

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        *,
        content_type: str = "application/json",
        replayed: bool = False,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Request-Id", "req_" + hashlib.sha256(body).hexdigest()[:14])
        if replayed:
            handler.send_header("Idempotent-Replayed", "true")
        handler.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler.wfile.write(body)  # unless the client gave up waiting (a time-out test)


def _error(kind: str, code: str, message: str) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    return {"error": error}
