"""Stripe: hosted Checkout Sessions, their webhook events and refunds, with the official SDK.

The patient pays on Stripe's Checkout page (``mode=payment``, one line for the amount they
chose); ``client_reference_id`` carries our reference back. Stripe then posts events to
``/pay/webhook/<practice>/stripe/``, signed with the endpoint's signing secret
(``Stripe-Signature``, checked by ``stripe.Webhook``). The events read here:

- ``checkout.session.completed`` with ``payment_status`` paid, and
  ``checkout.session.async_payment_succeeded``: paid;
- ``checkout.session.async_payment_failed``: declined;
- ``checkout.session.expired``: the patient left without paying;
- ``refund.created`` and ``refund.updated``: a refund of a payment, made in Stripe's dashboard
  or asked for by the office (then its metadata carries our reference); a refund on its way
  back to the card ("pending") can still end "failed" or "canceled" in a later update.

A card Stripe declines stays on Stripe's page for the patient to try another card, so it reaches
us only as the session's expiry. Refunds are read from the ``refund.*`` events, not
``charge.refunded``: since API version 2022-11-15 a charge no longer carries its refunds list,
only the total ``amount_refunded``, so it cannot say which refund is new without asking Stripe
again; a Refund object carries its own id (the key that records it once), amount, status,
payment intent and metadata. Since 2024-10-28.acacia Stripe sends them for card refunds too.
Every other event is genuine but not ours to act on: ignored.
Every request carries an idempotency key, so a request sent again (the SDK retries on a network
fault) starts one checkout and one refund.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from clinicportal.billing.gateways import (
    BadSignature,
    Checkout,
    CheckoutRequest,
    Confirmation,
    GatewayUnavailable,
    Outcome,
    RefundNotice,
    RefundRefused,
    RefundRequest,
    RefundState,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Stripe-Signature"
# A signed event older than this is refused (Stripe's own default): a replayed capture fails.
TOLERANCE_SECONDS = 300

_OUTCOMES = {
    "checkout.session.completed": Outcome.PAID,
    "checkout.session.async_payment_succeeded": Outcome.PAID,
    "checkout.session.async_payment_failed": Outcome.DECLINED,
    "checkout.session.expired": Outcome.EXPIRED,
}
_REFUND_EVENTS = frozenset({"refund.created", "refund.updated"})
# A refund counts once it is made or on its way back to the card, as when we ask for one
# (``refund``); "failed" and "canceled" give nothing back; "requires_action" has not yet.
_REFUND_STATES = {
    "pending": RefundState.MADE,
    "succeeded": RefundState.MADE,
    "failed": RefundState.FAILED,
    "canceled": RefundState.FAILED,
}


def client_for(secret_key: str) -> stripe.StripeClient:
    """An SDK client with our time-out, talking to ``CLINICPORTAL_STRIPE_API_BASE``."""
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": settings.CLINICPORTAL_STRIPE_API_BASE},
        http_client=stripe.RequestsClient(timeout=settings.CLINICPORTAL_PROCESSOR_TIMEOUT),
        max_network_retries=1,
    )


class StripeCheckout:
    """The Gateway of a practice that chose Stripe."""

    def __init__(self, *, secret_key: str, webhook_secret: str) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret

    def checkout_start(self, request: CheckoutRequest) -> Checkout:
        if not self.secret_key:
            raise GatewayUnavailable
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency,
                        "unit_amount": request.amount_cents,
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "client_reference_id": request.reference,
            "metadata": {"reference": request.reference},
            "payment_intent_data": {"metadata": {"reference": request.reference}},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        try:
            session = client_for(self.secret_key).v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as exc:
            logger.warning("Stripe refused or did not answer a checkout: %s", _why(exc))
            raise GatewayUnavailable from exc
        if not session.url:
            raise GatewayUnavailable
        return Checkout(redirect_url=session.url, session_id=session.id)

    def refund(self, request: RefundRequest) -> str:
        if not self.secret_key:
            raise GatewayUnavailable
        params: dict[str, Any] = {
            "payment_intent": request.processor_payment_id,
            "amount": request.amount_cents,
            "metadata": {"reference": request.reference},
        }
        try:
            refund = client_for(self.secret_key).v1.refunds.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            logger.warning("Stripe did not answer a refund: %s", _why(exc))
            raise GatewayUnavailable from exc
        except stripe.StripeError as exc:
            logger.warning("Stripe refused a refund: %s", _why(exc))
            raise RefundRefused(_refusal(exc)) from exc
        if refund.status in ("failed", "canceled"):
            raise RefundRefused(_("Stripe could not send this refund back to the card."))
        return refund.id

    def confirmation_read(
        self, payload: bytes, headers: Mapping[str, str]
    ) -> Confirmation | RefundNotice | None:
        if not self.webhook_secret:
            raise BadSignature
        try:
            event = stripe.Webhook.construct_event(
                payload.decode(),
                headers.get(SIGNATURE_HEADER, ""),
                self.webhook_secret,
                tolerance=TOLERANCE_SECONDS,
            )
        except (ValueError, stripe.SignatureVerificationError):
            raise BadSignature from None
        if event.type in _REFUND_EVENTS:
            return _refund_notice(event.data.object.to_dict())
        outcome = _OUTCOMES.get(event.type)
        if outcome is None:
            return None
        session = event.data.object.to_dict()
        if event.type == "checkout.session.completed" and session.get("payment_status") != "paid":
            return None  # a delayed method (a bank debit): its own event follows
        try:
            amount = int(session.get("amount_total") or 0)
            reference = str(session["client_reference_id"])
            # The payment's id; a session that ended unpaid has none, its own id stands in.
            paid_by = str(session.get("payment_intent") or session["id"])[:100]
        except (KeyError, TypeError, ValueError):
            raise BadSignature from None  # signed but not a checkout session: not ours
        if outcome == Outcome.PAID and (amount <= 0 or session.get("currency") != "usd"):
            raise BadSignature
        return Confirmation(
            processor_payment_id=paid_by, reference=reference, amount_cents=amount, outcome=outcome
        )


def _refund_notice(refund: dict[str, Any]) -> RefundNotice | None:
    """The refund an event reports, or None when it cannot be of one of our payments."""
    try:
        refund_id = str(refund["id"])
        amount = int(refund["amount"])
        status = str(refund.get("status") or "")
        reference = str((refund.get("metadata") or {}).get("reference") or "")
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BadSignature from None  # signed but not a refund: not ours
    intent = refund.get("payment_intent")
    if not isinstance(intent, str) or not intent or refund.get("currency") != "usd":
        return None  # ours are Checkout payments in dollars, each with its payment intent
    if amount <= 0 or not refund_id:
        raise BadSignature
    return RefundNotice(
        processor_refund_id=refund_id[:100],
        processor_payment_id=intent[:100],
        amount_cents=amount,
        state=_REFUND_STATES.get(status, RefundState.WAITING),
        reference=reference[:64],
        failed_because=_failure(status),
    )


def _failure(status: str) -> str:
    """Why a refund gave nothing back, in the office's words; blank for any other status."""
    match status:
        case "failed":
            return _("Stripe could not send this refund back to the card.")
        case "canceled":
            return _("This refund was cancelled in Stripe.")
        case _:
            return ""


def _refusal(exc: stripe.StripeError) -> str:
    """Why Stripe said no, in the office's words."""
    match exc.code:
        case "charge_disputed":
            return _(
                "The patient disputed this payment with their bank, so Stripe cannot refund it. "
                "The dispute is settled in the Stripe dashboard."
            )
        case "amount_too_large" | "charge_already_refunded":
            return _("Stripe has already refunded this payment, or more of it than is left.")
        case _ if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
            return _("Stripe did not accept the practice's secret key (Admin → Payments).")
        case _:
            return _("Stripe refused the refund (%(code)s).") % {
                "code": exc.code or type(exc).__name__
            }


def _why(exc: stripe.StripeError) -> str:
    """What the log may say of a Stripe error: its kind and code, never the request."""
    return f"{type(exc).__name__} {exc.http_status or ''} {exc.code or ''}".strip()
