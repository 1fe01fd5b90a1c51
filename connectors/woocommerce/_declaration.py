"""WooCommerce, declared with the connector SDK: customers and orders in, meta data out, erasure.

Vendor facts, from WooCommerce's REST API reference (https://woocommerce.github.io/woocommerce-rest-api-docs/,
"wp-api-v3") and the REST controllers of woocommerce/woocommerce (plugins/woocommerce/includes/rest-api/
Controllers), unless a page is named:

* **Base URL** is the store's own (``https://shop.example.com``, or its subdirectory): the API lives
  under ``/wp-json/wc/v3``. Option ``store_url``, or the connector's base URL.
* **Auth**: REST API keys (WooCommerce > Settings > Advanced > REST API), a consumer key ``ck_...`` and
  secret ``cs_...``, sent over HTTPS as HTTP Basic user and password (docs, "Authentication over
  HTTPS"; ``WC_REST_Authentication::perform_basic_authentication``). One credential holds both as
  ``ck_...:cs_...``. Over plain HTTP WooCommerce wants OAuth 1.0a one-legged signatures instead;
  profilesync never sends keys over HTTP (only to localhost sandboxes). *Query-string variant*:
  WooCommerce also reads ``?consumer_key=...&consumer_secret=...`` over HTTPS, for servers that strip
  the Authorization header (the docs' "Consumer key is missing" case). profilesync does not send it:
  keys in URLs end up in web server and proxy logs. If a server strips the header, let it through
  (Apache: ``CGIPassAuth On``) rather than put keys in URLs. A wrong secret answers 401
  ``woocommerce_rest_authentication_error`` "Consumer secret is invalid."; an unknown key leaves the
  request anonymous, which the route refuses with 401 (``woocommerce_rest_cannot_view``).
* **Lists**: ``per_page`` 1-100 (default 10), ``page`` or ``offset``; ``X-WP-Total`` and
  ``X-WP-TotalPages`` headers, RFC 8288 ``Link`` (docs, "Pagination"). The walk pages by ``offset``
  with ``per_page=100``, each page overlapping the last by one record (``OverlapOffsetPaging``): with
  plain pages a record deleted or modified behind the walk shifts the rest and one is skipped.
* **Orders** (``GET /orders``): ``modified_after`` with ``dates_are_gmt=true`` (WooCommerce 5.8+,
  woocommerce-rest-api-docs PR #209) compares against ``post_modified_gmt`` as a ``WP_Date_Query``
  ``after``, which is strict (``>``), to the second; ``orderby=modified`` (in the v3 CRUD controller's
  enum, though the docs' table lists only date, id, include, title, slug; the controller adds ``ID`` to
  break ties: "modified ID", ascending with ``order=asc``); ``status=any`` (the default) is every
  status but trash. Without ``dates_are_gmt`` the bound is compared with the shop's local time.
* **Customers** (``GET /customers``): no date filter at all (``orderby`` only ``id``, ``include``,
  ``name``, ``registered_date``; woocommerce/woocommerce issue #31482, still open, and #41371), and
  unknown parameters are ignored, so ``modified_after`` would silently return everyone. Every pull walks
  all customers by ``id`` and keeps those changed since the cursor (``Incremental(ordered=False)``: the
  next walk starts no later than this one began, by the store's ``Date`` header). ``role`` defaults
  to ``customer`` (option ``customer_role``, e.g. ``all``). ``date_modified`` is null for a user
  WooCommerce never saved; its ``date_created_gmt`` stands in.
* **Errors** are WordPress REST errors: ``{"code": "woocommerce_rest_...", "message": ..., "data":
  {"status": 4xx}}``; invalid parameters 400 ``rest_invalid_param``.
* **Rate limits**: WooCommerce core documents none for ``wc/v3``: the API runs on the shop's own PHP
  workers and hosts throttle as they see fit (a 429 with ``Retry-After``, or 503). The only limit
  WooCommerce publishes is its Store API limiter, 25 requests per 10 seconds by default
  (https://developer.woocommerce.com/docs/apis/store-api/rate-limiting/). profilesync assumes that same
  budget for the whole store (pull, push and erase together): a pace a small shared host survives.
  A shop on bigger hosting raises it with the option ``requests_per_10s`` (and, in Lambda, the shared
  ``rate_budget`` of its instance in the configuration document).
* **Push** (``_push``): customer ``meta_data`` through ``POST /customers/batch`` (100 items a request),
  only to people who have a WooCommerce customer account (guests have nothing to hold meta).
* **Erase** (``_erase``): as ``WC_Privacy_Erasers``: orders anonymised, notes removed, account deleted.
"""

from __future__ import annotations

from typing import Final

from connectors.sdk import (
    FieldMap,
    Incremental,
    KeyPairAuth,
    OverlapOffsetPaging,
    PushMap,
    RestConnectorSpec,
    Stream,
    Window,
)
from core.connector import Credential
from core.push import ENRICHED_TRAITS

