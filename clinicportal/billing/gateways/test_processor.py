"""The TEST processor: a stand-in for a hosted payment page, for the demo and development.

``checkout_start`` answers with a page on this site (``/pay/test/<session>/``, clearly marked
TEST) instead of a processor's. The session is signed (Django's signing, its own salt), so the
processor keeps no state of its own: the session names the practice, our reference, the
amount and where to send the browser back. "Pay" signs a confirmation with the practice's
webhook secret exactly as a real processor would, and hands it to the same function the
webhook endpoint calls (``billing.payments.payment_confirm``). No card number exists here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.urls import reverse

from clinicportal.billing.gateways import (
    SIGNATURE_HEADER,
    BadSignature,
    Checkout,
    CheckoutRequest,
    Confirmation,
    Outcome,
    RefundRequest,
    signature,
    signature_check,
)

SALT = "clinicportal.billing.test_processor"


@dataclass(frozen=True)
class Session:
    """A checkout as the TEST processor's page shows it."""

    session_id: str
    practice_slug: str
    amount_cents: int
    currency: str
    description: str
    reference: str
    success_url: str
    cancel_url: str

    @property
    def processor_payment_id(self) -> str:
        # One session is paid at most once: paying it again confirms the same payment.
        return "pi_test_" + hashlib.sha256(self.session_id.encode()).hexdigest()[:24]


def session_read(token: str) -> Session | None:
    """The session in a page's address, or None when it was not made by this processor."""
    try:
        data: dict[str, Any] = signing.loads(token, salt=SALT)
        return Session(**data)
    except (signing.BadSignature, TypeError, ValueError):
        return None


class TestProcessor:
    """The Gateway of a practice that chose the test processor."""

    __test__ = False  # not a pytest class

    def __init__(self, *, practice_slug: str, webhook_secret: str) -> None:
        self.practice_slug = practice_slug
        self.webhook_secret = webhook_secret

    def checkout_start(self, request: CheckoutRequest) -> Checkout:
        session_id = "cs_test_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24]
        session = Session(
            session_id=session_id,
            practice_slug=self.practice_slug,
            amount_cents=request.amount_cents,
            currency=request.currency,
            description=request.description,
            reference=request.reference,
            success_url=request.success_url,
            cancel_url=request.cancel_url,
        )
        token = signing.dumps(vars(session), salt=SALT, compress=True)
        return Checkout(
            redirect_url=reverse("billing:test_processor", args=[token]), session_id=session_id
        )

    def refund(self, request: RefundRequest) -> str:
        # Always refunds: no money was taken. The same key names the same refund.
        return "re_test_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24]

    def confirmation_make(self, session: Session, *, paid: bool) -> tuple[bytes, dict[str, str]]:
        """What the processor posts to the webhook: the body and its signature header."""
        payload = json.dumps(
            {
                "type": "payment.succeeded" if paid else "payment.declined",
                "processor_payment_id": session.processor_payment_id,
                "reference": session.reference,
                "amount_cents": session.amount_cents,
            }
        ).encode()
        return payload, {SIGNATURE_HEADER: signature(payload, self.webhook_secret)}

    def confirmation_read(self, payload: bytes, headers: Mapping[str, str]) -> Confirmation:
        signature_check(payload, headers, self.webhook_secret)
        try:
            data = json.loads(payload)
            kind = data["type"]
            confirmation = Confirmation(
                processor_payment_id=str(data["processor_payment_id"])[:100],
                reference=str(data["reference"]),
                amount_cents=int(data["amount_cents"]),
                outcome=Outcome.PAID if kind == "payment.succeeded" else Outcome.DECLINED,
            )
        except (ValueError, KeyError, TypeError):
            raise BadSignature from None  # signed but unreadable: treated as not ours
        if kind not in ("payment.succeeded", "payment.declined") or confirmation.amount_cents <= 0:
            raise BadSignature
        return confirmation
