"""The Shopify sandbox's seeding: customers and orders made from the ``shop`` records of the test
population, and the walk-ins that stand for its malformed ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._sandbox import ShopifySandbox

from core.testing.population import COUNTRIES, population

from ._sandbox_wire import stamp

_COUNTRY_NAMES = {"GB": "United Kingdom", "US": "United States", "DE": "Germany", "FR": "France"}
_COUNTRY_CODE = {variant.casefold(): code for code, variants in COUNTRIES.items() for variant in variants}


def seed(sb: ShopifySandbox, people: int, seed: int) -> None:
    malformed = 0
    for person, record in population(people, seed, malformed_share=0.02):
        if record["source"] != "shop":
            continue
        if person is None:
            malformed += 1
            _add_walk_in(sb, malformed)
        else:
            _add_from_population(sb, person, record)


def _add_from_population(sb: ShopifySandbox, person: int, record: dict[str, Any]) -> None:
    rng = sb._rng
    updated = datetime.fromisoformat(str(record["updated_at"]).replace("Z", "+00:00"))
    orders = record.get("orders") or []
    first_order = min(
        (datetime.fromisoformat(str(o["created_at"]).replace("Z", "+00:00")) for o in orders),
        default=updated,
    )
    created = min(updated, first_order) - timedelta(days=rng.randint(1, 90), seconds=rng.randint(0, 86399))
    customer = add_customer(
        sb,
        numeric=7_000_000_000_000 + person,
        first=record.get("first_name"),
        last=record.get("last_name"),
        email=record.get("email"),
        phone=record.get("phone"),
        country=record.get("country"),
        created=created,
        updated=updated,
    )
    for order in orders:
        status = "PAID" if order.get("status") == "paid" else rng.choice(["REFUNDED", "PARTIALLY_REFUNDED"])
        at = datetime.fromisoformat(str(order["created_at"]).replace("Z", "+00:00"))
        add_order(
            sb, customer, str(order["total"]), str(order["currency"]), status, at, at + timedelta(hours=1)
        )


def _add_walk_in(sb: ShopifySandbox, n: int) -> None:
    # Shopify's version of a malformed record: a point-of-sale walk-in saved with a first name only,
    # no email and no phone. It must end quarantined (no identifier).
    at = datetime(2026, 2, 1, tzinfo=UTC) + timedelta(minutes=n)
    add_customer(
        sb,
        numeric=7_090_000_000_000 + n,
        first="Walk-in",
        last=None,
        email=None,
        phone=None,
        country=None,
        created=at,
        updated=at,
    )


def add_customer(
    sb: ShopifySandbox,
    *,
    numeric: int,
    first: Any,
    last: Any,
    email: Any,
    phone: Any,
    country: Any,
    created: datetime,
    updated: datetime,
) -> dict[str, Any]:
    rng = sb._rng
    email_text = email.strip() if isinstance(email, str) and email.strip() else None  # Shopify trims
    code = _COUNTRY_CODE.get(str(country).strip().casefold()) if country else None
    state = rng.choices(["SUBSCRIBED", "NOT_SUBSCRIBED", "UNSUBSCRIBED", "PENDING"], [40, 35, 20, 5])[0]
    consent_at = created + (updated - created) * rng.random()
    customer: dict[str, Any] = {
        "id": f"gid://shopify/Customer/{numeric}",
        "legacyResourceId": str(numeric),
        "firstName": first,
        "lastName": last,
        "createdAt": stamp(created),
        "updatedAt": stamp(updated),
        "note": None,
        "tags": [],
        "verifiedEmail": email_text is not None,
        "defaultEmailAddress": None
        if email_text is None
        else {
            "emailAddress": email_text,
            "marketingState": state,
            "marketingUpdatedAt": None if state == "NOT_SUBSCRIBED" else stamp(consent_at),
            "marketingOptInLevel": None if state == "NOT_SUBSCRIBED" else "SINGLE_OPT_IN",
            "validFormat": True,
        },
        "defaultPhoneNumber": None
        if not phone
        else {
            "phoneNumber": phone,
            "marketingState": "NOT_SUBSCRIBED",
            "marketingUpdatedAt": None,
            "marketingOptInLevel": None,
        },
        "defaultAddress": None
        if code is None
        else {
            "id": f"gid://shopify/MailingAddress/{numeric + 1_000_000}",
            "country": _COUNTRY_NAMES.get(code, code),
            "countryCodeV2": code,
            "city": None,
            "province": None,
            "provinceCode": None,
            "zip": None,
            "phone": None,
        },
        "_num": numeric,
        "_metafields": {},
    }
    sb.customers[numeric] = customer
    return customer


def add_order(
    sb: ShopifySandbox,
    customer: dict[str, Any] | None,
    total: str,
    currency: str,
    status: str,
    at: datetime,
    updated: datetime,
    *,
    guest: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An order of ``customer``, billed and shipped to the customer's name and default address; or,
    with ``customer`` None, a guest order (Shopify's ``customer`` null) whose ``email``, ``phone``,
    ``billingAddress`` and ``shippingAddress`` are the ``guest`` mapping's (absent: null)."""
    numeric = sb._id("order")
    sb._order_number += 1
    money = {"amount": total, "currencyCode": currency}
    if customer is not None:
        address = _address(
            customer.get("firstName"), customer.get("lastName"), customer.get("defaultAddress")
        )
        guest = {
            "email": (customer.get("defaultEmailAddress") or {}).get("emailAddress"),
            "phone": (customer.get("defaultPhoneNumber") or {}).get("phoneNumber"),
            "billingAddress": address,
            "shippingAddress": None if address is None else dict(address),
        }
    details = guest or {}
    order = {
        "id": f"gid://shopify/Order/{numeric}",
        "legacyResourceId": str(numeric),
        "name": f"#{sb._order_number}",
        "email": details.get("email"),
        "phone": details.get("phone"),
        "createdAt": stamp(at),
        "processedAt": stamp(at),
        "updatedAt": stamp(updated),
        "cancelledAt": None,
        "closedAt": None,
        "displayFinancialStatus": status,
        "currencyCode": currency,
        "test": False,
        "totalPriceSet": {"shopMoney": money, "presentmentMoney": dict(money)},
        "currentTotalPriceSet": _current_total(money, status),
        **payments(money, status),
        "billingAddress": mailing_address(details.get("billingAddress"), 2 * numeric),
        "shippingAddress": mailing_address(details.get("shippingAddress"), 2 * numeric + 1),
        "_num": numeric,
        "_customer": None if customer is None else customer["_num"],
    }
    sb.orders[numeric] = order
    return order


