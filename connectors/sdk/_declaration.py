"""A REST connector declared as data: auth, streams, paging, field mapping, push mapping, limits.

Everything here is a frozen dataclass; behaviour lives in small objects each of them builds (an
``httpx.Auth``, a ``connectors._http`` paginator) and in the two hooks a declaration may name for the
vendor-specific writes (``PushMap.send`` and ``RestConnectorSpec.erase``). ``RestConnector`` reads a
declaration and implements ``core.connector.Connector`` from it.

Auth strategies are in ``_auth``, paging in ``_paging`` (both importable from here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from core.connector import (
    Capability,
    ConnectorKind,
    ConnectorSpec,
    EraseOutcome,
    PushMode,
    PushOutcome,
    PushRules,
)
from core.errors import ConnectorConfigError
from core.schema import Identifier, Profile

from ._auth import (
    ApiKeyAuth,
    AuthStrategy,
    BasicAuth,
    BearerAuth,
    ClientCredentialsAuth,
    JwtBearerAuth,
    KeyPairAuth,
)
from ._paging import NextUrlPaging, OffsetPaging, OverlapOffsetPaging, Paging, TokenPaging

if TYPE_CHECKING:
    from core.connector import Payload

    from ._connector import RestContext

# --- incremental pulls ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Incremental:
    """How a stream asks for what changed since a point in time.

    ``cursor_field`` is the dotted path of the record's modification time (ISO 8601 text, or epoch
    seconds with ``time_format="epoch"``). ``since_params`` are query parameters added to every
    request of an incremental walk, ``{since}`` replaced by the lower bound. When the vendor's filter
    is strict (``>``, ``strict=True``) the bound sent is one ``resolution`` earlier, so records on the
    watermark itself come back and the cursor's ids-at-the-watermark decide which are new. With no
    ``since_params`` (the vendor cannot filter), every walk reads everything and the cursor drops
    what it already returned.

    ``ordered=False`` says the walk does not return records in ``cursor_field`` order (it pages by
    id). A record read early and changed later in the walk keeps a time below records read after
    it, so the next walk starts no later than this one began (the vendor's ``Date`` header).
    ``fallback_field`` is read when a record has no ``cursor_field`` (never modified: its creation).
    """

    cursor_field: str
    since_params: Mapping[str, str] = field(default_factory=dict)
    strict: bool = True
    resolution: timedelta = timedelta(seconds=1)
    time_format: Literal["iso", "epoch"] = "iso"
    ordered: bool = True
    fallback_field: str | None = None


# --- field mapping ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsentMap:
    """One channel's consent: the vendor's status at ``status_path``; values in ``granted`` opt in,
    values in ``denied`` opt out, anything else says nothing.

    ``suppressed_path`` names a list of the channel's global suppressions (objects with a
    ``timestamp``), for a vendor that keeps a consent status and a block side by side (Klaviyo: a
    profile ``SUBSCRIBED`` with a spam complaint): a non-empty list reads as denied whatever the
    status, dated by the latest of its timestamps and the status's own change time."""

    status_path: str
    granted: frozenset[str]
    denied: frozenset[str]
    channel: str = "email"
    changed_at_path: str | None = None
    suppressed_path: str | None = None


@dataclass(frozen=True, slots=True)
class OrdersMap:
    """Where a record's orders are (a list at ``path``) and each order's fields, as dotted paths;
    ``statuses`` maps the vendor's status words to canonical ones (paid, pending, refunded, cancelled)."""

    path: str
    id: str = "id"
    total: str = "total"
    currency: str = "currency"
    created_at: str = "created_at"
    status: str = "status"
    statuses: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OwnerLink:
    """A child object's owner (an order's or a charge's customer): the owner's ``object_type`` in
    the same tool, and the path of its id in the child (``customer``; an expanded object's ``id``
    is taken too). The child joins its owner by that id; without one, by its email or phone."""

    object_type: str
    id_path: str


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Vendor record -> canonical draft, as dotted paths (``attributes.email``)."""

    updated_at: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    traits: Mapping[str, str] = field(default_factory=dict)
    """Canonical trait name -> path (``{"first_name": "attributes.first_name"}``)."""
    consent: tuple[ConsentMap, ...] = ()
    orders: OrdersMap | None = None
    owner: OwnerLink | None = None
    """Set for a stream of child objects (orders, charges): how a record names its owner."""


@dataclass(frozen=True, slots=True)
class Stream:
    """One list endpoint and how to read it: the records at ``records_path`` of each page, each
    identified by ``primary_key`` and mapped by ``fields`` into drafts of ``object_type``."""

    name: str
    path: str
    records_path: str
    primary_key: str
    object_type: str
    paging: Paging
    fields: FieldMap
    page_size: int = 100
    page_size_param: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    """Sent with every request of the stream (sort order, sparse fieldsets, additional fields)."""
    incremental: Incremental | None = None


# --- writes -----------------------------------------------------------------------------------------

PushSend = Callable[["RestContext", "Sequence[Payload]"], list[PushOutcome]]
EraseHook = Callable[["RestContext", Sequence[Identifier]], list[EraseOutcome]]
BodyShape = Callable[[Profile, str, dict[str, str]], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class PushMap:
    """Profile -> payload, and the hook that sends a batch of payloads.

    ``properties`` maps the vendor's custom property names to enriched traits (``core.push``):
    ``{"ps_customer_id": "customer_id"}``. ``shape(profile, email, properties)`` gives one person's
    request fragment; ``send`` must update, never create, a person whose payload has a ``remote_id``.

    Who the push may reach (``core.push_policy``): ``mode`` is the default push mode of an instance
    (``update``: only people the tool holds; ``upsert``: also create people); ``channel`` the consent
    channel a person needs to be created there (``"email"`` for an email-marketing tool; None when a
    record there sends them nothing); ``holder_types`` the object types of this tool's records that
    mean it holds the person (empty: any). ``only_known=True`` is the older spelling of
    ``mode="update"``.
    """

    properties: Mapping[str, str]
    shape: BodyShape
    send: PushSend
    batch_size: int = 100
    only_known: bool = False
    mode: PushMode | None = None
    channel: str | None = None
    holder_types: frozenset[str] = frozenset()

    def rules(self) -> PushRules:
        """The ``core.connector.PushRules`` this map declares."""
        mode: PushMode = self.mode or ("update" if self.only_known else "upsert")
        return PushRules(mode=mode, channel=self.channel, holder_types=self.holder_types)


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``requests`` in any ``seconds`` (a vendor's burst or steady limit)."""

    requests: int
    seconds: float


