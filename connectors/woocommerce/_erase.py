"""Erase one person from a WooCommerce store, as WooCommerce's own privacy eraser does, over REST.

WooCommerce keys an erasure on the email address (``WC_Privacy_Erasers``): the person's orders are
those whose billing email is that address or whose ``customer_id`` is the account with it
(``wc_get_orders(['customer' => [email, user_id]])``). For each, ``remove_order_personal_data``
replaces every non-empty personal field through ``wp_privacy_anonymize_data`` and WooCommerce's own
types (``WC_Privacy::anonymize_custom_data_types``):

* text (names, company, address lines, city, postcode) -> ``[deleted]``; state and country -> empty;
  phone -> every digit replaced by 0; email -> ``deleted@site.invalid``;
* ``customer_id`` and ``transaction_id`` (numeric ids) -> 0; the payment meta ``Payer first name``,
  ``Payer last name``, ``Payer PayPal address``, ``Transaction ID`` likewise (a value that becomes
  empty or 0 is deleted); ``_anonymized`` set to ``yes``;
* every order note deleted (notes may hold personal data), then the note ``Personal data removed.``

Here each order is updated with those values through ``POST /orders/batch`` (100 per request), its
notes listed and deleted (``DELETE /orders/{id}/notes/{note}?force=true``) and the note added; then
the customer account is deleted (``DELETE /customers/{id}?force=true``; customers cannot be trashed).
Orders are anonymised before the account goes, so an erase cut short finds the account again and
finishes the job. Two fields the eraser also clears are read-only in the REST API and stay as they
are: ``customer_ip_address`` and ``customer_user_agent`` (WordPress's own erasure tool, Tools > Erase
Personal Data, clears them; nothing over REST can).

WooCommerce itself keeps order data on erasure unless "Remove personal data from orders on request"
is set (``woocommerce_erasure_request_removes_order_data``, default no), since shops must keep
invoices. The option ``erase_orders`` says which the shop wants: ``anonymise`` (default) or
``retain`` (the account is deleted, the orders are left as they are).

Phone numbers cannot be looked up over REST (customers are searched by their WordPress user fields),
and WooCommerce's eraser does not take them either: erasing by phone finds nobody, and says why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from connectors._http import ConnectorHttpClient, ConnectorRequestError
from connectors.sdk import RestContext
from core.connector import EraseOutcome
from core.schema import Identifier

from ._push import BATCH_LIMIT

API: Final = "/wp-json/wc/v3"
DELETED_TEXT: Final = "[deleted]"
DELETED_EMAIL: Final = "deleted@site.invalid"
REMOVED_NOTE: Final = "Personal data removed."
ERASE_ORDERS_OPTION: Final = "erase_orders"
#: The roles the REST API may delete (``woocommerce_rest_customer_allowed_roles``, WooCommerce 9.5.2+).
DELETABLE_ROLES: Final = frozenset({"customer", "subscriber"})

#: Address field -> how ``remove_order_personal_data`` anonymises it.
_ADDRESS_FIELDS: Final[Mapping[str, str]] = {
    "first_name": "text",
    "last_name": "text",
    "company": "text",
    "address_1": "text",
    "address_2": "text",
    "city": "text",
    "postcode": "text",
    "state": "address_state",
    "country": "address_country",
    "phone": "phone",
    "email": "email",
}
#: Gateways' order meta the eraser anonymises (``woocommerce_privacy_remove_order_personal_data_meta``).
_PAYMENT_META: Final[Mapping[str, str]] = {
    "Payer first name": "text",
    "Payer last name": "text",
    "Payer PayPal address": "email",
    "Transaction ID": "numeric_id",
}


def anonymise(kind: str, value: Any) -> Any:
    """``wp_privacy_anonymize_data(kind, value)`` with WooCommerce's own kinds."""
    if kind == "text":
        return DELETED_TEXT
    if kind == "email":
        return DELETED_EMAIL
    if kind == "phone":
        return re.sub(r"\d", "0", str(value))
    if kind == "numeric_id":
        return 0
    return ""  # address_state, address_country, and anything unknown


