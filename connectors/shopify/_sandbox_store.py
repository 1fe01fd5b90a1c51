"""The Shopify sandbox's shop, order line items and customer writes (Admin GraphQL 2026-01).

What ShopifyAPI users most often ask for besides customers and orders, with Shopify's shapes (the
types in ``specs/shopify-admin-2026-01.graphql.gz``; every answer is validated against them in tests):

* ``shop``: the store's id, name, emails, ``myshopifyDomain``, currency, time zone, plan and primary
  domain.
* ``Order.lineItems``: each order's lines (title, quantity, SKU, unit and total prices as
  ``MoneyBag``s), made once per order from its id so that the lines add up to the order's total.
* ``customerCreate`` and ``customerUpdate`` (https://shopify.dev/docs/api/admin-graphql/latest/
  mutations/customerUpdate): ``CustomerInput``'s names, email, phone, note, tags (kept sorted and
  unique) and metafields (checked as ``metafieldsSet`` checks them); problems come back as
  ``userErrors`` (``field``, ``message``) with a null customer, never as top-level errors. An email or
  phone another customer has is "has already been taken"; an update naming an unknown customer is
  "Customer does not exist"; ``emailMarketingConsent`` is refused on update (Shopify's own message
  points at ``customerEmailMarketingConsentUpdate``) and taken on create.
"""

from __future__ import annotations

import random
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from . import _sandbox_mutations as mutations
from . import _sandbox_seed as seeding

if TYPE_CHECKING:
    from ._graphql import Field
    from ._sandbox import ShopifySandbox

_S: Final = ("scalar", None)
_MONEY: Final = ("object", "MoneyBag")

#: Fields this module adds to the sandbox's type table (type -> field -> (shape, target type)).
FIELDS: Final[dict[str, dict[str, tuple[str, str | None]]]] = {
    "QueryRoot": {"shop": ("object", "Shop")},
    "Mutation": {
        "customerCreate": ("object", "CustomerCreatePayload"),
        "customerUpdate": ("object", "CustomerUpdatePayload"),
    },
    "Order": {"lineItems": ("connection", "LineItem")},
    "Shop": {
        **dict.fromkeys(
            (
                "id",
                "name",
                "email",
                "contactEmail",
                "myshopifyDomain",
                "currencyCode",
                "ianaTimezone",
                "timezoneAbbreviation",
                "createdAt",
                "updatedAt",
                "url",
            ),
            _S,
        ),
        "plan": ("object", "ShopPlan"),
        "primaryDomain": ("object", "Domain"),
    },
    "ShopPlan": dict.fromkeys(("displayName", "publicDisplayName", "partnerDevelopment", "shopifyPlus"), _S),
    "Domain": dict.fromkeys(("id", "host", "url", "sslEnabled"), _S),
    "LineItem": {
        **dict.fromkeys(
            (
                "id",
                "name",
                "title",
                "quantity",
                "currentQuantity",
                "sku",
                "variantTitle",
                "vendor",
                "requiresShipping",
                "taxable",
                "isGiftCard",
            ),
            _S,
        ),
        "originalUnitPriceSet": _MONEY,
        "discountedUnitPriceSet": _MONEY,
        "originalTotalSet": _MONEY,
        "discountedTotalSet": _MONEY,
    },
    "CustomerCreatePayload": {"customer": ("object", "Customer"), "userErrors": ("list", "UserError")},
    "CustomerUpdatePayload": {"customer": ("object", "Customer"), "userErrors": ("list", "UserError")},
    "UserError": dict.fromkeys(("field", "message"), _S),
}

_PRODUCTS: Final = (
    ("Linen shirt", "M"),
    ("Canvas tote", None),
    ("Ceramic mug", None),
    ("Wool socks", "Pair"),
    ("Notebook", "A5"),
    ("Beeswax candle", None),
)
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_PHONE: Final = re.compile(r"^\+?[0-9][0-9 ()-]{5,19}$")
_CONSENT_STATES: Final = frozenset({"SUBSCRIBED", "NOT_SUBSCRIBED", "UNSUBSCRIBED", "PENDING"})


