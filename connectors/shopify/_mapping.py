"""Shopify objects <-> profilesync shapes: pure functions, no I/O.

Ids are GIDs (``gid://shopify/Customer/123``). A record's ``source_id`` is the GID's numeric tail
(``123``), so a record key reads ``shopify:customer:123``; the push's ``match_key`` is the full GID,
which is what ``metafieldsSet`` takes as ``ownerId``.

The echo rule: pushing metafields moves a customer's ``updatedAt``, so the next incremental pull
brings the customer back. The draft holds only the person's own fields (name, email, phone, country,
consent with its own timestamp), never the metafields profilesync wrote, so the echo changes nothing
downstream but the record's timestamp.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal
from typing import Any, Final

from core.connector import Payload
from core.push import enriched_traits, primary_email
from core.schema import Profile, RecordDraft

SOURCE: Final = "shopify"
CUSTOMER: Final = "customer"
ORDER: Final = "order"
_GID_PREFIX = "gid://shopify/"

#: The enriched traits as customer metafields: key -> metafield type
#: (https://shopify.dev/docs/apps/build/custom-data/metafields/list-of-data-types).
METAFIELD_TYPES: Final[Mapping[str, str]] = {
    "customer_id": "single_line_text_field",
    "lifetime_value": "number_decimal",
    "lifetime_value_currency": "single_line_text_field",
    "order_count": "number_integer",
    "average_order_value": "number_decimal",
    "last_order_at": "date",
    "segment": "single_line_text_field",
}

#: How each metafield is named in the Shopify admin when profilesync creates its definition.
METAFIELD_NAMES: Final[Mapping[str, str]] = {
    "customer_id": "Profilesync customer ID",
    "lifetime_value": "Lifetime value",
    "lifetime_value_currency": "Lifetime value currency",
    "order_count": "Order count",
    "average_order_value": "Average order value",
    "last_order_at": "Last order date",
    "segment": "Segment",
}

# displayFinancialStatus -> canonical order status. A cancelled order (cancelledAt set) is cancelled
# whatever its payment state; an expired authorisation was never captured, so it counts as cancelled.
_FINANCIAL_STATUS: Final[Mapping[str, str]] = {
    "PAID": "paid",
    # Counts what was received less refunds (``netPaymentSet``), not the order's value: a deposit of
    # 300.00 on 1,000.00 is 300.00 paid (``order_draft``); nothing received yet is no purchase yet.
    "PARTIALLY_PAID": "paid",
    "PENDING": "pending",
    "AUTHORIZED": "pending",
    "REFUNDED": "refunded",
    # What was kept was paid: the order counts with its current total (``order_draft``).
    "PARTIALLY_REFUNDED": "paid",
    "VOIDED": "cancelled",
    "EXPIRED": "cancelled",
}

# defaultEmailAddress.marketingState -> consent. Only explicit decisions count: NOT_SUBSCRIBED (never
# asked), PENDING (double opt-in not confirmed yet) and INVALID say nothing about what the person chose.
_EMAIL_CONSENT: Final[Mapping[str, bool]] = {"SUBSCRIBED": True, "UNSUBSCRIBED": False}


def gid(kind: str, numeric_id: str) -> str:
    """``gid("Customer", "123")`` -> ``gid://shopify/Customer/123``."""
    return f"{_GID_PREFIX}{kind}/{numeric_id}"