from ._erase import ERASE_ORDERS_OPTION, erase
from ._mapping import CUSTOMER, ORDER
from ._push import BATCH_LIMIT, META_PREFIX, send, shape

CREDENTIAL: Final = "woocommerce_api_key"
API: Final = "/wp-json/wc/v3"
CUSTOMERS: Final = f"{API}/customers"
ORDERS: Final = f"{API}/orders"
PAGE: Final = 100
#: Requests per 10 seconds: WooCommerce's Store API default (see the module docstring).
DEFAULT_REQUESTS_PER_10S: Final = 25
RATE_OPTION: Final = "requests_per_10s"
ROLE_OPTION: Final = "customer_role"

#: The mapping is code (``_mapping``); these name the fields the cursor and the docs rely on.
CUSTOMER_FIELDS = FieldMap(
    updated_at="date_modified_gmt",
    emails=("email", "billing.email"),
    phones=("billing.phone", "shipping.phone"),
)
ORDER_FIELDS = FieldMap(updated_at="date_modified_gmt", emails=("billing.email",), phones=("billing.phone",))

STREAMS: Final = (
    Stream(
        name="customers",
        path=CUSTOMERS,
        records_path="",
        primary_key="id",
        object_type=CUSTOMER,
        paging=OverlapOffsetPaging(("id",), total_header="X-WP-Total"),
        page_size=PAGE,
        page_size_param="per_page",
        params={"orderby": "id", "order": "asc"},
        # No since parameters: the endpoint has no date filter. The walk reads everyone by id.
        incremental=Incremental("date_modified_gmt", ordered=False, fallback_field="date_created_gmt"),
        fields=CUSTOMER_FIELDS,
    ),
    Stream(
        name="orders",
        path=ORDERS,
        records_path="",
        primary_key="id",
        object_type=ORDER,
        paging=OverlapOffsetPaging(("date_modified_gmt", "id"), total_header="X-WP-Total"),
        page_size=PAGE,
        page_size_param="per_page",
        params={"orderby": "modified", "order": "asc", "dates_are_gmt": "true"},
        incremental=Incremental("date_modified_gmt", {"modified_after": "{since}"}, strict=True),
        fields=ORDER_FIELDS,
    ),
)


def limits(requests_per_10s: int = DEFAULT_REQUESTS_PER_10S) -> tuple[Window, ...]:
    """The store-wide window pull, push and erase spend from together."""
    return (Window(requests_per_10s, 10.0),)


DECLARATION = RestConnectorSpec(
    name="woocommerce",
    kind="ecommerce",
    description=(
        "WooCommerce REST API v3: customers and orders (guest orders by billing email), enriched "
        "traits pushed as customer meta data; erasure as WooCommerce's privacy eraser does it"
    ),
    base_url="{store_url}",
    auth=KeyPairAuth(
        Credential(
            CREDENTIAL,
            "a REST API key pair with Read/Write access, as consumer_key:consumer_secret (ck_...:cs_...)",
        )
    ),
    streams=STREAMS,
    account_limits=limits(),
    shared_budget=(DEFAULT_REQUESTS_PER_10S / 10.0, float(DEFAULT_REQUESTS_PER_10S)),
    push=PushMap(
        properties={f"{META_PREFIX}{trait}": trait for trait in ENRICHED_TRAITS},
        shape=shape,
        send=send,
        batch_size=BATCH_LIMIT,
        only_known=True,
        # Only a customer account is someone WooCommerce holds; a guest order is not an account.
        holder_types=frozenset({"customer"}),
    ),
    erase=erase,
    options={
        "store_url": "the store's address, e.g. https://shop.example.com (unless a base URL is given)",
        ROLE_OPTION: "which users are customers: customer (default), subscriber, all, ...",
        RATE_OPTION: f"requests per 10 seconds the store's host allows (default {DEFAULT_REQUESTS_PER_10S})",
        ERASE_ORDERS_OPTION: "anonymise (default) or retain a person's orders when erasing them",
    },
    rate_limit=(
        "none documented for wc/v3 (the shop's own server); assumed 25 requests per 10 s per store, "
        "WooCommerce's Store API default (https://developer.woocommerce.com/docs/apis/store-api/"
        "rate-limiting/); option requests_per_10s"
    ),
    deletions=(
        "not reported: DELETE /wc/v3/customers/<id> needs force=true (customers have no trash) and the "
        "customer is then gone from every listing, with no deletion log or modified time left "
        "(https://woocommerce.github.io/woocommerce-rest-api-docs/#delete-a-customer); only the "
        "customer.deleted webhook announces it"
    ),
)

__all__ = [
    "API",
    "CREDENTIAL",
    "CUSTOMERS",
    "DECLARATION",
    "DEFAULT_REQUESTS_PER_10S",
    "ORDERS",
    "PAGE",
    "RATE_OPTION",
    "ROLE_OPTION",
    "STREAMS",
    "limits",
]