def anonymised_update(order: Mapping[str, Any]) -> dict[str, Any]:
    """The order update that removes the personal data ``remove_order_personal_data`` removes, for
    the fields the REST API can write. Empty values are left alone, as the eraser leaves them."""
    update: dict[str, Any] = {"id": order.get("id")}
    for section in ("billing", "shipping"):
        address = order.get(section)
        if isinstance(address, Mapping):
            changed = {
                field: anonymise(kind, address[field])
                for field, kind in _ADDRESS_FIELDS.items()
                if address.get(field)
            }
            if changed:
                update[section] = changed
    if order.get("customer_id"):
        update["customer_id"] = 0
    if order.get("transaction_id"):
        update["transaction_id"] = "0"  # the schema types it as a string
    meta: list[dict[str, Any]] = []
    for entry in order.get("meta_data") or []:
        key = entry.get("key") if isinstance(entry, Mapping) else None
        if isinstance(key, str) and key in _PAYMENT_META and entry.get("value"):
            value = anonymise(_PAYMENT_META[key], entry["value"])
            # The eraser deletes meta whose anonymised value is empty or 0; a null value deletes over REST.
            meta.append({"key": key, "value": value or None})
    meta.append({"key": "_anonymized", "value": "yes"})
    update["meta_data"] = meta
    return update


