"""The Stripe sandbox's objects: Stripe's published fixtures as the templates of customers and
charges, new customers and charges made from them, and the account seeded from the population's shop
records.
"""

from __future__ import annotations

import copy
import gzip
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from connectors.sdk import parse_point
from core.testing.population import COUNTRIES, population

from ._charges import EXPONENTS

if TYPE_CHECKING:
    from ._sandbox import StripeSandbox

_PACKAGES: Final = Path(__file__).resolve().parents[2]
#: Stripe's published fixtures: specs/ of a source tree, or the copy an installed wheel carries.
FIXTURES: Final = next(
    (
        path
        for path in (
            _PACKAGES / "specs" / "stripe-fixtures3.json.gz",
            _PACKAGES / "profilesync" / "_data" / "specs" / "stripe-fixtures3.json.gz",
        )
        if path.is_file()
    ),
    _PACKAGES / "specs" / "stripe-fixtures3.json.gz",
)
#: When the seeded customers without email or phone were created (before the contract's changes).
WALK_IN: Final = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
_COUNTRY_CODE: Final = {
    variant.casefold(): code for code, variants in COUNTRIES.items() for variant in variants
}


def fixtures() -> dict[str, Any]:
    """Stripe's example objects by kind (the fixtures file's ``resources``)."""
    resources: dict[str, Any] = json.loads(gzip.decompress(FIXTURES.read_bytes()))["resources"]
    return resources


def new_customer(
    sb: StripeSandbox,
    email: str | None,
    name: str | None,
    phone: str | None,
    country: str | None,
    at: datetime,
) -> dict[str, Any]:
    """A new customer of the account, made from the fixture's (call under ``sb.lock``)."""
    customer: dict[str, Any] = copy.deepcopy(sb._customer_template)
    customer.update(
        id=sb._id("cus"),
        email=email,
        name=name,
        phone=phone,
        created=int(at.timestamp()),
        discount=None,
        metadata={},
        invoice_prefix=f"SBX{len(sb.customers):05d}"[-8:],
    )
    customer["address"] = {**customer["address"], "country": country} if country else None
    sb.customers[customer["id"]] = customer
    return customer


def new_charge(sb: StripeSandbox, customer: dict[str, Any], order: dict[str, Any]) -> None:
    """A card charge of ``customer`` for one of the population's orders (refunded if it was)."""
    currency = str(order["currency"]).lower()
    amount = int(Decimal(str(order["total"])).scaleb(EXPONENTS.get(currency, 2)))
    at = parse_point(str(order["created_at"])) or sb.clock.now()
    charge = card_charge(sb, customer, amount, currency, at)
    if order.get("status") == "refunded":
        charge.update(amount_refunded=amount, refunded=True)


def card_charge(
    sb: StripeSandbox,
    customer: dict[str, Any] | None,
    amount: int,
    currency: str,
    at: datetime,
    *,
    captured: bool = True,
) -> dict[str, Any]:
    """A new card charge of ``customer`` (or of nobody), made from the fixture's: captured whole, or
    an authorisation only (``captured: false``, ``amount_captured`` 0), as Stripe's example is (call
    under ``sb.lock``)."""
    charge: dict[str, Any] = copy.deepcopy(sb._charge_template)
    charge_id = sb._id("ch")
    email = None if customer is None else customer["email"]
    charge.update(
        id=charge_id,
        amount=amount,
        amount_captured=amount if captured else 0,
        captured=captured,
        amount_refunded=0,
        refunded=False,
        currency=currency,
        customer=None if customer is None else customer["id"],
        created=int(at.timestamp()),
        receipt_email=email,
        description=None,
        status="succeeded",
        source=None,
        balance_transaction=None,
        refunds={
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/charges/{charge_id}/refunds",
        },
    )
    charge["billing_details"] = {
        **charge["billing_details"],
        "email": email,
        "name": None if customer is None else customer["name"],
        "phone": None if customer is None else customer["phone"],
    }
    sb.charges[charge["id"]] = charge
    return charge


def seed_account(sb: StripeSandbox, count: int, seed: int) -> None:
    """The population's ``shop`` records as customers with a charge per order; the malformed and
    undated ones as walk-in customers with neither email nor phone."""
    for index, flat in population(count, seed):
        if flat.get("source") != "shop":
            continue
        at = parse_point(str(flat.get("updated_at", "")))
        if index is None or at is None:
            # A customer created by hand in the dashboard with neither email nor phone: quarantined.
            new_customer(sb, None, "Walk-in", None, None, WALK_IN)
            continue
        name = " ".join(str(flat[k]) for k in ("first_name", "last_name") if flat.get(k)) or None
        email = str(flat.get("email") or "").strip().lower() or None
        # Checkout and Elements collect the country as an ISO code, which is what Stripe then holds.
        country = _COUNTRY_CODE.get(str(flat.get("country") or "").casefold())
        customer = new_customer(sb, email, name, flat.get("phone"), country, at)
        for order in flat.get("orders") or []:
            new_charge(sb, customer, order)
