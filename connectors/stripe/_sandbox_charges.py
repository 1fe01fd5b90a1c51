"""The Stripe sandbox's charge writes, as the stripe SDK's ``charges`` service calls them.

From Stripe's API reference (https://docs.stripe.com/api/charges) and its published spec
(``specs/stripe-api.json.gz``):

* ``POST /v1/charges`` (``charges.create``): form-encoded ``amount`` (a positive integer in the
  currency's minor unit), ``currency`` (three letters), ``customer``, ``capture`` ("Whether to
  immediately capture the charge. Defaults to true. When false, the charge issues an authorization
  ... and will need to be captured later"). Answers the charge and records ``charge.succeeded``
  (an authorisation succeeds too: ``status: succeeded``, ``paid: true``, ``captured: false``,
  ``amount_captured: 0``).
* ``POST /v1/charges/{id}/capture`` (``charges.capture``): "Capture the payment of an existing,
  uncaptured, charge"; ``amount`` at most the charge's, "Any additional amount will be automatically
  refunded". Records ``charge.captured``. A charge captured already, or expired, is refused (400,
  ``charge_already_captured`` / ``charge_expired_for_capture``).
* A bank debit (``source`` a bank account: a ``btok_`` token or a ``ba_`` id, as ACH Direct Debit
  charges are made through this API): "the charge's status is ``pending`` ... until the payment
  either succeeds or fails", a few business days later (https://docs.stripe.com/payments/
  payment-methods#payment-notification; the spec's charge ``status`` enum: ``failed``, ``pending``,
  ``succeeded``). Created ``pending``, ``paid: false``, ``captured: true``, recording
  ``charge.pending``; settled by ``StripeSandbox.settle_charges`` (a control: the bank answers by
  its clock) as ``succeeded``/``paid: true`` with ``charge.succeeded``, or ``failed`` with a
  ``failure_code`` and ``charge.failed``.
* Expiry (``StripeSandbox.expire_charges``, a control: Stripe does it by its clock, 7 days after an
  authorisation by default): "they will be marked as refunded and will no longer be capturable";
  records ``charge.expired``.

Simplifications: no payment method is asked for or checked (``source`` is ignored), no minimum
amount, and a partial capture records no ``charge.refunded`` for the remainder it releases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import httpx

from ._sandbox_objects import card_charge
from ._sandbox_wire import error

if TYPE_CHECKING:
    from ._sandbox import StripeSandbox

_CURRENCY: Final = re.compile(r"[a-z]{3}")
#: A charge's ``source`` that is a bank account (a token or an id): its charge is a pending debit.
BANK_SOURCES: Final = ("btok_", "ba_")
_BOOLEANS: Final = {"true": True, "false": False}


def _refused(message: str, param: str, code: str = "parameter_invalid") -> httpx.Response:
    return error(400, "invalid_request_error", message, code, param)


def _missing(charge_id: str) -> httpx.Response:
    return error(404, "invalid_request_error", f"No such charge: '{charge_id}'", "resource_missing", "id")


def create(sb: StripeSandbox, params: Mapping[str, str]) -> httpx.Response | dict[str, Any]:
    """``POST /v1/charges`` (call under ``sb.lock``)."""
    amount = params.get("amount", "")
    if not amount.isdigit() or int(amount) < 1:
        return _refused("Invalid positive integer", "amount", "parameter_invalid_integer")
    currency = params.get("currency", "").lower()
    if not _CURRENCY.fullmatch(currency):
        return _refused(f"Invalid currency: {params.get('currency', '')}", "currency")
    capture = _BOOLEANS.get(params.get("capture", "true"))
    if capture is None:
        return _refused("Invalid boolean: capture", "capture", "parameter_invalid_boolean")
    owner = params.get("customer")
    customer = None if owner is None else sb.customers.get(owner)
    if owner is not None and customer is None:
        return error(
            400, "invalid_request_error", f"No such customer: '{owner}'", "resource_missing", "customer"
        )
    now = sb.clock.now()
    charge = card_charge(sb, customer, int(amount), currency, now, captured=capture)
    if params.get("source", "").startswith(BANK_SOURCES):
        charge.update(status="pending", paid=False)
        sb._event("charge.pending", charge, now)
        return charge
    sb._event("charge.succeeded", charge, now)
    return charge


def settle(sb: StripeSandbox, charge_ids: Iterable[str], at: datetime, *, succeeded: bool) -> None:
    """The bank's answer to these pending debits at ``at``: ``succeeded`` (``charge.succeeded``) or
    ``failed`` (``charge.failed``, ``failure_code`` ``account_closed``) (call under ``sb.lock``). A
    charge not pending is a mistake of the test."""
    for charge_id in charge_ids:
        charge = sb.charges[charge_id]
        if charge["status"] != "pending":
            raise ValueError(f"{charge_id} is not a pending charge: it cannot settle")
        if succeeded:
            charge.update(status="succeeded", paid=True)
            sb._event("charge.succeeded", charge, at)
        else:
            charge.update(
                status="failed",
                paid=False,
                failure_code="account_closed",
                failure_message="The customer's bank account has been closed.",
            )
            sb._event("charge.failed", charge, at)


def capture(sb: StripeSandbox, charge_id: str, params: Mapping[str, str]) -> httpx.Response | dict[str, Any]:
    """``POST /v1/charges/{id}/capture`` (call under ``sb.lock``)."""
    charge = sb.charges.get(charge_id)
    if charge is None:
        return _missing(charge_id)
    if charge["captured"]:
        return _refused(f"Charge {charge_id} has already been captured.", "charge", "charge_already_captured")
    if charge["refunded"]:
        return _refused(
            f"Charge {charge_id} has expired for capture.", "charge", "charge_expired_for_capture"
        )
    wanted = params.get("amount", str(charge["amount"]))
    if not wanted.isdigit() or not 1 <= int(wanted) <= charge["amount"]:
        return _refused(
            "The amount to capture must be a positive integer at most the charge's amount.",
            "amount",
            "amount_too_large",
        )
    taken = int(wanted)
    # The rest of the hold is released: "Any additional amount will be automatically refunded".
    charge.update(captured=True, amount_captured=taken, amount_refunded=charge["amount"] - taken)
    sb._event("charge.captured", charge, sb.clock.now())
    return charge


def expire(sb: StripeSandbox, charge_ids: Iterable[str], at: datetime) -> None:
    """Let these authorisations expire at ``at``: refunded, no longer capturable, ``charge.expired``
    (call under ``sb.lock``). A charge captured, or expired already, is a mistake of the test."""
    for charge_id in charge_ids:
        charge = sb.charges[charge_id]
        if charge["captured"] or charge["refunded"]:
            raise ValueError(f"{charge_id} is not an uncaptured authorisation: it cannot expire")
        charge.update(refunded=True, amount_refunded=charge["amount"])
        sb._event("charge.expired", charge, at)


def route(
    sb: StripeSandbox, method: str, parts: list[str], params: Mapping[str, str]
) -> httpx.Response | dict[str, Any] | None:
    """The answer to a charge write (``parts`` after ``/v1/charges``), or None when it is none."""
    if method != "POST":
        return None
    if not parts:
        return create(sb, params)
    if len(parts) == 2 and parts[1] == "capture":
        return capture(sb, parts[0], params)
    return None


__all__ = ["BANK_SOURCES", "capture", "create", "expire", "route", "settle"]
