"""A Stripe charge as a canonical order: what the buyer paid, in major units, and its status.

Stripe's Charge object (https://docs.stripe.com/api/charges/object; ``specs/stripe-api.json.gz``):

* ``amount``: what the charge asked for, in the currency's minor unit.
* ``captured``: a charge created with ``capture=false`` is an authorisation only (a hold): ``paid``
  is true and ``status`` is ``succeeded``, yet no money was taken (``amount_captured`` 0) until
  ``POST /v1/charges/{id}/capture`` (event ``charge.captured``). One never captured expires after
  7 days by default: it is "marked as refunded and will no longer be capturable" (event
  ``charge.expired``).
* ``amount_captured``: what was taken. A capture of less than ``amount``: "Any additional amount
  will be automatically refunded" (the capture's ``amount``), so that remainder is in
  ``amount_refunded`` too.
* ``amount_refunded``: what went back; ``refunded`` is true only when all of it did.
* ``status``: ``succeeded``, ``pending`` or ``failed``.

The order (its ``total`` and ``status``; only ``paid`` orders count towards lifetime value):

=========================================  ==========  ========================================
charge                                     status      total
=========================================  ==========  ========================================
``failed``                                 cancelled   ``amount``
not captured, not refunded                 pending     ``amount`` (held, not taken)
not captured, refunded (expired/released)  cancelled   ``amount``
captured, ``succeeded``, some kept         paid        ``amount_captured`` less the part of it
                                                       refunded: ``min(amount_captured, amount
                                                       - amount_refunded)``
captured, another status, some kept       pending     the same
captured, nothing kept (``refunded``)      refunded    ``amount_captured``
=========================================  ==========  ========================================

A charge without ``captured`` (an object recorded before Stripe had the field, or built by hand)
reads as captured, and without ``amount_captured`` as captured whole.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, TypeGuard

from connectors._http import value_at

#: ISO 4217 minor-unit exponents that are not 2, for the currencies Stripe charges in
#: (https://docs.stripe.com/currencies#zero-decimal and #three-decimal).
EXPONENTS = {
    **dict.fromkeys(
        [
            "bif",
            "clp",
            "djf",
            "gnf",
            "jpy",
            "kmf",
            "krw",
            "mga",
            "pyg",
            "rwf",
            "ugx",
            "vnd",
            "vuv",
            "xaf",
            "xof",
            "xpf",
        ],
        0,
    ),
    **dict.fromkeys(["bhd", "jod", "kwd", "omr", "tnd"], 3),
}


def to_major(amount: Any, currency: str) -> Decimal | None:
    """A Stripe amount (integer, minor units) in major units: 1999 usd -> 19.99, 500 jpy -> 500."""
    if not _whole(amount):
        return None
    return Decimal(amount).scaleb(-EXPONENTS.get(currency.lower(), 2))


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _status_and_amount(charge: dict[str, Any]) -> tuple[str, Any]:
    """The order's status and its total in minor units (see the module docstring's table)."""
    amount = charge.get("amount")
    if charge.get("status") == "failed":
        return "cancelled", amount
    if charge.get("captured") is False:
        # An authorisation: held, never taken; released (refunded) when it expired or was cancelled.
        return ("cancelled" if charge.get("refunded") else "pending"), amount
    captured = charge.get("amount_captured")
    captured = amount if captured is None else captured
    if not _whole(amount) or not _whole(captured):
        return ("refunded" if charge.get("refunded") else "pending"), amount
    given_back = charge.get("amount_refunded")
    refunded = given_back if _whole(given_back) and given_back > 0 else 0
    # The refunds of the captured part, and the remainder a partial capture released (refunded too).
    kept = min(captured, amount - refunded)
    if charge.get("refunded") or kept <= 0:
        return "refunded", captured
    return ("paid" if charge.get("status") == "succeeded" else "pending"), kept


def charge_order(charge: dict[str, Any]) -> dict[str, Any]:
    """One charge as a canonical order fragment (see the module docstring)."""
    currency = charge.get("currency")
    currency = currency if isinstance(currency, str) else ""
    status, amount = _status_and_amount(charge)
    fragment = {
        "id": charge.get("id"),
        "total": to_major(amount, currency),
        "currency": currency.upper(),
        "created_at": value_at(charge, "created"),
        "status": status,
    }
    refs = payment_refs(charge)
    if refs:
        fragment["payment_refs"] = refs
    return fragment


def payment_refs(charge: dict[str, Any]) -> list[str]:
    """The charge's own id and its PaymentIntent's, ``stripe:<id>``: what a shop's order names when
    its gateway took the payment through Stripe (WooCommerce's ``transaction_id``), so the two are
    counted as one purchase (core.purchases). ``payment_intent`` is an id, or the PaymentIntent
    object when the list was expanded."""
    intent = charge.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    ids = (charge.get("id"), intent)
    return [f"stripe:{i}" for i in ids if isinstance(i, str) and _TOKEN.fullmatch(i) is not None]


#: A payment id as a reference holds it (core.normalise._payment_refs): printable ASCII, no space.
_TOKEN = re.compile(r"[\x21-\x7e]{1,200}")


__all__ = ["EXPONENTS", "charge_order", "payment_refs", "to_major"]