def shop(sandbox: ShopifySandbox) -> dict[str, Any]:
    """The ``shop`` object."""
    domain = f"{sandbox.shop}.myshopify.com"
    return {
        "id": "gid://shopify/Shop/60000000001",
        "name": "profilesync sandbox",
        "email": "owner@example.com",
        "contactEmail": "shop@example.com",
        "myshopifyDomain": domain,
        "currencyCode": "GBP",
        "ianaTimezone": "Europe/London",
        "timezoneAbbreviation": "GMT",
        "createdAt": "2025-01-01T00:00:00Z",
        "updatedAt": "2025-01-01T00:00:00Z",
        "url": f"https://{domain}",
        "plan": {
            "displayName": "Basic",
            "publicDisplayName": "Basic",
            "partnerDevelopment": False,
            "shopifyPlus": False,
        },
        "primaryDomain": {
            "id": "gid://shopify/Domain/60000000002",
            "host": domain,
            "url": f"https://{domain}",
            "sslEnabled": True,
        },
    }


def _money(cents: int, currency: str) -> dict[str, Any]:
    amount = {"amount": f"{Decimal(cents) / 100:.2f}", "currencyCode": currency}
    return {"shopMoney": amount, "presentmentMoney": dict(amount)}


def line_items(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's lines, made once from its id: their totals add up to the order's total."""
    cached: list[dict[str, Any]] | None = order.get("_lineItems")
    if cached is not None:
        return cached
    rng = random.Random(order["_num"])
    cents = int((Decimal(str(order["totalPriceSet"]["shopMoney"]["amount"])) * 100).to_integral_value())
    count = min(1 + rng.randrange(3), max(1, cents))
    cuts = sorted(rng.sample(range(1, cents), count - 1)) if count > 1 else []
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, cents], strict=True)]
    currency = str(order["currencyCode"])
    lines: list[dict[str, Any]] = []
    for index, part in enumerate(parts):
        quantity = 2 if part % 2 == 0 and part > 0 and rng.random() < 0.3 else 1
        title, variant = _PRODUCTS[rng.randrange(len(_PRODUCTS))]
        number = order["_num"] * 10 + index
        lines.append(
            {
                "id": f"gid://shopify/LineItem/{number}",
                "name": f"{title} - {variant}" if variant else title,
                "title": title,
                "variantTitle": variant,
                "sku": f"SBX-{title[:3].upper()}-{rng.randrange(100, 999)}",
                "vendor": "profilesync sandbox",
                "quantity": quantity,
                "currentQuantity": quantity,
                "requiresShipping": True,
                "taxable": True,
                "isGiftCard": False,
                "originalUnitPriceSet": _money(part // quantity, currency),
                "discountedUnitPriceSet": _money(part // quantity, currency),
                "originalTotalSet": _money(part, currency),
                "discountedTotalSet": _money(part, currency),
                "_num": number,
            }
        )
    order["_lineItems"] = lines
    return lines


def _error(field: list[str], message: str) -> dict[str, Any]:
    return {"field": field, "message": message}


def _email_of(customer: dict[str, Any]) -> str | None:
    address = customer.get("defaultEmailAddress") or {}
    email = address.get("emailAddress")
    return str(email) if email else None


def _check(sandbox: ShopifySandbox, values: dict[str, Any], own: int | None) -> list[dict[str, Any]]:
    """Why Shopify would refuse these customer fields (an empty list when it would take them)."""
    errors: list[dict[str, Any]] = []
    others = [c for num, c in sandbox.customers.items() if num != own]
    email = values.get("email")
    if email:
        if not _EMAIL.match(str(email).strip()):
            errors.append(_error(["email"], "Email is invalid"))
        elif any((_email_of(c) or "").casefold() == str(email).strip().casefold() for c in others):
            errors.append(_error(["email"], "Email has already been taken"))
    phone = values.get("phone")
    if phone:
        if not _PHONE.match(str(phone).strip()):
            errors.append(_error(["phone"], "Phone is invalid"))
        elif any(
            ((c.get("defaultPhoneNumber") or {}).get("phoneNumber")) == str(phone).strip() for c in others
        ):
            errors.append(_error(["phone"], "Phone has already been taken"))
    tags = values.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        errors.append(_error(["tags"], "Tags must be a list of strings"))
    return errors


def _apply(sandbox: ShopifySandbox, customer: dict[str, Any], values: dict[str, Any]) -> None:
    for name in ("firstName", "lastName", "note"):
        if name in values:
            customer[name] = values[name] or None
    if "tags" in values:
        customer["tags"] = sorted({t.strip() for t in values["tags"] or [] if t.strip()})
    if "email" in values:
        email = str(values["email"] or "").strip()
        if not email:
            customer["defaultEmailAddress"] = None
        elif customer.get("defaultEmailAddress"):
            customer["defaultEmailAddress"]["emailAddress"] = email
        else:
            customer["defaultEmailAddress"] = {
                "emailAddress": email,
                "marketingState": "NOT_SUBSCRIBED",
                "marketingUpdatedAt": None,
                "marketingOptInLevel": None,
                "validFormat": True,
            }
        customer["verifiedEmail"] = bool(email)
    if "phone" in values:
        phone = str(values["phone"] or "").strip()
        customer["defaultPhoneNumber"] = (
            {
                "phoneNumber": phone,
                "marketingState": "NOT_SUBSCRIBED",
                "marketingUpdatedAt": None,
                "marketingOptInLevel": None,
            }
            if phone
            else None
        )


def _metafields(
    sandbox: ShopifySandbox, customer: dict[str, Any], values: dict[str, Any], node: Field
) -> list[dict[str, Any]]:
    """Set the input's metafields on ``customer``; their userErrors (nothing saved when any)."""
    wanted = values.get("metafields") or []
    if not wanted:
        return []
    result = mutations.metafields_set(
        sandbox, {"metafields": [{**m, "ownerId": customer["id"]} for m in wanted]}, node
    )
    return [
        _error(["metafields", *[str(f) for f in (e.get("field") or [])[1:]]], str(e.get("message")))
        for e in result["userErrors"]
    ]


def customer_update(
    sandbox: ShopifySandbox, customer: dict[str, Any] | None, values: dict[str, Any], node: Field, now: str
) -> dict[str, Any]:
    """``customerUpdate(input: CustomerInput!)``: ``customer`` is the one ``input.id`` names (None when
    there is none), ``now`` the time to stamp a change with."""
    if customer is None:
        return {"customer": None, "userErrors": [_error(["id"], "Customer does not exist")]}
    if "emailMarketingConsent" in values:
        message = (
            "To update emailMarketingConsent, please use the customerEmailMarketingConsentUpdate Mutation "
            "instead."
        )
        return {"customer": None, "userErrors": [_error(["emailMarketingConsent"], message)]}
    errors = _check(sandbox, values, customer["_num"])
    if errors:
        return {"customer": None, "userErrors": errors}
    before = repr({k: v for k, v in customer.items() if k not in ("updatedAt", "_metafields")})
    errors = _metafields(sandbox, customer, values, node)
    if errors:
        return {"customer": None, "userErrors": errors}
    _apply(sandbox, customer, values)
    if repr({k: v for k, v in customer.items() if k not in ("updatedAt", "_metafields")}) != before:
        customer["updatedAt"] = now
    return {"customer": customer, "userErrors": []}


def customer_create(sandbox: ShopifySandbox, values: dict[str, Any], node: Field) -> dict[str, Any]:
    """``customerCreate(input: CustomerInput!)``: a new customer, with its metafields and consent."""
    if values.get("id"):
        return {
            "customer": None,
            "userErrors": [_error(["id"], "Id is not allowed when creating a customer")],
        }
    if not any(values.get(k) for k in ("email", "phone", "firstName", "lastName")):
        message = "A name, phone number, or email address must be present"
        return {"customer": None, "userErrors": [_error(["customer"], message)]}
    errors = _check(sandbox, values, None)
    consent = values.get("emailMarketingConsent") or {}
    if consent and consent.get("marketingState") not in _CONSENT_STATES:
        errors.append(_error(["emailMarketingConsent", "marketingState"], "Marketing state is invalid"))
    if errors:
        return {"customer": None, "userErrors": errors}
    now = sandbox.clock.now()
    customer = seeding.add_customer(
        sandbox,
        numeric=sandbox._id("customer"),
        first=None,
        last=None,
        email=None,
        phone=None,
        country=None,
        created=now,
        updated=now,
    )
    _apply(sandbox, customer, values)
    errors = _metafields(sandbox, customer, values, node)
    if errors:
        del sandbox.customers[customer["_num"]]
        return {"customer": None, "userErrors": errors}
    address = customer.get("defaultEmailAddress")
    if address and consent:
        state = str(consent["marketingState"])
        address.update(
            marketingState=state,
            marketingOptInLevel=consent.get("marketingOptInLevel")
            or ("SINGLE_OPT_IN" if state != "NOT_SUBSCRIBED" else None),
            marketingUpdatedAt=consent.get("consentUpdatedAt")
            or (None if state == "NOT_SUBSCRIBED" else customer["createdAt"]),
        )
    return {"customer": customer, "userErrors": []}


__all__ = ["FIELDS", "customer_create", "customer_update", "line_items", "shop"]
