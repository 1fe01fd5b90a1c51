"""The Shopify connector's erasure: customerRequestDataErasure for every customer behind an identifier
(a customer or order id, an email in each of its spellings, a phone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors._http import describe_vendor_error
from core.connector import EraseOutcome
from core.normalise import normalise_email, normalise_phone
from core.schema import Identifier

from . import _documents as docs
from ._client import ShopifyClient, ShopifyGraphQLError
from ._mapping import CUSTOMER, ORDER, SOURCE, gid, gid_tail, stored_id


class ShopifyErase(ShopifyClient):
    """``erase`` of ``ShopifyConnector``: GDPR erasure requests for the customers behind identifiers."""

    # --- erase --------------------------------------------------------------------------------------
    def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
        """Request GDPR erasure (customerRequestDataErasure) of every customer behind each identifier.

        Shopify enqueues the request and redacts the customer and their orders' personal data; it may
        hold it back while recent orders need the data (https://help.shopify.com/manual/privacy-and-
        security/privacy/processing-customer-data-requests). A ``shopify:customer:<id>`` identifier
        names the customer; ``shopify:order:<id>`` its order's customer (an order is erased with its
        customer: there is no erasure of an order alone). A customer or order Shopify does not have,
        or an order left with no personal data, is confirmed ``absent``. A guest order that still
        holds an address has no customer to erase through the API: it is reported not found (a
        failure to follow up in the Shopify admin). Emails and phones are searched.
        """
        outcomes = []
        for identifier in identifiers:
            kind, numeric = _own_source(identifier)
            if kind == ORDER:
                customer, holds_data = self._order_customer(numeric)
                if customer is None:
                    detail = "a guest order keeps its data" if holds_data else "no personal data left"
                    outcomes.append(
                        EraseOutcome(identifier, found=False, detail=detail, absent=not holds_data)
                    )
                    continue
                customers = [customer]
            else:
                customers = self._customers_matching(identifier)
            erased = [c for c in customers if self._request_erasure(c)]
            detail = (
                f"erasure requested for {', '.join(erased)}"
                if erased
                else "no Shopify customer has this identifier"
            )
            outcomes.append(
                EraseOutcome(
                    identifier, found=bool(erased), detail=detail, absent=kind == CUSTOMER and not erased
                )
            )
        return outcomes

    def _request_erasure(self, customer: str) -> bool:
        """Ask Shopify to erase one customer; False when it does not exist (gone since the lookup)."""
        data = self.graphql(
            "customerRequestDataErasure",
            docs.REQUEST_ERASURE,
            {"customerId": customer},
            cost=docs.MUTATION_COST,
        )
        errors = (data.get("customerRequestDataErasure") or {}).get("userErrors") or []
        if any(isinstance(e, dict) and e.get("code") == "DOES_NOT_EXIST" for e in errors):
            return False
        if errors:
            raise ShopifyGraphQLError("customerRequestDataErasure", describe_vendor_error(errors))
        return True

    def _order_customer(self, numeric: str) -> tuple[str | None, bool]:
        """The customer of an order, and whether the order still holds personal data itself."""
        data = self.graphql(
            "findOrder", docs.FIND_ORDER, {"query": f"id:{numeric}"}, cost=docs.FIND_ORDER_COST
        )
        nodes = ((data.get("orders") or {}).get("nodes")) or []
        order = next((n for n in nodes if isinstance(n, dict) and gid_tail(n.get("id")) == numeric), None)
        if order is None:
            return None, False
        customer = (order.get("customer") or {}).get("id")
        return (str(customer) if customer else None), bool(order.get("email") or order.get("phone"))

    def _customers_matching(self, identifier: Identifier) -> list[str]:
        if identifier.kind == "source":
            kind, numeric = _own_source(identifier)
            return [gid("Customer", numeric)] if kind == CUSTOMER else []
        if identifier.kind == "email":
            # Email search is tokenised: a quoted phrase asks for the address, and the exact match is
            # checked below (https://shopify.dev/docs/api/usage/search-syntax). Profilesync keeps
            # internationalised domains in their xn-- form; the shop stores what the customer typed.
            queries = [f'email:"{_quoted(address)}"' for address in _email_spellings(identifier.value)]
        else:
            queries = [f"phone:{identifier.value}"]
        nodes: list[Any] = []
        for query in queries:
            data = self.graphql(
                "findCustomers", docs.FIND_CUSTOMERS, {"query": query}, cost=docs.FIND_CUSTOMERS_COST
            )
            nodes += ((data.get("customers") or {}).get("nodes")) or []
        found: list[str] = []
        for node in nodes:
            if not isinstance(node, dict):
                continue
            if identifier.kind == "email":
                value = (node.get("defaultEmailAddress") or {}).get("emailAddress")
                same = _same(value, identifier.value, normalise_email)
            else:
                value = (node.get("defaultPhoneNumber") or {}).get("phoneNumber")
                same = _same(value, identifier.value, normalise_phone)
            if same and str(node.get("id")) not in found:
                found.append(str(node.get("id")))
        return found


def _own_source(identifier: Identifier) -> tuple[str, str]:
    """``(object type, numeric id)`` of a ``shopify:<type>:<id>`` identifier; ("", "") otherwise."""
    if identifier.kind != "source":
        return "", ""
    source, _, rest = identifier.value.partition(":")
    object_type, _, written = rest.partition(":")
    numeric = stored_id(object_type, written)  # her customer's GID names her too
    if source != SOURCE or not numeric.isdigit() or object_type not in (CUSTOMER, ORDER):
        return "", ""
    return object_type, numeric


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _email_spellings(address: str) -> list[str]:
    """The address as given and, for an xn-- domain, in Unicode (``xn--bcher-kva.example`` -> ``bücher``)."""
    local, _, domain = address.rpartition("@")
    spellings = [address]
    if "xn--" in domain:
        try:
            unicode_domain = domain.encode("ascii").decode("idna")
        except UnicodeError:
            return spellings
        spellings.append(f"{local}@{unicode_domain}")
    return spellings


def _same(value: Any, wanted: str, normalise: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return bool(normalise(value) == normalise(wanted))
    except Exception:  # an unparseable stored value is not the person asked for
        return False