def gid_tail(value: Any) -> str:
    """The numeric tail of a GID (``gid://shopify/Order/456`` -> ``456``); other values as text."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    if text.startswith(_GID_PREFIX):
        return text.rsplit("/", 1)[-1].split("?", 1)[0]
    return text


def stored_id(object_type: str, source_id: str) -> str:
    """A record id as profilesync keeps it (``ConnectorSpec.stored_id``): the numeric tail of a GID
    of that type (``customer``, ``gid://shopify/Customer/123`` -> ``123``), as the Admin GraphQL API
    and a webhook's ``admin_graphql_api_id`` write it; any other id, a malformed GID among them
    (``gid://shopify/Customer/1/2`` names no customer), as given."""
    if source_id.startswith(_GID_PREFIX):
        kind, _, rest = source_id[len(_GID_PREFIX) :].partition("/")
        numeric = rest.partition("?")[0]
        if kind.casefold() == object_type.casefold() and numeric.isdigit():
            return numeric
    return source_id


def _record_id(value: Any) -> Any:
    """A node's id as a record id: a GID's tail, an integer as text; anything else as found, for
    normalisation to refuse with the reason (a list or an object is no id)."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return gid_tail(value)
    return value


def _at(node: Any, *path: str) -> Any:
    current = node
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def customer_draft(node: Mapping[str, Any]) -> RecordDraft:
    """A Shopify Customer as a draft: email, phone, names, default address country, email consent."""
    email = _at(node, "defaultEmailAddress", "emailAddress")
    phone = _at(node, "defaultPhoneNumber", "phoneNumber")
    traits = {
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "country": _at(node, "defaultAddress", "countryCodeV2"),
    }
    consent: dict[str, Any] = {}
    granted = _EMAIL_CONSENT.get(str(_at(node, "defaultEmailAddress", "marketingState")))
    if granted is not None:
        # The consent's own timestamp, never the record's updatedAt (which a metafield push moves):
        # marketingUpdatedAt, or the customer's creation when Shopify has none (imported customers).
        changed_at = _at(node, "defaultEmailAddress", "marketingUpdatedAt") or node.get("createdAt")
        consent["email"] = {"granted": granted, "changed_at": changed_at}
    return RecordDraft(
        source=SOURCE,
        object_type=CUSTOMER,
        source_id=_record_id(node.get("id")),
        updated_at=node.get("updatedAt"),
        emails=[email] if _present(email) else [],
        phones=[phone] if _present(phone) else [],
        traits={k: v for k, v in traits.items() if _present(v)},
        consent=consent,
        raw=dict(node),
    )


def order_status(node: Mapping[str, Any]) -> str:
    """The canonical status of a Shopify order (see ``_FINANCIAL_STATUS``). A test order
    (``Order.test``: the Bogus Gateway or a provider's test mode; "A test order can't be converted
    into a real order") is no purchase, whatever its payment state: cancelled."""
    if _present(node.get("cancelledAt")) or node.get("test") is True:
        return "cancelled"
    status = _FINANCIAL_STATUS.get(str(node.get("displayFinancialStatus")), "pending")
    if node.get("displayFinancialStatus") == "PARTIALLY_PAID" and not _received(node):
        return "pending"  # nothing received (or not asked for): no purchase yet
    return status


def _received(node: Mapping[str, Any]) -> bool:
    """Whether an order's ``netPaymentSet`` (received less refunded) is an amount above zero."""
    amount = _at(node, "netPaymentSet", "shopMoney", "amount")
    try:
        return _present(amount) and Decimal(str(amount)) > 0
    except ArithmeticError:
        return True  # a malformed amount: normalisation drops the order with its reason (dropped)


def guest_order_traits(node: Mapping[str, Any]) -> dict[str, str]:
    """What an order with no customer (a guest checkout, a draft or POS sale made out to the shop's
    own email, a deleted customer's order: it joins by its email and phone, and is the buyer's only
    record) says of its buyer: the billing address's ``firstName``, ``lastName`` and
    ``countryCodeV2``, the country from the ``shippingAddress`` when the billing address has none
    (Shopify: "Returns null if no billing address was provided during checkout"), as Stripe's guest
    charges do. The buyer then counts under the guardrail as the person named
    (``core.identity.limit_holder``), and the order's phone is read in that country. The shipping
    address gives no name: a gift's recipient is not the buyer. An order of a customer brings
    none: it joins that customer's profile by the customer id."""
    if _present(_at(node, "customer", "id")):
        return {}
    billing = node.get("billingAddress")
    billing = billing if isinstance(billing, Mapping) else {}
    found = {
        "first_name": billing.get("firstName"),
        "last_name": billing.get("lastName"),
        "country": billing.get("countryCodeV2"),
    }
    if not _present(found["country"]):
        found["country"] = _at(node, "shippingAddress", "countryCodeV2")
    return {k: v.strip() for k, v in found.items() if isinstance(v, str) and _present(v)}


def order_draft(node: Mapping[str, Any]) -> RecordDraft:
    """A Shopify Order as a draft: a child of its customer (``customer.id``), which it joins by that id
    alone; an order with no customer (a guest checkout, a deleted customer) joins by its email or
    phone and brings its buyer's billing name and country as traits (``guest_order_traits``). The
    order itself is the draft's one order.

    The total is the shop-currency amount as Shopify sends it (a decimal string, kept exact): for an
    order that counts as paid, ``currentTotalPriceSet``, the total after refunds and edits (a 100.00
    order with 30.00 refunded counts 70.00, as Stripe's partial refunds do), else (a refunded or
    cancelled order, or a node without it) ``totalPriceSet``, what was ordered
    (https://shopify.dev/docs/api/admin-graphql/latest/objects/Order#field-currentTotalPriceSet);
    for a ``PARTIALLY_PAID`` one, ``netPaymentSet``, what was received less refunds (a 300.00 deposit
    on a 1,000.00 order counts 300.00). A test order (``test``) is cancelled (``order_status``).
    The date is ``processedAt`` (when the sale happened; imported orders keep their original date
    there), else ``createdAt``.
    """
    order_id = _record_id(node.get("id"))
    customer = _at(node, "customer", "id")
    status = order_status(node)
    money = _at(node, "totalPriceSet", "shopMoney")
    current = _at(node, "currentTotalPriceSet", "shopMoney")
    if status == "paid" and node.get("displayFinancialStatus") == "PARTIALLY_PAID":
        money = _at(node, "netPaymentSet", "shopMoney")  # what was paid of it (order_status)
    elif status == "paid" and isinstance(current, Mapping) and _present(current.get("amount")):
        money = current
    order = {
        "id": order_id,
        "total": _at(money, "amount"),
        "currency": _at(money, "currencyCode"),
        "created_at": node.get("processedAt") or node.get("createdAt"),
        "status": status,
    }
    email, phone = node.get("email"), node.get("phone")
    return RecordDraft(
        source=SOURCE,
        object_type=ORDER,
        source_id=order_id,
        updated_at=node.get("updatedAt"),
        emails=[email] if _present(email) else [],
        phones=[phone] if _present(phone) else [],
        traits=guest_order_traits(node),
        orders=[order],
        owner_type=CUSTOMER,
        owner_id=_record_id(customer) if _present(customer) else None,
        raw=dict(node),
    )


def draft(object_type: str, node: Any) -> RecordDraft:
    """Map one pulled node; never raises (a node that is not an object, or of a shape no mapping
    foresaw, gives a draft that normalisation quarantines with the reason)."""
    if not isinstance(node, Mapping):
        return RecordDraft.not_an_object(SOURCE, object_type, node)
    try:
        return order_draft(node) if object_type == ORDER else customer_draft(node)
    except Exception as error:  # a shape no mapping foresaw: quarantined, the page goes on
        return RecordDraft(
            source=SOURCE,
            object_type=object_type,
            problem=f"could not be mapped: {type(error).__name__}: {str(error)[:200]}",
            raw=dict(node),
        )


def shopify_customer_id(profile: Profile) -> str | None:
    """The Shopify customer this profile's traits go to: the lowest id when several (duplicates),
    so the choice never flips between pushes."""
    ids = [ref.id for ref in profile.sources if ref.source == SOURCE and ref.object_type == CUSTOMER]
    if not ids:
        return None
    return min(ids, key=lambda i: (len(i), i))


def payload_for(profile: Profile, namespace: str) -> Payload | None:
    """The customer metafields for one profile: for its Shopify customer (matched on the customer's GID),
    or, for someone the shop does not hold, with what ``customerCreate`` needs (matched on the primary
    email; group ``create``). None without either.

    Empty traits (no last order yet, no currency) are left out: Shopify refuses blank metafield
    values. Nothing volatile goes in, so equal profiles give equal hashes.
    """
    customer = shopify_customer_id(profile)
    traits = enriched_traits(profile)
    metafields = [
        {"namespace": namespace, "key": key, "type": kind, "value": traits[key]}
        for key, kind in METAFIELD_TYPES.items()
        if traits.get(key, "") != ""
    ]
    if customer is not None:
        return Payload(
            customer_id=profile.customer_id,
            match_key=gid("Customer", customer),
            body={"metafields": metafields},
        )
    email = primary_email(profile)
    if email is None:
        return None
    return Payload(
        customer_id=profile.customer_id,
        match_key=email,
        body={"metafields": metafields, "customer": _new_customer(profile, email)},
        group="create",
    )


def _new_customer(profile: Profile, email: str) -> dict[str, Any]:
    """``CustomerInput`` for someone the shop does not hold: names, email, and the email consent that
    allowed creating them (Shopify's channel is email: ``PushRules.channel``)."""
    found: dict[str, Any] = {"email": email}
    for trait, field in (("first_name", "firstName"), ("last_name", "lastName")):
        value = profile.traits.get(trait)
        if value is not None and value.value:
            found[field] = value.value
    consent = profile.consent.get("email")
    if consent is not None and consent.granted:
        found["emailMarketingConsent"] = {
            "marketingState": "SUBSCRIBED",
            "marketingOptInLevel": "SINGLE_OPT_IN",
            "consentUpdatedAt": consent.changed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    return found


__all__ = [
    "CUSTOMER",
    "METAFIELD_NAMES",
    "METAFIELD_TYPES",
    "ORDER",
    "SOURCE",
    "customer_draft",
    "draft",
    "gid",
    "gid_tail",
    "guest_order_traits",
    "order_draft",
    "order_status",
    "payload_for",
    "shopify_customer_id",
    "stored_id",
]
