"""The Stripe sandbox's customer writes and search, as the stripe SDK's ``customers`` service calls them.

From Stripe's API reference (https://docs.stripe.com/api/customers) and its published spec
(``specs/stripe-api.json.gz``):

* ``POST /v1/customers`` (``customers.create``): form-encoded ``email``, ``name``, ``phone``,
  ``description``, ``address[...]``, ``metadata[...]``; answers the new customer and records a
  ``customer.created`` event. Stripe stores ``address[country]`` as given (it does not check it is an
  ISO code: stripe/stripe-node#1680); customers made by Checkout carry ISO codes, as seeded ones do.
* ``POST /v1/customers/{id}``: the same fields; an empty value unsets one (``metadata[key]=`` removes
  the key); ``address`` is merged key by key here. A change records ``customer.updated``.
* ``GET /v1/customers/search?query=`` (``customers.search``): Stripe's search query language on
  ``email``, ``name``, ``phone`` (``:`` exact, case-insensitive; ``~`` substring of at least three
  characters), ``metadata['key']`` and ``created`` (``:``, ``>``, ``<``, ``>=``, ``<=``), clauses
  joined by ``AND`` or by ``OR`` (not both), ``-`` negating one; ``limit`` 1-100 and ``page`` with the
  ``next_page`` token; answers ``{"object": "search_result", "data", "has_more", "next_page", "url"}``.
  Search here is immediately consistent (Stripe documents a delay of up to a minute).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ._sandbox_objects import new_customer

if TYPE_CHECKING:
    from ._sandbox import StripeSandbox

TEXT_FIELDS: Final = ("email", "name", "phone", "description")
#: The longest value Stripe takes for each text field (the ``maxLength`` of ``POST /v1/customers``'s
#: form in Stripe's spec3, ``specs/stripe-api.json``), and for a metadata key and value
#: (https://docs.stripe.com/metadata: keys up to 40 characters, values up to 500).
MAX_CHARS: Final = {"email": 512, "name": 256, "phone": 20, "description": 5000}
MAX_METADATA_KEY_CHARS: Final = 40
MAX_METADATA_VALUE_CHARS: Final = 500
ADDRESS_KEYS: Final = ("city", "country", "line1", "line2", "postal_code", "state")
SEARCH_URL: Final = "/v1/customers/search"
_CLAUSE: Final = re.compile(
    r"""^(-?)(email|name|phone|created|metadata\[['"]([^'"]+)['"]\])\s*(>=|<=|:|~|>|<)\s*(?:'([^']*)'|"([^"]*)"|(\d+))$"""
)


class SearchError(ValueError):
    """A search Stripe would refuse: the message says why, ``param`` names the parameter."""

    def __init__(self, message: str, param: str = "query") -> None:
        super().__init__(message)
        self.param = param


def _nested(params: Mapping[str, str], name: str) -> dict[str, str]:
    prefix = f"{name}["
    return {k[len(prefix) : -1]: v for k, v in params.items() if k.startswith(prefix) and k.endswith("]")}


def apply(sandbox: StripeSandbox, customer: dict[str, Any], params: Mapping[str, str]) -> bool:
    """Apply a create or update's fields to ``customer``; True when something changed."""
    before = repr((customer.get("address"), customer["metadata"], [customer.get(f) for f in TEXT_FIELDS]))
    for name in TEXT_FIELDS:
        if name in params:
            customer[name] = params[name] or None
    address = _nested(params, "address")
    if address:
        current = dict(customer.get("address") or dict.fromkeys(ADDRESS_KEYS))
        current.update({k: (v or None) for k, v in address.items() if k in ADDRESS_KEYS})
        customer["address"] = current
    metadata = _nested(params, "metadata")
    if metadata:
        customer["metadata"] = {k: v for k, v in {**customer["metadata"], **metadata}.items() if v != ""}
    after = repr((customer.get("address"), customer["metadata"], [customer.get(f) for f in TEXT_FIELDS]))
    return before != after


