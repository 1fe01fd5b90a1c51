"""The Shopify connector: Admin GraphQL API 2026-01 over the shared HTTP kit.

Pull walks customers, then orders, each by ``updated_at`` (see ``_cursor``). The first full pull of a
large store (a count at or above ``bulk_threshold``) runs a bulk operation instead of paging: Shopify
exports the whole connection to a JSONL file, which costs one mutation and a few polls instead of
thousands of points, and is not subject to cursor paging's 25,000-object limit.

Throttling is cost based: every request reserves its requested cost in a ``CostBucketLimiter``, which
adopts the shop's real bucket from each response's ``extensions.cost.throttleStatus``; a THROTTLED
answer (HTTP 200 with ``errors[].extensions.code == "THROTTLED"``) is retried by the kit after the
limiter has learnt the shop's balance.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Final

import httpx

from connectors._http import (
    ApiKeyHeader,
    ConnectorAuthError,
    ConnectorRequestError,
    ConnectorUnavailableError,
    CostBucketLimiter,
    HttpClientConfig,
    PaginationError,
    RetryPolicy,
    build_client,
    describe_vendor_error,
    resolve_secret,
    secret_env_var,
    shopify_graphql_throttled,
)
from connectors.secrets import revealed
from core.connector import (
    ConnectorSettings,
    ConnectorSpec,
    Credential,
    EraseOutcome,
    Payload,
    PushOutcome,
    PushRules,
    RawPage,
)
from core.errors import ConnectorConfigError, ProfileSyncError
from core.normalise import normalise_email, normalise_phone
from core.schema import Identifier, Profile, RecordDraft
from core.time_bound import TimeBound

from . import _documents as docs
from ._cursor import (
    STREAMS,
    BulkPosition,
    PullState,
    StreamState,
    bounded_time,
    canonical_time,
    id_tag,
    tag_key,
)
from ._mapping import (
    CUSTOMER,
    METAFIELD_NAMES,
    METAFIELD_TYPES,
    ORDER,
    SOURCE,
    draft,
    gid,
    gid_tail,
    payload_for,
)

logger = logging.getLogger("connectors.shopify")

CREDENTIAL: Final = "shopify_access_token"
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
#: metafieldsSet user-error codes worth trying again; every other code means the value or owner is wrong.
_RETRYABLE_USER_ERRORS: Final = frozenset({"INTERNAL_ERROR"})
_BULK_DONE: Final = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})
_SHOP = re.compile(r"^(?:https?://)?([a-z0-9][a-z0-9-]*)(?:\.myshopify\.com)?/?$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9_-]{3,255}$")

_OBJECT_TYPE: Final[Mapping[str, str]] = {"customers": CUSTOMER, "orders": ORDER}
_PAGE: Final[Mapping[str, tuple[str, str, int, int]]] = {
    # stream -> (document, root field, first, requested cost)
    "customers": (docs.CUSTOMERS_PAGE, "customers", docs.CUSTOMER_PAGE_SIZE, docs.CUSTOMERS_PAGE_COST),
    "orders": (docs.ORDERS_PAGE, "orders", docs.ORDER_PAGE_SIZE, docs.ORDERS_PAGE_COST),
}
_BULK: Final[Mapping[str, str]] = {"customers": docs.CUSTOMERS_BULK, "orders": docs.ORDERS_BULK}

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
        "deletionEvents), which profilesync does not receive yet"
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


class ShopifyGraphQLError(ProfileSyncError):
    """Shopify answered with GraphQL errors (HTTP 200 and ``errors[]``): the request is wrong or not
    allowed, and sending it again will not help. ``codes`` holds the ``extensions.code`` values."""

    def __init__(self, operation: str, message: str, codes: frozenset[str] = frozenset()) -> None:
        shown = f" [{', '.join(sorted(codes))}]" if codes else ""
        super().__init__(f"shopify: {operation} was refused: {message}{shown}")
        self.operation = operation
        self.codes = codes


class ShopifyBulkOperationError(ProfileSyncError):
    """A bulk operation could not be started or did not complete."""


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
    raw = options.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ConnectorConfigError(f"shopify: option {name!r} must be a positive whole number (got {raw!r})")
    return value


def parse_bulk_jsonl(content: bytes) -> list[dict[str, Any]]:
    """The root objects of a bulk operation's JSONL result, in file order.

    A nested connection's nodes come as lines of their own carrying ``__parentId`` (the parent's GID),
    after their parent; they are gathered under the parent's ``__children`` list.
    """
    roots: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(content.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, parse_float=Decimal)
        except ValueError:
            raise ShopifyBulkOperationError(
                f"shopify: line {number} of the bulk operation's result is not JSON; run the pull again"
            ) from None
        parent = obj.get("__parentId") if isinstance(obj, dict) else None
        if isinstance(parent, str):
            holder = by_id.get(parent)
            if holder is not None:
                holder.setdefault("__children", []).append(obj)
            continue
        roots.append(obj)  # a line that is not an object is kept: the mapping quarantines it
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            by_id[obj["id"]] = obj
    return roots


class ShopifyConnector:
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

    # --- GraphQL ------------------------------------------------------------------------------------
    def graphql(
        self,
        operation: str,
        document: str,
        variables: Mapping[str, Any],
        *,
        cost: float,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """Send one document and return its ``data``; GraphQL errors raise (ACCESS_DENIED: an auth error)."""
        self.calls[operation] += 1
        body = self._client.post_json(
            docs.GRAPHQL_PATH,
            json={"query": document, "variables": dict(variables)},
            cost=cost,
            idempotent=idempotent,
        )
        if not isinstance(body, dict):
            raise ShopifyGraphQLError(operation, "the response is not a JSON object")
        errors = body.get("errors")
        if errors:
            raise self._error(operation, errors)
        data = body.get("data")
        if not isinstance(data, dict):
            raise ShopifyGraphQLError(operation, "the response has no data")
        return data

    @staticmethod
    def _error(operation: str, errors: Any) -> Exception:
        message = describe_vendor_error({"errors": errors})
        codes = frozenset(
            str(e["extensions"]["code"])
            for e in (errors if isinstance(errors, list) else [])
            if isinstance(e, dict) and isinstance(e.get("extensions"), dict) and e["extensions"].get("code")
        )
        if "ACCESS_DENIED" in codes:
            # Shopify answers a missing scope with HTTP 200 and ACCESS_DENIED, not a 403.
            return ConnectorAuthError(
                SOURCE, 403, credential_hint=secret_env_var(CREDENTIAL), vendor_message=message
            )
        return ShopifyGraphQLError(operation, message, codes)

    # --- pull ---------------------------------------------------------------------------------------
    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        """Customers, then orders, page by page; each page's cursor resumes right after it."""
        state = PullState() if cursor is None else PullState.decode(cursor, self._tag_key)
        if state.done:
            state.next_run()
        # A record stamped far in the future is read as the start of this pull (core.time_bound): it
        # can carry no watermark past the pull, so the changes made after it are asked for next time.
        self._bound = TimeBound.from_now()
        last: str | None = None
        while not state.done:
            stream = STREAMS[state.phase]
            for records in self._walk(stream, state):
                page = RawPage(records=records, cursor=state.encode(), object_type=_OBJECT_TYPE[stream])
                last = page.cursor
                yield page
        final = state.encode()
        if last != final:
            # Nothing new, or the last stream ended on records already delivered: hand back the cursor.
            yield RawPage(records=[], cursor=final, object_type=CUSTOMER)

    def cursor_since(self, since: datetime) -> str:
        """A cursor whose pull returns the customers and orders updated at or after ``since``."""
        moment = since if since.tzinfo else since.replace(tzinfo=UTC)
        state = PullState()
        for stream in state.streams.values():
            stream.since = canonical_time(moment.isoformat())
            stream.begin_walk()
        return state.encode()

    def _walk(self, stream: str, state: PullState) -> Iterator[list[dict[str, Any]]]:
        position = state.streams[stream]
        if position.since is None and position.mode is None and position.after is None:
            self._choose_modes(state)
        if position.mode == "bulk":
            yield from self._walk_bulk(stream, state)
        else:
            yield from self._walk_pages(stream, state)

    def _choose_modes(self, state: PullState) -> None:
        """On a full pull, count customers and orders (one request) and pick bulk or paging for each."""
        data = self.graphql("counts", docs.COUNTS, {"limit": self.bulk_threshold}, cost=docs.COUNTS_COST)
        for stream, field in (("customers", "customersCount"), ("orders", "ordersCount")):
            position = state.streams[stream]
            if position.since is None and position.mode is None:
                count = (data.get(field) or {}).get("count")
                big = isinstance(count, int) and count >= self.bulk_threshold
                position.mode = "bulk" if big else "paging"

    def _walk_pages(self, stream: str, state: PullState) -> Iterator[list[dict[str, Any]]]:
        position = state.streams[stream]
        document, root, first, cost = _PAGE[stream]
        if position.after is None and position.walked == 0:
            position.begin_walk()
        while True:
            if position.walked and position.walked + first > self.walk_limit:
                self._restart_walk(stream, position)
            variables = {"first": first, "after": position.after, "query": _updated_since(position.since)}
            data = self.graphql(stream, document, variables, cost=cost)
            connection = data.get(root) or {}
            nodes = connection.get("nodes") or []
            nodes = nodes if isinstance(nodes, list) else []
            info = connection.get("pageInfo") or {}
            fresh = self._fresh(position, nodes, self._bound)
            position.walked += len(nodes)
            more = info.get("hasNextPage") is True
            if more:
                end = info.get("endCursor")
                if not isinstance(end, str) or not end or end == position.after:
                    raise PaginationError(
                        f"shopify: {stream}: hasNextPage is true but endCursor did not move"
                    )
                position.after = end
            else:
                position.finish_walk(self._bound)
                state.phase += 1
            if fresh:
                yield fresh
            if not more:
                return

    def _fresh(self, position: StreamState, nodes: list[Any], bound: TimeBound) -> list[dict[str, Any]]:
        fresh = []
        for node in nodes:
            if not isinstance(node, dict):
                fresh.append(node)  # junk in the list: the mapping quarantines it
                continue
            tag, updated = (
                id_tag(self._tag_key, str(node.get("id"))),
                bounded_time(node.get("updatedAt"), bound),
            )
            if position.already_delivered(tag, updated):
                continue
            if position.since is not None and updated is not None and updated < position.since:
                # Shopify documents the customers filter on updated_at as "matching a whole day": what
                # comes back from before the bound was delivered by the walk that set it.
                continue
            position.delivered(tag, updated)
            fresh.append(node)
        return fresh

    def _restart_walk(self, stream: str, position: StreamState) -> None:
        # Cursor paging stops at 25,000 objects: start a new walk from the newest timestamp delivered,
        # skipping what was delivered at it. Impossible only if one second holds a whole walk of records.
        if position.high == position.since:
            raise PaginationError(
                f"shopify: {stream}: more than {self.walk_limit} records share updated_at {position.since}, "
                "which cursor paging cannot get past; run a full pull (cursor=None): it uses a bulk operation"
            )
        position.since, position.skip = position.high, dict(position.high_ids)
        position.begin_walk()

    def _walk_bulk(self, stream: str, state: PullState) -> Iterator[list[dict[str, Any]]]:
        position = state.streams[stream]
        if position.bulk is None:
            position.bulk = self._start_bulk(stream)
            # Hand the operation's id to the caller at once: a run cut short while Shopify works polls
            # the same operation when it resumes instead of starting another.
            yield []
        operation = self._await_bulk(position.bulk.id)
        if operation.get("status") == "EXPIRED":
            # Results are kept seven days; a resume after that exports again (repeats are harmless).
            position.bulk = self._start_bulk(stream)
            operation = self._await_bulk(position.bulk.id)
        if operation.get("status") != "COMPLETED":
            code = operation.get("errorCode")
            if code == "ACCESS_DENIED":
                raise ConnectorAuthError(SOURCE, 403, credential_hint=secret_env_var(CREDENTIAL))
            raise ShopifyBulkOperationError(
                f"shopify: bulk operation {position.bulk.id} for {stream} ended {operation.get('status')}"
                f" ({code or 'no error code'}); run the pull again"
            )
        bulk = position.bulk
        roots = self._download(operation.get("url"))[bulk.offset :]
        size = self.spec.page_size
        if not roots:
            position.finish_bulk(bulk)
            state.phase += 1
            return
        for start in range(0, len(roots), size):
            chunk = roots[start : start + size]
            for node in chunk:
                updated = bounded_time(node.get("updatedAt"), self._bound) if isinstance(node, dict) else None
                if updated is not None and updated >= bulk.started:
                    bulk.late[id_tag(self._tag_key, str(node.get("id")))] = updated
            bulk.offset += len(chunk)
            if start + size >= len(roots):
                position.finish_bulk(bulk)
                state.phase += 1
            yield chunk

    def _start_bulk(self, stream: str) -> BulkPosition:
        data = self.graphql(
            "bulkOperationRunQuery",
            docs.BULK_RUN,
            {"query": _BULK[stream]},
            cost=docs.MUTATION_COST,
            idempotent=False,
        )
        payload = data.get("bulkOperationRunQuery") or {}
        errors = payload.get("userErrors") or []
        operation = payload.get("bulkOperation") or {}
        started = canonical_time(operation.get("createdAt"))
        if errors or not operation.get("id") or started is None:
            raise ShopifyBulkOperationError(
                f"shopify: could not start a bulk export of {stream}: "
                f"{describe_vendor_error(errors) or 'no operation was returned'}"
            )
        return BulkPosition(id=str(operation["id"]), started=started)

    def _await_bulk(self, operation_id: str) -> dict[str, Any]:
        delay = 1.0
        while True:
            data = self.graphql(
                "bulkOperation", docs.BULK_STATUS, {"id": operation_id}, cost=docs.BULK_STATUS_COST
            )
            operation = data.get("bulkOperation")
            if not isinstance(operation, dict):
                raise ShopifyBulkOperationError(f"shopify: bulk operation {operation_id} no longer exists")
            if operation.get("status") in _BULK_DONE:
                return operation
            self._retry.sleep(delay)
            delay = min(delay * 2, 30.0)

    def _download(self, url: Any) -> list[dict[str, Any]]:
        if not url:
            return []  # Shopify gives no url when the export holds no objects
        target = httpx.URL(str(url))
        origin = f"{target.scheme}://{target.netloc.decode('ascii')}"
        # A signed URL on Shopify's storage: it carries its own authorisation, so the access token is
        # never sent there (the kit would refuse to send it to another host anyway).
        config = HttpClientConfig(connector=SOURCE, base_url=origin, retry=self._retry, read_timeout=300.0)
        with build_client(config, self._transport) as client:
            response = client.request("GET", str(url))
        return parse_bulk_jsonl(response.content)

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        """Map a page of customers or orders (``page.object_type``); never raises."""
        return [draft(page.object_type, node) for node in page.records]

    # --- push ---------------------------------------------------------------------------------------
    def from_profile(self, profile: Profile) -> Payload | None:
        """The profile's enriched traits as metafields of its Shopify customer, or None without one."""
        return payload_for(profile, self.namespace)

    def pushed_identifier(self, remote_id: str) -> Identifier | None:
        """The customer a push wrote metafields on (its remote id is the customer's GID)."""
        numeric = gid_tail(remote_id)
        return (
            Identifier(kind="source", value=f"{SOURCE}:{CUSTOMER}:{numeric}") if numeric.isdigit() else None
        )

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        """Set the metafields with metafieldsSet, 25 per call; one outcome per payload, in order.

        A customer the shop holds is addressed by its GID (the payload's match key, else the
        ``remote_id`` profilesync's own create gave it); someone it does not hold, whom an ``upsert``
        instance may create, is created with ``customerCreate`` (metafields included), one per call.
        """
        if not payloads:
            return []
        self._ensure_definitions()
        outcomes: list[PushOutcome | None] = [None] * len(payloads)
        owners = {i: _owner(p) for i, p in enumerate(payloads)}
        for index, owner in owners.items():
            if owner is None:
                outcomes[index] = self._create(payloads[index])
        updates = [
            dataclasses.replace(p, match_key=str(owners[i])) for i, p in enumerate(payloads) if owners[i]
        ]
        positions = [i for i in range(len(payloads)) if owners[i]]
        updated = self._set_metafields(updates) if updates else []
        for index, outcome in zip(positions, updated, strict=True):
            outcomes[index] = outcome
        return [
            o if o is not None else _failed(payloads[i], "not pushed", True) for i, o in enumerate(outcomes)
        ]

    def _create(self, payload: Payload) -> PushOutcome:
        """``customerCreate`` for one person the shop does not hold, with the payload's metafields."""
        customer = dict(payload.body.get("customer") or {"email": payload.match_key})
        customer["metafields"] = list(payload.body.get("metafields") or [])
        try:
            # Not retried blindly: a create whose answer was lost may have made the customer, and a
            # second one would be refused as a taken email (reported, not duplicated).
            data = self.graphql(
                "customerCreate", docs.CUSTOMER_CREATE, {"input": customer}, cost=docs.MUTATION_COST
            )
        except ConnectorUnavailableError as exc:
            return _failed(payload, str(exc), True)
        except (ShopifyGraphQLError, ConnectorRequestError) as exc:
            return _failed(payload, str(exc), False)
        result = data.get("customerCreate") or {}
        errors = result.get("userErrors") or []
        created = (result.get("customer") or {}).get("id")
        if errors or not created:
            return _failed(
                payload, f"shopify: customerCreate refused: {describe_vendor_error(errors)}", False
            )
        return PushOutcome(payload.customer_id, True, str(created))

    def _set_metafields(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        """metafieldsSet for customers the shop holds (match keys are their GIDs), 25 per call."""
        outcomes: list[PushOutcome | None] = [None] * len(payloads)
        batch: list[int] = []
        size = 0
        for index, payload in enumerate(payloads):
            count = len(payload.body.get("metafields") or [])
            if batch and size + count > docs.METAFIELDS_PER_CALL:
                self._push_batch(payloads, batch, outcomes)
                batch, size = [], 0
            batch.append(index)
            size += count
        if batch:
            self._push_batch(payloads, batch, outcomes)
        return [
            o if o is not None else _failed(payloads[i], "not pushed", True) for i, o in enumerate(outcomes)
        ]

    def _push_batch(
        self, payloads: Sequence[Payload], batch: list[int], outcomes: list[PushOutcome | None]
    ) -> None:
        # metafieldsSet is atomic: one bad value and nothing in the call is saved. The payloads that
        # were not at fault are sent once more on their own, so each gets its true outcome.
        pending = list(batch)
        for attempt in range(2):
            inputs: list[dict[str, Any]] = []
            owners: list[int] = []
            for index in pending:
                for metafield in payloads[index].body.get("metafields") or []:
                    inputs.append({**metafield, "ownerId": payloads[index].match_key})
                    owners.append(index)
            if not inputs:
                for index in pending:
                    outcomes[index] = PushOutcome(
                        payloads[index].customer_id, True, payloads[index].match_key
                    )
                return
            try:
                data = self.graphql(
                    "metafieldsSet", docs.METAFIELDS_SET, {"metafields": inputs}, cost=docs.MUTATION_COST
                )
            except ConnectorUnavailableError as exc:
                for index in pending:
                    outcomes[index] = _failed(payloads[index], str(exc), True)
                return
            except (ShopifyGraphQLError, ConnectorRequestError) as exc:
                for index in pending:
                    outcomes[index] = _failed(payloads[index], str(exc), False)
                return
            errors = (data.get("metafieldsSet") or {}).get("userErrors") or []
            if not errors:
                for index in pending:
                    outcomes[index] = PushOutcome(
                        payloads[index].customer_id, True, payloads[index].match_key
                    )
                return
            blamed = _blame(errors, owners)
            if not blamed:
                message = describe_vendor_error(errors)
                for index in pending:
                    outcomes[index] = _failed(
                        payloads[index], f"shopify: metafieldsSet refused: {message}", False
                    )
                return
            for index, (message, retryable) in blamed.items():
                outcomes[index] = _failed(
                    payloads[index], f"shopify: metafieldsSet refused: {message}", retryable
                )
            pending = [i for i in pending if i not in blamed]
            if not pending:
                return
            if attempt == 1:
                for index in pending:
                    outcomes[index] = _failed(
                        payloads[index],
                        "not saved: another record in the same metafieldsSet call failed",
                        True,
                    )

    def _ensure_definitions(self) -> None:
        """Create the metafield definitions profilesync writes, if missing; once per connector.

        Definitions give the values a name and a type in the Shopify admin. metafieldsSet works without
        them, so a failure here is logged and the push goes on.
        """
        if self._definitions_ready:
            return
        data = self.graphql(
            "metafieldDefinitions",
            docs.METAFIELD_DEFINITIONS,
            {"namespace": self.namespace},
            cost=docs.METAFIELD_DEFINITIONS_COST,
        )
        nodes = ((data.get("metafieldDefinitions") or {}).get("nodes")) or []
        existing = {
            str(n.get("key")): str((n.get("type") or {}).get("name")) for n in nodes if isinstance(n, dict)
        }
        for key, kind in METAFIELD_TYPES.items():
            if key in existing:
                if existing[key] != kind:
                    logger.warning(
                        "shopify: metafield %s.%s is a %s, profilesync writes a %s: pushing it fails",
                        self.namespace,
                        key,
                        existing[key],
                        kind,
                    )
                continue
            definition = {
                "name": METAFIELD_NAMES[key],
                "namespace": self.namespace,
                "key": key,
                "type": kind,
                "ownerType": "CUSTOMER",
                "description": "Written by profilesync from the merged customer profile.",
            }
            created = self.graphql(
                "metafieldDefinitionCreate",
                docs.METAFIELD_DEFINITION_CREATE,
                {"definition": definition},
                cost=docs.MUTATION_COST,
            )
            errors = (created.get("metafieldDefinitionCreate") or {}).get("userErrors") or []
            if any(isinstance(e, dict) and e.get("code") != "TAKEN" for e in errors):
                logger.warning(
                    "shopify: could not define metafield %s.%s: %s",
                    self.namespace,
                    key,
                    describe_vendor_error(errors),
                )
        self._definitions_ready = True

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
    object_type, _, numeric = rest.partition(":")
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


def _updated_since(since: str | None) -> str | None:
    # Date values must be quoted: unquoted, Shopify compares the date and drops the time
    # (https://shopify.dev/docs/api/usage/search-syntax). Inclusive, with the cursor's skip list.
    return f"updated_at:>='{since}'" if since else None


def _owner(payload: Payload) -> str | None:
    """The GID of the customer a payload goes to: its match key when that is one, else the one
    profilesync created before (``remote_id``); None for someone to create."""
    if payload.match_key.startswith("gid://shopify/Customer/"):
        return payload.match_key
    return payload.remote_id or None


def _failed(payload: Payload, error: str, retryable: bool) -> PushOutcome:
    return PushOutcome(payload.customer_id, False, payload.match_key, error=error, retryable=retryable)


def _blame(errors: list[Any], owners: list[int]) -> dict[int, tuple[str, bool]]:
    """Which payloads the user errors are about: ``elementIndex`` (or ``field[1]``) is the position of
    the metafield in the call."""
    blamed: dict[int, tuple[str, bool]] = {}
    for error in errors:
        if not isinstance(error, dict):
            continue
        position = error.get("elementIndex")
        field = error.get("field")
        if not isinstance(position, int) and isinstance(field, list) and len(field) > 1:
            try:
                position = int(field[1])
            except (TypeError, ValueError):
                position = None
        if not isinstance(position, int) or not 0 <= position < len(owners):
            continue
        code = str(error.get("code") or "")
        message = str(error.get("message") or "refused")
        key = field[-1] if isinstance(field, list) and field else ""
        text = f"{message} ({code}{', ' + str(key) if key else ''})" if code else message
        owner = owners[position]
        previous = blamed.get(owner)
        retryable = code in _RETRYABLE_USER_ERRORS and (previous is None or previous[1])
        blamed[owner] = (f"{previous[0]}; {text}" if previous else text, retryable)
    return blamed


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
