"""The connector interface: what a connector implements and what the sync engine calls.

A connector is five small operations over one vendor API (see DESIGN.md, "Connectors")::

    pull(cursor)          -> RawPage...     the vendor's objects, page by page, each with a resume cursor
    to_records(page)      -> RecordDraft[]  one per element, mapped to canonical names (values still raw)
    from_profile(profile) -> Payload | None what this tool should hold for a merged profile
    push(payloads)        -> PushOutcome[]  batched upserts, one outcome per payload
    erase(identifiers)    -> EraseOutcome[] delete a person from the tool (GDPR)

Cursors are opaque strings the connector alone reads. ``pull(None)`` is a full refresh; ``pull(c)``
returns what changed since ``c``. Every page carries the cursor to resume from once the page's records
are durable, so a pull cut short resumes where it stopped and the last page's cursor starts the next
incremental run. Nothing here imports httpx: a connector's HTTP transport is passed through as ``Any``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from core.schema import Identifier, Profile, RecordDraft

ConnectorKind = Literal["crm", "email", "ecommerce", "file", "other"]
Capability = Literal["pull", "push", "erase", "deletions"]
"""``deletions``: an incremental pull also returns tombstones (``RecordDraft.deleted``) for the records
deleted at the vendor since the cursor, which are retired from their profiles (core.retirement)."""
PushMode = Literal["update", "upsert"]
"""``update``: push only to people the tool already holds. ``upsert``: also create the missing ones
(each only if their consent allows the channel the tool serves; see ``PushRules``)."""
PUSH_MODES: tuple[PushMode, ...] = ("update", "upsert")


@dataclass(frozen=True, slots=True)
class PushRules:
    """Who a destination may create, declared per connector (``ConnectorSpec.push_rules``).

    ``mode`` is the default of an instance (``ConnectorSettings.push_mode`` overrides it).
    ``channel`` is the consent channel the tool serves (``"email"`` for an email-marketing tool):
    a person is created there only when their consent for it is granted; None means creating a
    record there sends the person nothing (a CRM contact, a billing customer), so no consent is
    asked. ``holder_types`` are the object types of this tool's records that stand for a person it
    holds (a Shopify ``customer``, not an ``order``); empty means any record of the tool. ``modes``
    are the modes the connector can push in (one that can only update people declares ``{"update"}``).
    """

    mode: PushMode = "upsert"
    channel: str | None = None
    holder_types: frozenset[str] = frozenset()
    modes: frozenset[PushMode] = frozenset(PUSH_MODES)


@dataclass(frozen=True, slots=True)
class Credential:
    """A secret a connector needs. ``name`` is given to ``resolve_secret`` (env ``PROFILESYNC_<NAME>``)."""

    name: str
    description: str


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """What a connector is, declared as data: shown by ``profilesync connectors list --verbose``."""

    name: str
    kind: ConnectorKind
    description: str
    default_base_url: str
    credentials: tuple[Credential, ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)
    """Non-secret settings the connector accepts (name -> description), e.g. Mailchimp's ``list_id``."""
    capabilities: frozenset[Capability] = frozenset({"pull", "push", "erase"})
    page_size: int = 100
    """The largest page the vendor serves; pulls always ask for it."""
    push_batch_size: int = 100
    """The most records one push request may carry (the vendor's batch limit)."""
    rate_limit: str = ""
    shared_budget: tuple[float, float] | None = None
    """The vendor's per-account limit as (tokens per second, bucket size), which concurrent runs
    share; None when the vendor limits something else (Mailchimp: concurrent connections only)."""
    """The vendor's published limit, in words, with where it comes from."""
    push_rules: PushRules = PushRules()
    """The default push mode, the consent channel creation needs, and which records mean "held"."""
    deletions: str = ""
    """How the vendor reports records deleted there (with capability ``deletions``), or why a pull
    cannot see them; in words, with where it comes from (``connectors list --verbose``)."""
    refresh_lists: frozenset[str] = frozenset()
    """The object types a full refresh (``pull(None)``) lists completely, every record the vendor
    holds: a refresh that completes retires the stored records of these types it did not list
    (core.refresh_sweep). Empty (the default): a full refresh retires nothing it did not list."""
    refresh_unswept: tuple[tuple[str, str], ...] = ()
    """``(object type, why)`` for the types a full refresh cannot list completely, so never sweeps
    (Shopify's orders without ``read_all_orders``): each run's sweep report says so (``not_swept``).
    Words only; empty (the default) says nothing."""
    stored_id: Callable[[str, str], str] | None = None
    """``(object type, id) -> id``: a record id as the stores keep it, for an id as the vendor also
    writes it (Shopify: ``gid://shopify/Customer/123`` -> ``123``). A privacy request naming a record
    by the vendor's other spelling then finds it (core.privacy_request.as_stored). None: ids are
    kept as the vendor writes them."""


@dataclass(frozen=True, slots=True)
class ConnectorSettings:
    """How to build one connector instance: already-resolved secrets, base URL, options, transport.

    ``transport`` is an ``httpx.BaseTransport`` (a sandbox's MockTransport in tests), or None for the
    network. ``credentials`` maps each ``Credential.name`` of the spec to its value.
    """

    credentials: Mapping[str, str] = field(default_factory=dict)
    base_url: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    transport: Any = None
    retry: Any = None
    limiters: tuple[Any, ...] = ()
    """Rate limiters shared with other runs on the same vendor account (in Lambda, a token bucket in
    DynamoDB sized from ``ConnectorSpec.shared_budget``); the connector adds them to its own."""
    """A ``connectors._http.RetryPolicy`` to use instead of the connector's default (tests pass one
    with an injected sleep); None keeps the default."""
    push_mode: PushMode | None = None
    """This instance's push mode; None keeps the connector's default (``spec.push_rules.mode``)."""


