"""WooCommerce objects -> canonical drafts: pure functions, no I/O.

A WooCommerce customer (``GET /wp-json/wc/v3/customers``) is a person-level record: account email,
billing email and phone, names, billing address. An order (``GET /wp-json/wc/v3/orders``) is a child
record carrying one canonical order:

* **Owner.** A registered customer's order names its owner in ``customer_id``; a guest order has
  ``customer_id: 0`` and only its billing email and phone. ``order_draft`` names the owner
  (``owner_type`` customer, ``owner_id``), so the order joins its customer by that id, even when the
  billing email differs from the account's; a guest order joins by its billing email and phone
  (``order_owner`` gives the owner's source key, ``woocommerce:customer:12``). Guest orders carry
  their billing names and country as traits (they are the guest's only record); orders of a
  registered customer leave the person's traits to the customer record.
* **Status.** ``ORDER_STATUSES`` maps WooCommerce's statuses to canonical ones (``completed`` and
  ``processing`` are paid; ``on-hold`` and ``pending`` wait for payment; ``failed`` and ``cancelled``
  never paid). A status a plugin added (``shipped``, ``delivered``) counts as paid when the order has
  a payment date (``date_paid_gmt``), else as pending.
* **Money.** ``total`` is a decimal string in the order's ``currency`` (the REST controllers write
  it with ``wc_format_decimal``: a point, no grouping), kept exact as ``Decimal``. A JSON number (a
  plugin's filter) and grouping that can only be grouping (``"1,234.50"``) are read too
  (``core.normalise.parse_amount``); an ambiguous total (``"19,90"``) is sent on as it came, and
  normalise drops the order with the reason.
  Refunds (``refunds[].total``, negative strings) are subtracted: a partly refunded order counts its
  net amount, a fully refunded one is ``refunded``.
* **Time.** Every ``*_gmt`` field is UTC without an offset (``2026-03-21T19:09:30``); the fields
  without ``_gmt`` are in the shop's timezone and are never read. A customer WooCommerce never saved
  has no ``date_modified``: its creation time stands in.

Never raises on bad data: a value of the wrong type is left out, a non-object element gives a draft
``core.normalise`` quarantines as such, and what it cannot use otherwise is quarantined with the
reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from core.errors import NormalisationError
from core.normalise import parse_amount
from core.schema import RecordDraft

SOURCE: Final = "woocommerce"
CUSTOMER: Final = "customer"
ORDER: Final = "order"

#: WooCommerce order status -> canonical status (wc_get_order_statuses(), plus the block checkout's
#: draft and the trash). Refunds are read from the order's ``refunds`` as well (see ``order_fragment``).
ORDER_STATUSES: Final[Mapping[str, str]] = {
    "completed": "paid",
    "processing": "paid",
    "on-hold": "pending",
    "pending": "pending",
    "checkout-draft": "pending",
    "refunded": "refunded",
    "cancelled": "cancelled",
    "failed": "cancelled",
    "trash": "cancelled",
}

_ADDRESS_TRAITS: Final = {
    "company": "company",
    "city": "city",
    "region": "state",
    "postal_code": "postcode",
}


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def _section(record: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = record.get(name)
    return value if isinstance(value, Mapping) else {}


def _distinct(*values: str) -> list[str]:
    return [v for v in dict.fromkeys(values) if v]


def record_id(record: Any) -> str:
    """The WooCommerce id as text (``12``); empty when the record has none."""
    return _text(record.get("id")) if isinstance(record, Mapping) else ""


def modified_at(record: Mapping[str, Any]) -> str:
    """When the record last changed, in UTC: ``date_modified_gmt``, else ``date_created_gmt``."""
    return _text(record.get("date_modified_gmt")) or _text(record.get("date_created_gmt"))


def customer_draft(customer: Any) -> RecordDraft:
    """A WooCommerce customer as a draft: account and billing email, billing and shipping phone,
    account names (billing names when the account has none) and the billing address."""
    if not isinstance(customer, Mapping):
        return RecordDraft.not_an_object(SOURCE, CUSTOMER, customer)
    billing, shipping = _section(customer, "billing"), _section(customer, "shipping")
    traits = {
        "first_name": _text(customer.get("first_name")) or _text(billing.get("first_name")),
        "last_name": _text(customer.get("last_name")) or _text(billing.get("last_name")),
        "country": _text(billing.get("country")) or _text(shipping.get("country")),
        **{trait: _text(billing.get(field)) for trait, field in _ADDRESS_TRAITS.items()},
    }
    return RecordDraft(
        source=SOURCE,
        object_type=CUSTOMER,
        source_id=record_id(customer),
        updated_at=modified_at(customer) or None,
        emails=_distinct(_text(customer.get("email")), _text(billing.get("email"))),
        phones=_distinct(_text(billing.get("phone")), _text(shipping.get("phone"))),
        traits={k: v for k, v in traits.items() if v},
        raw=dict(customer),
    )


def _decimal(value: Any, currency: str | None = None) -> Decimal | None:
    """An amount as ``core.normalise.parse_amount`` reads it in ``currency`` (a JSON number a plugin
    wrote, a grouping separator that can only be one), or None when it is not one."""
    try:
        return parse_amount(value, currency or None)
    except NormalisationError:
        return None


def order_status(order: Mapping[str, Any]) -> str:
    """The canonical status of a WooCommerce order (see ``ORDER_STATUSES``)."""
    status = _text(order.get("status"))
    if status in ORDER_STATUSES:
        return ORDER_STATUSES[status]
    return "paid" if _text(order.get("date_paid_gmt")) else "pending"


def order_fragment(order: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical order: id, net total (refunds subtracted) as Decimal, currency, creation time
    in UTC, status. A paid order refunded in full is ``refunded``."""
    raw_total, currency = order.get("total"), _text(order.get("currency"))
    total = _decimal(raw_total, currency)
    refunds = order.get("refunds")
    refunded = Decimal(0)
    for refund in refunds if isinstance(refunds, list) else []:
        written = refund.get("total") if isinstance(refund, Mapping) else None
        amount = _decimal(written, currency)
        if amount is None and written not in (None, ""):
            # (the net total is unknown: sent on as text normalise refuses, so the drop names it;
            # read as no refund, the order counted its gross)
            raw_total, total = f"refund {written!r}", None
            break
        refunded += abs(amount) if amount is not None else Decimal(0)
    status = order_status(order)
    if total is not None and refunded:
        total -= refunded
        if total <= 0 and status == "paid":
            status, total = "refunded", Decimal(0)
    fragment = {
        "id": record_id(order),
        # (a total that is not an amount goes as sent: normalise drops the order and says why)
        "total": raw_total if total is None else total,
        "currency": _text(order.get("currency")),
        "created_at": _text(order.get("date_created_gmt")) or None,
        "status": status,
    }
    reference = payment_reference(order)
    if reference is not None:
        fragment["payment_refs"] = [reference]
    return fragment


