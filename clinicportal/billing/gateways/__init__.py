"""What the portal needs of a card processor: start a hosted checkout, read a signed confirmation.

A processor takes the card on its own page (the portal never sees a card number) and tells us
afterwards, in a webhook signed with the practice's webhook secret, what was paid. Adapters:
``test_processor`` (a local stand-in for trying the portal; no real money) and
``stripe_checkout`` (Stripe's hosted Checkout, through the official SDK).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

SIGNATURE_HEADER = "X-Clinicportal-Signature"


@dataclass(frozen=True)
class CheckoutRequest:
    amount_cents: int
    currency: str
    description: str
    reference: str  # ours: the payment attempt's public id, sent back in the confirmation
    success_url: str
    cancel_url: str
    idempotency_key: str  # the same key starts the same checkout


@dataclass(frozen=True)
class Checkout:
    redirect_url: str  # the processor's page, where the patient pays
    session_id: str


class Outcome(StrEnum):
    """How a checkout ended; the values are PaymentAttempt's statuses."""

    PAID = "paid"
    DECLINED = "declined"  # the processor refused the card: nothing was charged
    EXPIRED = "expired"  # the patient left the processor's page without paying


@dataclass(frozen=True)
class Confirmation:
    processor_payment_id: str
    reference: str
    amount_cents: int
    outcome: Outcome = Outcome.PAID

    @property
    def paid(self) -> bool:
        return self.outcome == Outcome.PAID


@dataclass(frozen=True)
class RefundRequest:
    processor_payment_id: str  # the payment, as the processor's confirmation named it
    amount_cents: int
    reference: str  # ours: the refund's public id
    idempotency_key: str  # the same key refunds once


class RefundState(StrEnum):
    """Where a refund the processor reports stands."""

    MADE = "made"  # done, or on its way back to the card
    FAILED = "failed"  # failed or cancelled: nothing reaches the card
    WAITING = "waiting"  # not made yet (the processor waits on something)


@dataclass(frozen=True)
class RefundNotice:
    """A refund the processor reports having made on one of its payments.

    Made in the processor's own dashboard, or the echo of one we asked for: then ``reference``
    is our refund's public id, as ``refund`` sent it. A refund reported made can be reported
    failed later (the card could not take it back): ``failed_because`` then says so.
    """

    processor_refund_id: str
    processor_payment_id: str  # the payment, as the processor's confirmation named it
    amount_cents: int
    state: RefundState
    reference: str = ""
    failed_because: str = ""  # in the office's words, when FAILED


class RefundRefused(Exception):
    """The processor answered and will not refund: ``reason`` says why, for the office."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GatewayUnavailable(Exception):
    """The processor could not be reached or refused to start a checkout."""


class BadSignature(Exception):
    """A confirmation whose signature is missing or wrong, or whose body cannot be read."""


class Gateway(Protocol):
    def checkout_start(self, request: CheckoutRequest) -> Checkout: ...

    def refund(self, request: RefundRequest) -> str:
        """Give back part or all of a payment; return the processor's refund id.

        Raises RefundRefused (the processor said no) or GatewayUnavailable (no answer: the
        refund may or may not have been made; the same key asks again safely).
        """
        ...

    def confirmation_read(
        self, payload: bytes, headers: Mapping[str, str]
    ) -> Confirmation | RefundNotice | None:
        """Verify the signature over ``payload`` (raise BadSignature) and read it.

        A RefundNotice: the processor refunded one of its payments. None: a genuine notice of
        something else (ignored, answered 200 so that the processor does not send it again).
        """
        ...


def signature(payload: bytes, secret: str) -> str:
    """HMAC-SHA256 of the body with the webhook secret, in hex."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def signature_check(payload: bytes, headers: Mapping[str, str], secret: str) -> None:
    """Raise BadSignature unless the header holds the body's signature (constant-time compare)."""
    sent = headers.get(SIGNATURE_HEADER, "")
    if not secret or not sent or not hmac.compare_digest(sent, signature(payload, secret)):
        raise BadSignature
