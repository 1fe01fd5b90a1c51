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
  **Trash**: "Move to Trash" in the admin, and ``DELETE /orders/<id>`` without ``force``, keep the
  order with status ``trash`` (restorable until WordPress empties the trash, 30 days by default),
  stamping ``date_modified``. ``status`` takes one value (``any``, ``trash`` or a status; the v2/v3
  controller's enum, sanitised by ``sanitize_key``), so a second walk, ``orders_trash``, lists
  ``status=trash`` from its own cursor: a trashed order arrives as ``cancelled`` and stops counting.
* **Customers** (``GET /customers``): no date filter at all (``orderby`` only ``id``, ``include``,
  ``name``, ``registered_date``; woocommerce/woocommerce issue #31482, still open, and #41371), and
  unknown parameters are ignored, so ``modified_after`` would silently return everyone. Every pull walks
  all customers by ``id`` and keeps those changed since the cursor (``Incremental(ordered=False)``: the
  next walk starts no later than this one began, by the store's ``Date`` header). ``role`` is
  ``customer`` unless asked (the controller's default). By default (option ``customer_role`` ``auto``)
  the walk asks ``role=all`` and keeps the users WooCommerce holds as customers
  (``_connector.is_customer``: role ``customer`` or ``subscriber``, or ``is_paying_customer``), since
  orders name their owner whatever her role. A role named in the option is walked as asked, with
  nothing left out (``customer`` walks as before 2026-12, ``all`` every user). ``date_modified`` is
  null for a user WooCommerce never saved; its ``date_created_gmt`` stands in.
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
#: ``role=all`` lists every user. The default ``customer_role``, ``auto``, walks them all and keeps the
#: customers (``_connector.is_customer``).
ALL_ROLES: Final = "all"
AUTO_ROLE: Final = "auto"
#: The page type of the trash walk (``orders_trash``): its records are orders.
TRASHED_ORDER: Final = "trashed_order"

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
    # The trash, which status=any leaves out: an order trashed after a sync arrives as cancelled.
    Stream(
        name="orders_trash",
        path=ORDERS,
        records_path="",
        primary_key="id",
        # Its pages' own type (a declaration's types are unique); its records map to orders all the same.
        object_type=TRASHED_ORDER,
        paging=OverlapOffsetPaging(("date_modified_gmt", "id"), total_header="X-WP-Total"),
        page_size=PAGE,
        page_size_param="per_page",
        params={"orderby": "modified", "order": "asc", "dates_are_gmt": "true", "status": "trash"},
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
        ROLE_OPTION: (
            "auto (default: every user WooCommerce holds as a customer, of any role if she paid) or a "
            "role to walk, every user of it: customer, subscriber, all, ..."
        ),
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
        "customer.deleted webhook announces it, and a full refresh retires it (refresh_lists); an order "
        "deleted with force=true likewise (the trash is walked apart, so a trashed order is still listed)"
    ),
    # Every pull, a full refresh too, walks every customer of the role asked (GET /customers has no
    # filter but role), so one that completed without listing a stored customer means WooCommerce no
    # longer holds her as one. A full refresh walks every order too: status=any (every status but
    # trash) and the trash apart (orders_trash, mapped to orders), so an order it did not list was
    # deleted for good (DELETE /orders/<id>?force=true leaves no trace). An erased person's orders
    # stay, anonymised, under their ids: listed, never swept.
    refresh_lists=frozenset({CUSTOMER, ORDER}),
)

__all__ = [
    "ALL_ROLES",
    "API",
    "AUTO_ROLE",
    "CREDENTIAL",
    "CUSTOMERS",
    "DECLARATION",
    "DEFAULT_REQUESTS_PER_10S",
    "ORDERS",
    "PAGE",
    "RATE_OPTION",
    "ROLE_OPTION",
    "STREAMS",
    "TRASHED_ORDER",
    "limits",
]
