"""The Shopify connector: Admin GraphQL API 2026-01 over the shared HTTP kit.

Pull walks customers, then orders, each by ``updated_at`` (see ``_cursor``). The first full pull of a
large store (a count at or above ``bulk_threshold``) runs a bulk operation instead of paging: Shopify
exports the whole connection to a JSONL file, which costs one mutation and a few polls instead of
thousands of points, and is not subject to cursor paging's 25,000-object limit.

Throttling is cost based: every request reserves its requested cost in a ``CostBucketLimiter``, which
adopts the shop's real bucket from each response's ``extensions.cost.throttleStatus``; a THROTTLED
answer (HTTP 200 with ``errors[].extensions.code == "THROTTLED"``) is retried by the kit after the
limiter has learnt the shop's balance.

``ShopifyConnector`` mixes in the pull (``_pull``), the push (``_push``) and the erasure (``_erase``),
each on the GraphQL client of ``_client``.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from types import TracebackType
from typing import Final

import httpx

from connectors._http import (
    ApiKeyHeader,
    CostBucketLimiter,
    HttpClientConfig,
    RetryPolicy,
    build_client,
    resolve_secret,
    shopify_graphql_throttled,
)
from connectors.option_numbers import whole_number
from connectors.secrets import revealed
from core.connector import ConnectorSettings, ConnectorSpec, Credential, PushRules
from core.errors import ConnectorConfigError
from core.time_bound import TimeBound

from . import _documents as docs
from ._client import CREDENTIAL, ShopifyBulkOperationError, ShopifyGraphQLError
from ._cursor import tag_key
from ._erase import ShopifyErase
from ._mapping import CUSTOMER, METAFIELD_TYPES, ORDER, SOURCE, stored_id
from ._pull import ShopifyPull, parse_bulk_jsonl
from ._push import ShopifyPush

logger = logging.getLogger("connectors.shopify")

ACCESS_TOKEN_HEADER: Final = "X-Shopify-Access-Token"
DEFAULT_NAMESPACE: Final = "profilesync"
DEFAULT_BULK_THRESHOLD: Final = 10_000
#: Shopify stops cursor paging at 25,000 objects (https://shopify.dev/docs/api/usage/limits#pagination-limits).
PAGING_LIMIT: Final = 25_000
#: Standard plan: 100 points/s restored (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits),
#: a 2,000-point bucket (20 s of restore, the ratio Shopify has always used). The first response's
#: throttleStatus replaces both with the shop's real figures.
STANDARD_BUCKET: Final = 2_000.0
STANDARD_RESTORE_RATE: Final = 100.0
_SHOP = re.compile(r"^(?:https?://)?([a-z0-9][a-z0-9-]*)(?:\.myshopify\.com)?/?$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9_-]{3,255}$")


SPEC = ConnectorSpec(
    name=SOURCE,
    kind="ecommerce",
    description=(
        "Shopify Admin GraphQL API 2026-01: customers and orders in (a bulk operation for the first "
        "pull of a large store); enriched traits out as customer metafields; GDPR erasure requests."
    ),
    default_base_url="https://{shop}.myshopify.com",
    credentials=(
        Credential(
            CREDENTIAL,
            "Admin API access token of a custom app (shpat_...) with the scopes read_customers, "
            "write_customers and read_orders (read_all_orders for orders older than 60 days)",
        ),
    ),
    options={
        "shop": "the store's handle, e.g. 'acme' or 'acme.myshopify.com' (required)",
        "bulk_threshold": (
            f"a first full pull of at least this many customers or orders runs a bulk operation instead "
            f"of paging (default {DEFAULT_BULK_THRESHOLD})"
        ),
        "namespace": f"metafield namespace for the pushed traits (default {DEFAULT_NAMESPACE!r})",
        "page_size": (
            f"customers and orders a page of a paged walk asks for, 1 to {docs.CUSTOMER_PAGE_SIZE} "
            f"(default: the most a query may cost, {docs.CUSTOMER_PAGE_SIZE} customers and "
            f"{docs.ORDER_PAGE_SIZE} orders; orders never more than {docs.ORDER_PAGE_SIZE})"
        ),
        "walk_limit": (
            f"objects one paged walk may cover before it restarts from its newest timestamp "
            f"(default {PAGING_LIMIT}, Shopify's pagination limit)"
        ),
    },
    page_size=docs.MAX_PAGE_SIZE,
    # Seven metafields per profile at most, 25 per metafieldsSet call: three profiles always fit.
    push_batch_size=docs.METAFIELDS_PER_CALL // len(METAFIELD_TYPES),
    rate_limit=(
        "calculated query cost, leaky bucket per app and store: 100 points/s on Standard plans, 200 on "
        "Advanced, 1,000 on Plus; at most 1,000 points per query "
        "(https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits)"
    ),
    # The Standard plan's bucket (points): 2,000 held, 100 restored a second.
    shared_budget=(100.0, 2000.0),
    # A shop's customers are the audience of its own marketing (Shopify Email): push updates the
    # customers the shop holds by default, and an upsert instance creates only people who consented to
    # email. Orders alone do not mean the shop holds a customer.
    push_rules=PushRules(mode="update", channel="email", holder_types=frozenset({CUSTOMER})),
    deletions=(
        "not reported by a pull: the Admin GraphQL API has no deletedAt on Customer or Order, and "
        "deletionEvents covers products and collections only (DeletionEventSubjectType: PRODUCT, "
        "COLLECTION); deleted customers and orders are announced by the customers/delete and "
        "orders/delete webhooks alone (https://shopify.dev/docs/api/admin-graphql/latest/queries/"
        "deletionEvents), which profilesync does not receive yet; a full refresh retires a deleted "
        "customer (refresh_lists)"
    ),
    stored_id=stored_id,  # a record named by its GID is the one stored under the GID's numeric tail
    # A full refresh walks the customers connection with no query (a bulk operation on a large store):
    # every customer the shop holds, so one it no longer lists was deleted or redacted
    # (core.refresh_sweep). Never orders: without read_all_orders Shopify lists the last 60 days only.
    refresh_lists=frozenset({CUSTOMER}),
    refresh_unswept=(
        (
            ORDER,
            "without the read_all_orders scope Shopify lists only the last 60 days of orders "
            "(https://shopify.dev/docs/api/usage/access-scopes), so a full refresh cannot tell an order "
            "deleted at Shopify from an older one; a deleted order stays in its profile (Shopify "
            "announces it by the orders/delete webhook alone, which profilesync does not receive yet)",
        ),
    ),
)


class DocumentCostLimiter(CostBucketLimiter):
    """A cost limiter that reserves exactly the requested cost the connector computed for each document.

    The kit's limiter reserves the larger of the cost given and the previous response's
    ``requestedQueryCost``, a safe guess when every request repeats one query. The connector sends
    several documents whose costs it knows exactly (``_documents``, checked against Shopify's cost
    model in the tests), so the first orders page after a customers page would otherwise wait for
    246 points it does not need.
    """

    def acquire(self, cost: float = 1.0) -> None:
        self.last_requested_cost = None
        super().acquire(cost)


def normalise_shop(value: str | None) -> str:
    """The shop handle from ``acme``, ``acme.myshopify.com`` or ``https://acme.myshopify.com/``."""
    text = (value or "").strip().lower()
    match = _SHOP.match(text)
    if not text or match is None:
        raise ConnectorConfigError(
            f"shopify: option 'shop' must name the store, e.g. 'acme' or 'acme.myshopify.com'"
            f" (got {value!r}); set it in the connector's options"
        )
    return match.group(1)