#: A payment id as a reference holds it (core.normalise._payment_refs): printable ASCII, no space.
_TOKEN: Final = re.compile(r"[\x21-\x7e]{1,200}")


def payment_reference(order: Mapping[str, Any]) -> str | None:
    """The Stripe payment that paid an order through WooCommerce's Stripe gateway, ``stripe:<id>``.

    The gateway (woocommerce/woocommerce-gateway-stripe, ``process_response``) writes the charge's id
    (older versions) or the PaymentIntent's (newer ones) into the order's ``transaction_id``; its
    payment methods are ``stripe`` and ``stripe_<method>`` (``stripe_sepa``, ``stripe_ideal``, ...).
    Another gateway's transaction id names a payment in a tool the project does not connect: None.
    So does WooPayments' (``woocommerce_payments``): its payments are on WooPayments' Stripe account,
    not the shop's."""
    method = _text(order.get("payment_method"))
    transaction = _text(order.get("transaction_id"))
    if not (method == "stripe" or method.startswith("stripe_")) or _TOKEN.fullmatch(transaction) is None:
        return None  # (an id normalising would refuse, with the order, is left out: the order counts)
    return f"stripe:{transaction}"


def order_owner(order: Mapping[str, Any]) -> str | None:
    """The source key of the customer who owns this order (``woocommerce:customer:12``), or None for
    a guest order (``customer_id`` 0)."""
    owner = order.get("customer_id")
    if isinstance(owner, int) and not isinstance(owner, bool) and owner > 0:
        return f"{SOURCE}:{CUSTOMER}:{owner}"
    return None


def order_draft(order: Any) -> RecordDraft:
    """A WooCommerce order as a draft: its billing email and phone as identifiers, the order itself,
    and (a guest's only record) the billing names and country as traits."""
    if not isinstance(order, Mapping):
        return RecordDraft.not_an_object(SOURCE, ORDER, order)
    billing = _section(order, "billing")
    traits: dict[str, str] = {}
    if order_owner(order) is None:
        traits = {
            "first_name": _text(billing.get("first_name")),
            "last_name": _text(billing.get("last_name")),
            "country": _text(billing.get("country")),
        }
    return RecordDraft(
        source=SOURCE,
        object_type=ORDER,
        source_id=record_id(order),
        updated_at=modified_at(order) or None,
        emails=_distinct(_text(billing.get("email"))),
        phones=_distinct(_text(billing.get("phone"))),
        traits={k: v for k, v in traits.items() if v},
        orders=[order_fragment(order)],
        owner_type=CUSTOMER,
        # customer_id 0 is a guest: no owner, so the order joins by its billing email and phone.
        owner_id=order.get("customer_id") if order_owner(order) is not None else None,
        raw=dict(order),
    )


__all__ = [
    "CUSTOMER",
    "ORDER",
    "ORDER_STATUSES",
    "SOURCE",
    "customer_draft",
    "modified_at",
    "order_draft",
    "order_fragment",
    "order_owner",
    "order_status",
    "payment_reference",
    "record_id",
]