def _address(first: Any, last: Any, default: Any) -> dict[str, Any] | None:
    """A customer's name on their default address (a customer with none gives an order none)."""
    if not isinstance(default, dict):
        return None
    return {**default, "firstName": first, "lastName": last}


def mailing_address(given: dict[str, Any] | None, numeric: int) -> dict[str, Any] | None:
    """A ``MailingAddress`` as Shopify answers it: every field the sandbox serves (null when not
    given), ``name`` made of the first and last name as Shopify's is, ``country`` from its code."""
    if given is None:
        return None
    code = given.get("countryCodeV2")
    fields = ("id", "firstName", "lastName", "city", "province", "provinceCode", "zip", "phone")
    address: dict[str, Any] = {field: given.get(field) for field in fields}
    address["id"] = f"gid://shopify/MailingAddress/{numeric}"
    address["name"] = " ".join(p for p in (given.get("firstName"), given.get("lastName")) if p) or None
    address["countryCodeV2"] = code
    address["country"] = _COUNTRY_NAMES.get(code, code) if code else None
    return address


#: Financial statuses of an order whose value is not all received yet.
_OWING = ("PARTIALLY_PAID", "PENDING", "AUTHORIZED")


def payments(money: dict[str, Any], status: str) -> dict[str, dict[str, Any]]:
    """``totalReceivedSet``, ``netPaymentSet`` (received less refunded) and ``totalOutstandingSet``
    of an order of ``money`` in this financial status, as Shopify's ``Order`` answers them: paid in
    full, a quarter refunded of a partially refunded one, all of a refunded one, two fifths received
    of a partially paid one, nothing of a pending, authorised or voided one."""
    total = Decimal(str(money["amount"]))
    received = {
        "PAID": total,
        "PARTIALLY_REFUNDED": total,
        "REFUNDED": total,
        "PARTIALLY_PAID": (total * 2 / 5).quantize(Decimal("0.01")),
    }.get(status, Decimal("0.00"))
    refunded = total - Decimal(_current_total(money, status)["shopMoney"]["amount"])
    refunded = refunded if status in ("PARTIALLY_REFUNDED", "REFUNDED") else Decimal("0.00")

    def bag(amount: Decimal) -> dict[str, Any]:
        value = {"amount": f"{amount:.2f}", "currencyCode": money["currencyCode"]}
        return {"shopMoney": value, "presentmentMoney": dict(value)}

    return {
        "totalReceivedSet": bag(received),
        "netPaymentSet": bag(received - refunded),
        "totalOutstandingSet": bag(total - received if status in _OWING else Decimal(0)),
    }


def _current_total(money: dict[str, Any], status: str) -> dict[str, Any]:
    """``currentTotalPriceSet`` of an order of ``money`` in this financial status: the total after
    refunds (nothing left of a refunded order, three quarters of a partially refunded one here)."""
    total = Decimal(str(money["amount"]))
    kept = (
        Decimal("0.00")
        if status == "REFUNDED"
        else (total * 3 / 4).quantize(Decimal("0.01"))
        if status == "PARTIALLY_REFUNDED"
        else total
    )
    current = {"amount": f"{kept:.2f}", "currencyCode": money["currencyCode"]}
    return {"shopMoney": current, "presentmentMoney": dict(current)}