def _int_option(options: Mapping[str, str], name: str, default: int) -> int:
    return whole_number(options, name, connector="shopify", default=default, low=1)


class ShopifyConnector(ShopifyPull, ShopifyPush, ShopifyErase):
    """Pull customers and orders, push enriched traits as metafields, and request GDPR erasure.

    ``limiter`` replaces the cost limiter (tests inject one with a fake clock). Use as a context
    manager, or call ``close``.
    """

    spec = SPEC

    def __init__(self, settings: ConnectorSettings, *, limiter: CostBucketLimiter | None = None) -> None:
        self._bound = TimeBound.from_now()  # set again at the start of every pull
        options = dict(settings.options)
        unknown = sorted(set(options) - set(SPEC.options))
        if unknown:
            raise ConnectorConfigError(
                f"shopify: unknown option(s) {', '.join(unknown)}; the options are {', '.join(SPEC.options)}"
            )
        self.shop = normalise_shop(options.get("shop"))
        self.namespace = (options.get("namespace") or DEFAULT_NAMESPACE).strip()
        if not _NAMESPACE.match(self.namespace):
            raise ConnectorConfigError(
                "shopify: option 'namespace' must be 3 to 255 letters, digits, '-' or '_'"
                f" (got {self.namespace!r})"
            )
        self.bulk_threshold = _int_option(options, "bulk_threshold", DEFAULT_BULK_THRESHOLD)
        self.walk_limit = _int_option(options, "walk_limit", PAGING_LIMIT)
        self.page_size = whole_number(
            options,
            "page_size",
            connector="shopify",
            default=docs.CUSTOMER_PAGE_SIZE,
            low=1,
            high=docs.CUSTOMER_PAGE_SIZE,
            meaning="customers a page (the largest page within Shopify's 1,000-point query limit)",
        )
        if str(options.get("page_size") or "").strip():
            # Given (even as its default, 249): the spec says it; not given, the API's largest, 250.
            self.spec = replace(SPEC, page_size=self.page_size)
        token = settings.credentials.get(CREDENTIAL) or resolve_secret(CREDENTIAL)
        self._tag_key = tag_key(self.shop, revealed(token))
        self._retry: RetryPolicy = (
            settings.retry if isinstance(settings.retry, RetryPolicy) else RetryPolicy()
        )
        self._transport: httpx.BaseTransport | None = settings.transport
        self.limiter = limiter or DocumentCostLimiter(
            maximum_available=STANDARD_BUCKET, restore_rate=STANDARD_RESTORE_RATE
        )
        self.base_url = (settings.base_url or f"https://{self.shop}.myshopify.com").rstrip("/")
        self._client = build_client(
            HttpClientConfig(
                connector=SOURCE,
                base_url=self.base_url,
                auth=ApiKeyHeader(ACCESS_TOKEN_HEADER, token),
                credential_name=CREDENTIAL,
                retry=self._retry,
                limiters=(self.limiter, *settings.limiters),
                is_throttled=shopify_graphql_throttled,
            ),
            self._transport,
        )
        self._definitions_ready = False
        #: GraphQL requests sent, by operation (for benches and tests).
        self.calls: Counter[str] = Counter()

    def __enter__(self) -> ShopifyConnector:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()


def build(settings: ConnectorSettings) -> ShopifyConnector:
    """Build the connector from settings (the plugin's ``build``)."""
    return ShopifyConnector(settings)


__all__ = [
    "CREDENTIAL",
    "SPEC",
    "ShopifyBulkOperationError",
    "ShopifyConnector",
    "ShopifyGraphQLError",
    "build",
    "normalise_shop",
    "parse_bulk_jsonl",
]