def check(params: Mapping[str, str]) -> tuple[str, str] | None:
    """Why Stripe would refuse these customer fields, and the parameter it names (None when it
    would take them)."""
    metadata = _nested(params, "metadata")
    if len(metadata) > 50:
        return "Metadata can have at most 50 keys.", "metadata"
    for key, value in metadata.items():
        if len(key) > MAX_METADATA_KEY_CHARS:
            return f"Metadata keys can have up to {MAX_METADATA_KEY_CHARS} characters.", f"metadata[{key}]"
        if len(value) > MAX_METADATA_VALUE_CHARS:
            return (
                f"Metadata values can have up to {MAX_METADATA_VALUE_CHARS} characters.",
                f"metadata[{key}]",
            )
    for name, limit in MAX_CHARS.items():
        if len(params.get(name) or "") > limit:
            return f"Invalid string: {params[name][:20]}...; must be at most {limit} characters", name
    unknown = sorted(set(_nested(params, "address")) - set(ADDRESS_KEYS))
    if unknown:
        return f"Received unknown parameter: address[{unknown[0]}]", f"address[{unknown[0]}]"
    return None


def create(sandbox: StripeSandbox, params: Mapping[str, str]) -> dict[str, Any]:
    """A new customer from ``POST /v1/customers`` (call under ``sandbox.lock``, after ``check``)."""
    customer = new_customer(sandbox, None, None, None, None, sandbox.clock.now())
    apply(sandbox, customer, params)
    sandbox._event("customer.created", customer, sandbox.clock.now())
    return customer


def _test(clause: str) -> Callable[[dict[str, Any]], bool]:
    match = _CLAUSE.match(clause.strip())
    if match is None:
        raise SearchError(f"The search query is not valid near {clause.strip()!r}.")
    negate, field, key, op, single, double, number = match.groups()
    value = single if single is not None else double if double is not None else number
    if field == "created":
        if number is None:
            raise SearchError("created takes a Unix timestamp without quotes.")
        bound = int(number)
        compare: dict[str, Callable[[int], bool]] = {
            ":": lambda v: v == bound,
            ">": lambda v: v > bound,
            "<": lambda v: v < bound,
            ">=": lambda v: v >= bound,
            "<=": lambda v: v <= bound,
        }
        if op not in compare:
            raise SearchError("created takes :, >, <, >= or <=.")
        test = compare[op]

        def found(c: dict[str, Any]) -> bool:
            return test(int(c["created"]))

    else:
        if op not in (":", "~"):
            raise SearchError(f"{field} takes : (exact) or ~ (substring).")
        if op == "~" and len(value or "") < 3:
            raise SearchError("A substring search (~) needs at least three characters.")
        wanted = (value or "").lower()

        exact = op == ":"

        def found(c: dict[str, Any]) -> bool:
            raw = c["metadata"].get(key) if key else c.get(field)
            text = str(raw or "").lower()
            return text == wanted if exact else wanted in text

    if negate:
        return lambda c: not found(c)
    return found


def _matcher(query: str) -> Callable[[dict[str, Any]], bool]:
    if not query.strip():
        raise SearchError("The search query must not be empty.")
    has_and = re.search(r"\s+AND\s+", query) is not None
    has_or = re.search(r"\s+OR\s+", query) is not None
    if has_and and has_or:
        raise SearchError("A search query cannot combine AND and OR.")
    clauses = [_test(c) for c in re.split(r"\s+(?:AND|OR)\s+", query)]
    if has_or:
        return lambda c: any(t(c) for t in clauses)
    return lambda c: all(t(c) for t in clauses)


def search(sandbox: StripeSandbox, params: Mapping[str, str]) -> dict[str, Any]:
    """``GET /v1/customers/search``'s answer (call under ``sandbox.lock``); raises ``SearchError``."""
    limit = params.get("limit", "10")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        raise SearchError("Invalid integer: limit must be 1-100.", "limit")
    keep = _matcher(params.get("query", ""))
    chosen = sorted(
        (c for c in sandbox.customers.values() if keep(c)),
        key=lambda c: (c["created"], sandbox._order[c["id"]]),
        reverse=True,
    )
    start = 0
    if params.get("page"):
        try:
            start = int(base64.urlsafe_b64decode(params["page"].encode()).decode())
        except ValueError:
            raise SearchError("Invalid page token.", "page") from None
    page = chosen[start : start + int(limit)]
    more = start + len(page) < len(chosen)
    token = base64.urlsafe_b64encode(str(start + len(page)).encode()).decode() if more else None
    return {"object": "search_result", "data": page, "has_more": more, "next_page": token, "url": SEARCH_URL}


__all__ = ["ADDRESS_KEYS", "SEARCH_URL", "SearchError", "apply", "check", "create", "search"]