Operation = Literal["pull", "push", "erase"]


@dataclass(frozen=True, slots=True)
class RestConnectorSpec:
    """Everything a REST connector is, as data. ``connector_spec()`` gives the ``ConnectorSpec`` the
    CLI lists; ``RestConnector(declaration, settings)`` is the connector.

    ``limits`` holds each operation's windows (Klaviyo: pull 75/s and 750/min, push 10/s and 150/min):
    every operation gets its own HTTP client and limiters, since vendors count endpoints apart.
    ``account_limits`` are windows every operation spends from together (Stripe: 25/s in test mode
    for all requests of the account). ``shared_budget`` (requests per second, burst) is that account
    limit as the token bucket concurrent runs share in Lambda (``ConnectorSpec.shared_budget``).

    ``base_url`` may name options in braces (``"{store_url}"``, ``"https://{shop}.example.com"``):
    each connector instance fills them from its options, unless its settings give a base URL.
    """

    name: str
    kind: ConnectorKind
    description: str
    base_url: str
    auth: AuthStrategy
    streams: tuple[Stream, ...]
    headers: Mapping[str, str] = field(default_factory=dict)
    limits: Mapping[Operation, tuple[Window, ...]] = field(default_factory=dict)
    account_limits: tuple[Window, ...] = ()
    push: PushMap | None = None
    erase: EraseHook | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    rate_limit: str = ""
    shared_budget: tuple[float, float] | None = None
    deletions: str = ""
    """How the vendor reports deleted records (``ConnectorSpec.deletions``), or why it cannot."""
    reports_deletions: bool = False
    """Whether the connector's pulls return tombstones for deleted records (capability ``deletions``)."""
    refresh_lists: frozenset[str] = frozenset()
    """The object types a full refresh lists completely (``ConnectorSpec.refresh_lists``): a completed
    one retires the stored records of these types it did not list (core.refresh_sweep)."""

    def __post_init__(self) -> None:
        if not self.streams:
            raise ConnectorConfigError(f"{self.name}: a declaration needs at least one stream")
        names = [s.name for s in self.streams]
        types = [s.object_type for s in self.streams]
        if len(set(names)) != len(names) or len(set(types)) != len(types):
            raise ConnectorConfigError(
                f"{self.name}: stream names and object types must be unique (got {names}, {types})"
            )

    @property
    def capabilities(self) -> frozenset[Capability]:
        found: set[Capability] = {"pull"}
        if self.push is not None:
            found.add("push")
        if self.erase is not None:
            found.add("erase")
        if self.reports_deletions:
            found.add("deletions")
        return frozenset(found)

    def stream_for(self, object_type: str) -> Stream:
        """The stream whose records have this object type."""
        for stream in self.streams:
            if stream.object_type == object_type:
                return stream
        raise ConnectorConfigError(f"{self.name}: no stream yields object type {object_type!r}")

    def connector_spec(self) -> ConnectorSpec:
        """The ``core.connector.ConnectorSpec`` this declaration stands for."""
        return ConnectorSpec(
            name=self.name,
            kind=self.kind,
            description=self.description,
            default_base_url=self.base_url,
            credentials=self.auth.credentials,
            options=dict(self.options),
            capabilities=self.capabilities,
            page_size=max(s.page_size for s in self.streams),
            push_batch_size=self.push.batch_size if self.push is not None else 100,
            rate_limit=self.rate_limit,
            shared_budget=self.shared_budget,
            push_rules=self.push.rules() if self.push is not None else PushRules(),
            deletions=self.deletions,
            refresh_lists=frozenset(self.refresh_lists),
        )

    def instance_base_url(self, base_url: str | None, options: Mapping[str, str]) -> str:
        """The base URL of one connector instance: ``base_url`` if given, else the declared one with
        its ``{option}`` placeholders filled from ``options``."""
        if base_url:
            return base_url
        missing = [name for name in re.findall(r"{(\w+)}", self.base_url) if not options.get(name)]
        if missing:
            what = self.options.get(missing[0], "")
            raise ConnectorConfigError(
                f"{self.name}: set the option {missing[0]!r}"
                + (f" ({what})" if what else "")
                + " or give the connector a base URL"
            )
        return self.base_url.format_map(dict(options))


__all__ = [
    "ApiKeyAuth",
    "AuthStrategy",
    "BasicAuth",
    "BearerAuth",
    "BodyShape",
    "ClientCredentialsAuth",
    "ConsentMap",
    "EraseHook",
    "FieldMap",
    "Incremental",
    "JwtBearerAuth",
    "KeyPairAuth",
    "NextUrlPaging",
    "OffsetPaging",
    "Operation",
    "OrdersMap",
    "OverlapOffsetPaging",
    "Paging",
    "PushMap",
    "PushSend",
    "RestConnectorSpec",
    "Stream",
    "TokenPaging",
    "Window",
]
