"""The data of the WooCommerce sandbox: customers, orders and order notes, seeded from the population.

Objects have the fields and order of the REST API's own examples (woocommerce-rest-api-docs,
wp-api-v3 "Retrieve a customer" / "Retrieve an order") and of the v3 controllers' schemas. The shop
is kept in UTC; each date is rendered twice, ``date_*`` in the shop's timezone (``utc_offset``) and
``date_*_gmt`` in UTC, both without an offset, as WooCommerce does.

Seeding (``seed``): every ``shop`` record of the shared population is a shopper. Three in four have
a customer account; the rest check out as guests (orders with ``customer_id`` 0). WordPress refuses
non-ASCII email domains, so Unicode domains are stored in their ASCII form. One account in ten was
never saved by WooCommerce (a WordPress registration): its ``date_modified`` is null. Countries are
ISO codes (the checkout offers a list). Orders are
``completed`` or ``processing`` when paid, ``refunded`` with a refund when refunded; some paid orders
are partly refunded, and some people have a failed, cancelled, on-hold or pending order too. A
malformed population record is an account with no email and no billing details.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from hashlib import md5
from typing import Any, Final

from connectors.sdk import parse_point
from core.errors import NormalisationError
from core.normalise import normalise_country
from core.testing.population import people as population_people
from core.testing.population import population

#: When the seeded accounts with no email were made (before the contract tests' changes).
WALK_IN: Final = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
GUEST_SHARE: Final = 0.25
NEVER_SAVED_SHARE: Final = 0.1
ADDRESS_KEYS: Final = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
)
_SURNAMES: Final = ("Moreau", "Keller", "Adeyemi", "Lindqvist", "Okonkwo", "Barros", "Hale")
_CITIES: Final = {"GB": "London", "US": "Newark", "DE": "Berlin", "FR": "Lyon"}
_STATUS_LABELS: Final = {
    "pending": "Pending payment",
    "processing": "Processing",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "failed": "Failed",
}


def ascii_email(email: str) -> str:
    """The address as WordPress keeps it: trimmed, its domain in ASCII (IDNA)."""
    local, _, domain = email.strip().rpartition("@")
    if not local:
        return email.strip()
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return email.strip()


def wp_time(value: datetime | None) -> str | None:
    """A time as WordPress renders it: ISO 8601 to the second, no offset."""
    return value.strftime("%Y-%m-%dT%H:%M:%S") if value is not None else None


def address(**values: str) -> dict[str, str]:
    return {key: values.get(key, "") for key in ADDRESS_KEYS}


@dataclass
class SandboxShop:
    """One shop's objects, times in UTC. Render with ``customer_json`` / ``order_json``."""

    utc_offset: timedelta = timedelta(hours=-3)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    _user_ids: Any = field(default_factory=lambda: itertools.count(2))  # 1 is the shop's administrator
    _post_ids: Any = field(default_factory=lambda: itertools.count(100))
    _meta_ids: Any = field(default_factory=lambda: itertools.count(1000))
    _note_ids: Any = field(default_factory=lambda: itertools.count(500))

    # --- objects ---------------------------------------------------------------------------------
    def meta_id(self) -> int:
        return int(next(self._meta_ids))

    def add_customer(
        self,
        email: str,
        billing: dict[str, str],
        *,
        created: datetime,
        modified: datetime | None,
        first_name: str = "",
        last_name: str = "",
        role: str = "customer",
    ) -> dict[str, Any]:
        user_id = next(self._user_ids)
        shipping = {**{k: billing.get(k, "") for k in ADDRESS_KEYS}, "phone": ""}
        customer = {
            "id": user_id,
            "date_created": created,
            "date_modified": modified,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "role": role,
            "username": (email.split("@")[0] or f"user{user_id}").lower()[:50],
            "billing": {**address(), **billing},
            "shipping": shipping,
            "is_paying_customer": False,
            "meta_data": [],
        }
        self.customers[user_id] = customer
        return customer

    def add_order(
        self,
        customer: dict[str, Any] | None,
        billing: dict[str, str],
        *,
        total: Decimal,
        currency: str,
        status: str,
        created: datetime,
        modified: datetime,
        refunded: Decimal = Decimal(0),
    ) -> dict[str, Any]:
        order_id = next(self._post_ids)
        next(self._post_ids)  # orders are posts: the ids between them went to notes, revisions, ...
        paid = status in ("processing", "completed", "refunded")
        if customer is not None and status in ("processing", "completed"):
            # wc_paying_customer: a paid order marks its owner a paying customer, whatever her role
            customer["is_paying_customer"] = True
        order = {
            "id": order_id,
            "parent_id": 0,
            "status": status,
            "currency": currency,
            "version": "9.9.5",
            "prices_include_tax": False,
            "date_created": created,
            "date_modified": modified,
            "discount_total": "0.00",
            "discount_tax": "0.00",
            "shipping_total": "0.00",
            "shipping_tax": "0.00",
            "cart_tax": "0.00",
            "total": f"{total:.2f}",
            "total_tax": "0.00",
            "customer_id": customer["id"] if customer else 0,
            "order_key": f"wc_order_{md5(str(order_id).encode()).hexdigest()[:13]}",
            "billing": {**address(), "email": "", "phone": "", **billing},
            "shipping": {**{k: billing.get(k, "") for k in ADDRESS_KEYS}, "phone": ""},
            "payment_method": "bacs",
            "payment_method_title": "Direct bank transfer",
            "transaction_id": f"TX{order_id:08d}" if paid else "",
            "customer_ip_address": f"203.0.113.{order_id % 250 + 1}",
            "customer_user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "created_via": "checkout",
            "customer_note": "",
            "date_completed": modified if status == "completed" else None,
            "date_paid": created + timedelta(minutes=3) if paid else None,
            "cart_hash": md5(f"cart{order_id}".encode()).hexdigest(),
            "number": str(order_id),
            "meta_data": [],
            "line_items": [
                {
                    "id": order_id * 10 + 1,
                    "name": "Sandbox tote bag",
                    "product_id": 42,
                    "variation_id": 0,
                    "quantity": 1,
                    "tax_class": "",
                    "subtotal": f"{total:.2f}",
                    "subtotal_tax": "0.00",
                    "total": f"{total:.2f}",
                    "total_tax": "0.00",
                    "taxes": [],
                    "meta_data": [],
                    "sku": "TOTE-1",
                    "price": float(total),
                }
            ],
            "tax_lines": [],
            "shipping_lines": [],
            "fee_lines": [],
            "coupon_lines": [],
            "refunds": [{"id": order_id + 1, "reason": "", "total": f"-{refunded:.2f}"}] if refunded else [],
        }
        self.orders[order_id] = order
        self.notes[order_id] = []
        self.add_note(
            order_id,
            f"Order status changed from Pending payment to {_STATUS_LABELS.get(status, status)}.",
            created,
        )
        if billing.get("email") and paid:
            # Notes can hold personal data; WooCommerce's eraser deletes every note for that reason.
            self.add_note(order_id, f"Payment instructions sent to {billing['email']}.", created)
        return order

    def add_note(self, order_id: int, text: str, at: datetime, *, author: str = "system") -> dict[str, Any]:
        note = {
            "id": next(self._note_ids),
            "author": author,
            "date_created": at,
            "note": text,
            "customer_note": False,
        }
        self.notes[order_id].append(note)
        return note

    # --- rendering -------------------------------------------------------------------------------
    def _dates(self, obj: dict[str, Any], *names: str) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for name in names:
            value = obj.get(name)
            out[name] = wp_time(value + self.utc_offset) if value is not None else None
            out[f"{name}_gmt"] = wp_time(value)
        return out

    def customer_json(self, customer: dict[str, Any], base: str) -> dict[str, Any]:
        dates = self._dates(customer, "date_created", "date_modified")
        digest = md5(customer["email"].strip().lower().encode()).hexdigest()
        return {
            "id": customer["id"],
            **dates,
            **{k: customer[k] for k in ("email", "first_name", "last_name", "role", "username")},
            "billing": dict(customer["billing"]),
            "shipping": dict(customer["shipping"]),
            "is_paying_customer": customer["is_paying_customer"],
            "avatar_url": f"https://secure.gravatar.com/avatar/{digest}?s=96&d=mm&r=g",
            "meta_data": [dict(m) for m in customer["meta_data"]],
            "_links": {
                "self": [{"href": f"{base}/customers/{customer['id']}"}],
                "collection": [{"href": f"{base}/customers"}],
            },
        }

    def order_json(self, order: dict[str, Any], base: str) -> dict[str, Any]:
        dates = self._dates(order, "date_created", "date_modified", "date_completed", "date_paid")
        body: dict[str, Any] = {}
        for key, value in order.items():
            if key in ("date_created", "date_modified", "date_completed", "date_paid"):
                body[key] = dates[key]
                continue
            body[key] = value if not isinstance(value, dict | list) else _copy(value)
        for name in ("date_created", "date_modified", "date_completed", "date_paid"):
            body[f"{name}_gmt"] = dates[f"{name}_gmt"]
        body["payment_url"] = (
            f"{base.split('/wp-json')[0]}/checkout/order-pay/{order['id']}/?pay_for_order=true&key={order['order_key']}"
        )
        body["is_editable"] = order["status"] in ("pending", "on-hold", "auto-draft")
        body["needs_payment"] = order["status"] in ("pending", "failed")
        body["needs_processing"] = True
        body["currency_symbol"] = {"GBP": "£", "EUR": "€", "USD": "$"}.get(
            order["currency"], order["currency"]
        )
        links: dict[str, Any] = {
            "self": [{"href": f"{base}/orders/{order['id']}"}],
            "collection": [{"href": f"{base}/orders"}],
        }
        if order["customer_id"]:
            links["customer"] = [{"href": f"{base}/customers/{order['customer_id']}"}]
        body["_links"] = links
        return body

    def note_json(self, order_id: int, note: dict[str, Any], base: str) -> dict[str, Any]:
        return {
            "id": note["id"],
            "author": note["author"],
            **self._dates(note, "date_created"),
            "note": note["note"],
            "customer_note": note["customer_note"],
            "_links": {
                "self": [{"href": f"{base}/orders/{order_id}/notes/{note['id']}"}],
                "collection": [{"href": f"{base}/orders/{order_id}/notes"}],
                "up": [{"href": f"{base}/orders/{order_id}"}],
            },
        }

    # --- seeding ---------------------------------------------------------------------------------
    def seed(self, count: int, seed: int) -> None:
        """Shoppers from the population's ``shop`` records (see the module docstring)."""
        rng = random.Random(seed * 7919 + 17)
        persons = population_people(count, seed)
        for index, flat in population(count, seed):
            if flat.get("source") != "shop":
                continue
            at = parse_point(str(flat.get("updated_at", "")))
            if index is None or at is None:
                self.add_customer("", {}, created=WALK_IN, modified=WALK_IN, first_name="Walk-in")
                continue
            self._shopper(flat, persons[index].email, at, rng)

    def _shopper(self, flat: dict[str, Any], true_email: str, at: datetime, rng: random.Random) -> None:
        email = ascii_email(str(flat.get("email") or true_email))
        first, last = str(flat.get("first_name") or ""), str(flat.get("last_name") or "")
        # WooCommerce's checkout offers countries from a list: billing keeps ISO 3166-1 alpha-2 codes.
        country = _country_code(str(flat.get("country") or ""))
        billing = {
            "first_name": first,
            "last_name": last,
            "address_1": f"{rng.randint(1, 200)} High Street",
            "city": _CITIES.get(country, ""),
            "postcode": f"{rng.randint(10000, 99999)}",
            "country": country,
            "email": email,
            "phone": str(flat.get("phone") or ""),
        }
        orders = list(flat.get("orders") or [])
        customer = None
        if orders == [] or rng.random() >= GUEST_SHARE:
            created = at - timedelta(days=rng.randint(1, 120), seconds=rng.randint(0, 86399))
            never_saved = rng.random() < NEVER_SAVED_SHARE
            customer = self.add_customer(
                email,
                billing,
                created=created if not never_saved else at,
                modified=None if never_saved else at,
                first_name=first,
                last_name=last,
            )
            customer["is_paying_customer"] = bool(orders)
        for flat_order in orders:
            created = parse_point(str(flat_order.get("created_at", ""))) or at
            total = Decimal(str(flat_order.get("total")))
            refunded = flat_order.get("status") == "refunded"
            partial = not refunded and rng.random() < 0.05
            status = "refunded" if refunded else ("completed" if rng.random() < 0.8 else "processing")
            self.add_order(
                customer,
                billing,
                total=total,
                currency=str(flat_order.get("currency")),
                status=status,
                created=created,
                modified=created + timedelta(days=rng.randint(0, 3), seconds=rng.randint(60, 3600)),
                refunded=total if refunded else (Decimal("5.00") if partial and total > 5 else Decimal(0)),
            )
        if orders and rng.random() < 0.08:
            created = at - timedelta(days=rng.randint(1, 30))
            self.add_order(
                customer,
                billing,
                total=Decimal(f"{rng.randint(5, 90)}.00"),
                currency=str(orders[0].get("currency")),
                status=rng.choice(["failed", "cancelled", "on-hold", "pending"]),
                created=created,
                modified=created + timedelta(minutes=rng.randint(5, 600)),
            )

    # --- changes the contract tests make ---------------------------------------------------------
    def rename(self, customer: dict[str, Any], at: datetime, turn: int) -> None:
        current = customer.get("last_name")
        customer["last_name"] = next(
            n for n in (_SURNAMES[turn % len(_SURNAMES)], *_SURNAMES) if n != current
        )
        customer["date_modified"] = at

    def change_status(self, order: dict[str, Any], at: datetime) -> None:
        """Move the order to a status whose canonical meaning differs (paid <-> refunded, open -> paid)."""
        following = {"completed": "refunded", "processing": "refunded", "refunded": "completed"}
        old = order["status"]
        new = order["status"] = following.get(old, "processing")
        if new == "refunded":
            order["refunds"] = [{"id": order["id"] + 1, "reason": "", "total": f"-{order['total']}"}]
        elif old == "refunded":
            order["refunds"] = []  # the sandbox's harness only: WooCommerce cannot take a refund back
        order["date_modified"] = at
        label = _STATUS_LABELS.get
        self.add_note(order["id"], f"Order status changed from {label(old, old)} to {label(new, new)}.", at)


def _country_code(value: str) -> str:
    try:
        return normalise_country(value) if value else ""
    except NormalisationError:
        return ""


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


__all__ = ["ADDRESS_KEYS", "WALK_IN", "SandboxShop", "address", "ascii_email", "wp_time"]