def _pages(client: ConnectorHttpClient, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every object of a list endpoint, 100 a page (a lookup, so pages by number are fine here)."""
    page = 1
    while True:
        response, body = client.exchange_json("GET", path, params={**params, "per_page": 100, "page": page})
        items = body if isinstance(body, list) else []
        yield from (item for item in items if isinstance(item, dict))
        total_pages = response.headers.get("X-WP-TotalPages", "")
        if not items or not total_pages.isdigit() or page >= int(total_pages):
            return
        page += 1


def _same_email(value: Any, email: str) -> bool:
    return isinstance(value, str) and value.strip().lower() == email.lower()


def find_person(client: ConnectorHttpClient, email: str) -> tuple[dict[int, str], list[dict[str, Any]]]:
    """The accounts with this email (id -> role) and the orders of that person, as the eraser finds them."""
    customers = {
        int(c["id"]): str(c.get("role") or "")
        for c in _pages(client, f"{API}/customers", {"email": email, "role": "all"})
        if _same_email(c.get("email"), email) and isinstance(c.get("id"), int)
    }
    orders: dict[int, dict[str, Any]] = {}
    for customer in customers:
        orders.update((o["id"], o) for o in _pages(client, f"{API}/orders", {"customer": customer}))
    # Orders are searched by text; only those whose billing email is the address itself are the person's.
    for order in _pages(client, f"{API}/orders", {"search": email}):
        billing = order.get("billing")
        if isinstance(billing, Mapping) and _same_email(billing.get("email"), email):
            orders[order["id"]] = order
    return customers, [orders[k] for k in sorted(orders)]


def _anonymise_orders(context: RestContext, orders: Sequence[Mapping[str, Any]]) -> list[str]:
    client = context.client("erase")
    problems: list[str] = []
    for start in range(0, len(orders), BATCH_LIMIT):
        chunk = orders[start : start + BATCH_LIMIT]
        body = client.post_json(
            f"{API}/orders/batch", json={"update": [anonymised_update(o) for o in chunk]}, idempotent=True
        )
        for result in (body or {}).get("update", []):
            error = result.get("error") if isinstance(result, Mapping) else None
            if isinstance(error, Mapping):
                problems.append(f"order {result.get('id')}: {error.get('message') or error.get('code')}")
    for order in orders:
        notes = client.get_json(f"{API}/orders/{order['id']}/notes")
        for note in notes if isinstance(notes, list) else []:
            client.request(
                "DELETE", f"{API}/orders/{order['id']}/notes/{note['id']}", params={"force": "true"}
            )
        client.post_json(f"{API}/orders/{order['id']}/notes", json={"note": REMOVED_NOTE})
    return problems


@dataclass(frozen=True)
class Erasure:
    """What erasing one email did: whether the store held the person, what was done, and what the
    store refused (each a sentence); ``problems`` empty means the person is gone."""

    found: bool
    done: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def detail(self) -> str:
        return "; ".join(self.done + self.problems)


def erase_person(context: RestContext, email: str) -> Erasure:
    """Anonymise (or retain) one person's orders and delete their accounts."""
    customers, orders = find_person(context.client("pull"), email)
    if not customers and not orders:
        return Erasure(False, ("no WooCommerce customer or order with this email",))
    done, problems = _forget(context, customers, orders)
    return Erasure(True, done, problems)


def _forget(
    context: RestContext, customers: Mapping[int, str], orders: Sequence[Mapping[str, Any]]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Anonymise (or retain) ``orders``, then delete the accounts ``customers`` (id -> role)."""
    done: list[str] = []
    problems: list[str] = []
    if context.settings.options.get(ERASE_ORDERS_OPTION, "anonymise") == "retain":
        done.append(f"retained {len(orders)} order(s)")
    else:
        problems += _anonymise_orders(context, orders)
        done.append(f"anonymised {len(orders)} order(s)")
    deleted = 0
    for customer, role in sorted(customers.items()):
        if role not in DELETABLE_ROLES:
            # WooCommerce's REST API refuses (401) to delete other users; that is a shop decision, not
            # a wrong key, so it is reported rather than raised as an authentication error.
            problems.append(
                f"account {customer} has the role {role or 'none'}, which WooCommerce's REST API does not "
                "delete: remove it in WordPress (Users) if it must go"
            )
            continue
        try:
            context.client("erase").request("DELETE", f"{API}/customers/{customer}", params={"force": "true"})
        except ConnectorRequestError as exc:
            if exc.status != 404:  # already gone (an erase cut short, or a concurrent one): fine
                problems.append(f"customer {customer}: {exc.vendor_message or exc}")
                continue
        deleted += 1
    done.append(f"deleted {deleted} customer(s)")
    return tuple(done), tuple(problems)


def _fetch(context: RestContext, path: str) -> dict[str, Any] | None:
    """One object, or None when the store has no such id (404)."""
    try:
        found = context.client("pull").get_json(f"{API}/{path}")
    except ConnectorRequestError as error:
        if error.status == 404:
            return None
        raise
    return found if isinstance(found, dict) else None


def erase_account(context: RestContext, customer_id: int) -> Erasure:
    """Anonymise (or retain) the orders of one account and delete it: an erasure of the account we
    hold, whoever else has an order with the same billing address."""
    account = _fetch(context, f"customers/{customer_id}")
    if account is None:
        return Erasure(False, ("no such customer",))
    orders = list(_pages(context.client("pull"), f"{API}/orders", {"customer": customer_id}))
    done, problems = _forget(context, {customer_id: str(account.get("role") or "")}, orders)
    return Erasure(True, done, problems)


def erase_order(context: RestContext, order_id: int) -> Erasure:
    """Anonymise one order we hold (already anonymised, or gone: nothing is left to erase)."""
    order = _fetch(context, f"orders/{order_id}")
    anonymised = any(
        isinstance(m, Mapping) and m.get("key") == "_anonymized" and m.get("value") == "yes"
        for m in (order or {}).get("meta_data") or []
    )
    if order is None or anonymised:
        return Erasure(False, ("no personal data left",))
    done, problems = _forget(context, {}, [order])
    return Erasure(True, done, problems)


def erase(context: RestContext, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
    """Erase each person from the store: the account or order whose id we hold
    (``woocommerce:customer:<id>``, ``woocommerce:order:<id>``; one the store no longer has is
    confirmed absent), or everyone the privacy eraser finds by an email (see the module docstring)."""
    out: list[EraseOutcome] = []
    for identifier in identifiers:
        kind, _, number = identifier.value.removeprefix("woocommerce:").partition(":")
        if identifier.kind == "source" and identifier.value.startswith("woocommerce:") and number.isdigit():
            erased = (
                erase_order(context, int(number)) if kind == "order" else erase_account(context, int(number))
            )
            gone = not erased.found and not erased.problems
            out.append(EraseOutcome(identifier, found=erased.found, detail=erased.detail, absent=gone))
            continue
        if identifier.kind != "email":
            detail = "WooCommerce erases by email or record id (its privacy eraser keys on email)"
            out.append(EraseOutcome(identifier, found=False, detail=detail))
            continue
        erased = erase_person(context, identifier.value)
        out.append(EraseOutcome(identifier, found=erased.found, detail=erased.detail))
    return out


__all__ = [
    "DELETED_EMAIL",
    "DELETED_TEXT",
    "ERASE_ORDERS_OPTION",
    "REMOVED_NOTE",
    "Erasure",
    "anonymise",
    "anonymised_update",
    "erase",
    "erase_account",
    "erase_order",
    "erase_person",
    "find_person",
]