@dataclass(frozen=True, slots=True)
class RawPage:
    """One page of the vendor's objects as received, and where to resume once they are durable."""

    records: list[dict[str, Any]]
    """The vendor's objects as received. An element may be junk (a string or a null where an object
    should be): ``to_records`` maps it to ``RecordDraft.not_an_object``, one draft per element."""
    cursor: str | None
    """Pass to ``pull`` to resume after this page; None only when the connector keeps no cursor."""
    object_type: str = "contact"
    read: datetime | None = None
    """When the tool answered with this page, by its own clock (its ``Date`` header, aware UTC), when
    the connector read it; None: unknown. A record stamped far ahead is ordered just before the
    second it was read in (``core.time_bound.read_before``), and by this clock when it is behind
    ours (``core.normalise.read_on_tool_clock``): a correction the tool stamps after the read then
    wins, however far behind ours its clock runs."""


@dataclass(frozen=True, slots=True)
class Payload:
    """What one destination should hold for one profile. ``match_key`` is what the vendor upserts on
    (an email); ``body`` is the vendor-shaped request fragment for this person."""

    customer_id: str
    match_key: str
    body: Mapping[str, Any]
    group: str = ""
    """Payloads of different groups never share a push request (Mailchimp: members to update and
    people to add go in separate batch calls, since ``update_existing`` is set per call)."""
    remote_id: str | None = None
    """The tool's id for this person when known: set by ``from_profile`` from the profile's records
    of the tool, else by ``push_profiles`` from the last push there. A connector updates by it and
    never creates someone it has an id for. Not part of ``hash``."""

    @property
    def hash(self) -> str:
        """Content hash of what would be sent: a push is skipped when it equals the last one pushed."""
        text = json.dumps({"k": self.match_key, "b": self.body}, sort_keys=True, default=str)
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """The result of pushing one payload. A failure says why and whether trying again can succeed."""

    customer_id: str
    ok: bool
    remote_id: str | None = None
    error: str | None = None
    retryable: bool = False
    refused: bool = False
    """The tool refuses the payload's ``match_key`` for good (Mailchimp: an address with UTF-8 in
    its prefix): ``push_profiles`` reports it once and sends the person again only when her match
    key changes (``core.push_policy.refusal``)."""


@dataclass(frozen=True, slots=True)
class EraseOutcome:
    """The result of erasing one identifier from a tool.

    ``found``: the tool held a record under it and erased it (or accepted the request to).
    ``absent``: it did not, and the tool itself confirmed that no record exists under this identifier
    (a 404 for the exact id), so nothing is left to erase. An outcome with neither (an identifier
    the tool cannot look up, a search that found nothing) says nothing about what the tool holds:
    for a record we hold of the person, erasure counts it as a failure (core.tool_erasure).
    """

    identifier: Identifier
    found: bool
    detail: str = ""
    absent: bool = False


@runtime_checkable
class Connector(Protocol):
    """One connected tool. Instances hold an HTTP client: call ``close`` (or use ``with``) when done."""

    spec: ConnectorSpec

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]: ...

    def to_records(self, page: RawPage) -> list[RecordDraft]: ...

    def from_profile(self, profile: Profile) -> Payload | None: ...

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]: ...

    def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]: ...

    def close(self) -> None: ...


@runtime_checkable
class StartsFromDate(Protocol):
    """Optional: a connector that can begin an incremental pull at a date (``sync --since``)."""

    def cursor_since(self, since: datetime) -> str: ...


@dataclass(frozen=True, slots=True)
class ConnectorPlugin:
    """What a connector package registers (entry point group ``profilesync.connectors``).

    ``build`` makes a connector from settings; ``sandbox`` makes its fake vendor API
    (``sandbox(people=N, seed=S, token=T)``), used by the demo, the contract tests and the CLI.
    """

    spec: ConnectorSpec
    build: Callable[[ConnectorSettings], Connector]
    sandbox: Callable[..., Any] | None = None


def lazy_factory(module: str, attribute: str) -> Callable[..., Any]:
    """A callable that imports ``module`` and calls its ``attribute`` when first called.

    For ``ConnectorPlugin.sandbox``: a connector's sandbox (and the test population it seeds from) is
    imported only when someone builds a sandbox, so a connector imports without it. The Lambda bundle
    leaves sandboxes out (scripts/build_lambda.py)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        target: Callable[..., Any] = getattr(importlib.import_module(module), attribute)
        return target(*args, **kwargs)

    call.__name__ = attribute
    call.__qualname__ = f"lazy_factory({module}:{attribute})"
    return call


def lazy_exports(package: str, module: str, names: frozenset[str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) that imports ``names`` from ``package + module`` on first
    access: a connector package re-exports its sandbox's names without importing it up front."""

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook's own name
        if name in names:
            return getattr(importlib.import_module(module, package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


__all__ = [
    "PUSH_MODES",
    "Capability",
    "Connector",
    "ConnectorKind",
    "ConnectorPlugin",
    "ConnectorSettings",
    "ConnectorSpec",
    "Credential",
    "EraseOutcome",
    "Payload",
    "PushMode",
    "PushOutcome",
    "PushRules",
    "RawPage",
    "StartsFromDate",
    "lazy_exports",
    "lazy_factory",
]
