"""``RestConnector``: the ``core.connector.Connector`` a ``RestConnectorSpec`` describes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from connectors._http import (
    ConnectorHttpClient,
    HttpClientConfig,
    RateLimiter,
    RetryPolicy,
    SlidingWindowLimiter,
    build_client,
    paginate,
    resolve_secret,
    value_at,
)
from connectors.cursor_seconds import dated
from connectors.cursor_tags import id_tag, tag_key, version_tag
from connectors.secrets import revealed
from connectors.tool_clock import answered_at, on_tool_clock
from core.connector import (
    ConnectorPlugin,
    ConnectorSettings,
    ConnectorSpec,
    EraseOutcome,
    Payload,
    PushOutcome,
    RawPage,
)
from core.errors import ConnectorConfigError
from core.normalise import datable
from core.schema import Identifier, Profile, RecordDraft
from core.time_bound import TimeBound, utc_now

from ._cursor import PullCursor, StreamState, accept, format_point, parse_point
from ._declaration import Incremental, Operation, RestConnectorSpec, Stream, Window
from ._mapping import profile_to_payload, record_to_draft


@dataclass(frozen=True)
class RestContext:
    """What a push or erase hook works with: the declaration, the settings, and one HTTP client per
    operation (each paced by that operation's declared limits)."""

    declaration: RestConnectorSpec
    settings: ConnectorSettings
    clients: dict[Operation, ConnectorHttpClient]
    retry: RetryPolicy

    def client(self, operation: Operation) -> ConnectorHttpClient:
        return self.clients[operation]


def vendor_time(headers: Mapping[str, str]) -> datetime:
    """When the vendor answered, by its own clock (the ``Date`` header, RFC 9110:
    ``connectors.tool_clock.answered_at``); this machine's clock, to the second, when the header is
    missing or unreadable."""
    return answered_at(headers) or utc_now().replace(microsecond=0)


def _windows(windows: tuple[Window, ...]) -> tuple[RateLimiter, ...]:
    # One request short of each published window: the vendor counts requests of other processes on
    # the same account too, and its window edges never line up exactly with ours.
    return tuple(SlidingWindowLimiter(max(1, w.requests - 1), w.seconds) for w in windows)


class RestConnector:
    """A connector driven by its declaration. Close it (or use ``with``) to release its connections."""

    versioned_tags: bool = True
    """Whether the cursor keeps a tag of each record's id with its content (``version_tag``), so a
    record changed again on its watermark second is pulled; False keeps the id alone (``id_tag``),
    for a vendor whose records never change under one id (Stripe's events)."""

    def __init__(self, declaration: RestConnectorSpec, settings: ConnectorSettings) -> None:
        self.declaration = declaration
        self.spec: ConnectorSpec = declaration.connector_spec()
        self.answered: datetime | None = None
        """When the tool answered with the page ``walk`` yielded last, by its own clock (its ``Date``:
        ``RawPage.read``); ``pull`` takes it with each page, so a ``walk`` that does not set it
        leaves the page's time to ours."""
        credential = declaration.auth.credential.name
        secrets = {
            c.name: settings.credentials.get(c.name) or resolve_secret(c.name)
            for c in declaration.auth.credentials
        }
        retry = settings.retry if isinstance(settings.retry, RetryPolicy) else RetryPolicy()
        base_url = declaration.instance_base_url(settings.base_url, settings.options).rstrip("/")
        base = HttpClientConfig(
            connector=declaration.name,
            base_url=base_url,
            # One auth for every operation's client: an OAuth token is fetched once and shared.
            auth=declaration.auth.build_for(secrets, base_url, declaration.name),
            credential_name=credential,
            retry=retry,
            headers=dict(declaration.headers),
        )
        operations: tuple[Operation, ...] = ("pull", "push", "erase")
        # Account-wide windows are one limiter shared by every operation's client; the settings'
        # limiters (the shared budget in DynamoDB, in Lambda) likewise.
        shared = (*_windows(declaration.account_limits), *settings.limiters)
        clients = {
            op: build_client(
                replace(base, limiters=(*_windows(declaration.limits.get(op, ())), *shared)),
                settings.transport,
            )
            for op in operations
        }
        self.context = RestContext(declaration, settings, clients, retry)
        self.cursor_tag_key = tag_key(
            declaration.name, base_url, *(revealed(secrets[name]) for name in sorted(secrets))
        )
        """The key of this instance's cursor tags (connectors.cursor_tags): from its credentials."""

    # --- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Close every HTTP client."""
        for client in self.context.clients.values():
            client.close()

    def __enter__(self) -> RestConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- pull --------------------------------------------------------------------------------------
    def cursor_since(self, since: datetime) -> str:
        """A cursor whose next pull returns every record modified at or after ``since``."""
        start = parse_point(since.isoformat())
        return PullCursor({s.name: StreamState(since=start) for s in self.declaration.streams}).encode()

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        """Walk every stream in order from ``cursor`` (None: everything), one RawPage per vendor page.

        Every page carries the cursor to resume after it; a stream with nothing new still yields one
        empty page carrying the cursor.
        """
        state = PullCursor.decode(cursor, self.declaration.name, self.cursor_tag_key)
        streams = self.declaration.streams
        names = [s.name for s in streams]
        if state.active is not None and state.active not in names:
            raise ConnectorConfigError(
                f"{self.declaration.name}: the cursor names a stream {state.active!r} this connector "
                "does not have; pull with no cursor for a full refresh"
            )
        first = names.index(state.active) if state.active is not None else 0
        for index in range(first, len(streams)):
            following = names[index + 1] if index + 1 < len(streams) else None
            for records, stream_state, done in self.walk(streams[index], state.state(names[index])):
                streams_now = {**state.streams, names[index]: stream_state}
                state = PullCursor(streams_now, following if done else names[index])
                read, self.answered = self.answered, None
                object_type = streams[index].object_type
                yield RawPage(records=records, cursor=state.encode(), object_type=object_type, read=read)

    def walk(
        self, stream: Stream, state: StreamState
    ) -> Iterator[tuple[list[dict[str, Any]], StreamState, bool]]:
        """Read one stream from ``state``: for each vendor page, the records not returned before, the
        state after them (with the token of the next page) and whether the walk is done.

        The extension point for a vendor whose pages are not one GET with paging in the body
        (Salesforce: a Bulk API job for a large first pull); ``accept`` keeps the cursor rules.
        """
        params: dict[str, Any] = dict(stream.params)
        if stream.page_size_param:
            params[stream.page_size_param] = stream.page_size
        incremental = stream.incremental
        if incremental is not None and state.since is not None:
            bound = state.since - incremental.resolution if incremental.strict else state.since
            text = format_point(bound, incremental.time_format)
            params.update({k: v.replace("{since}", text) for k, v in incremental.since_params.items()})
        paginator = stream.paging.paginator(state.page, stream.page_size, stream.page_size_param)
        # A record stamped far in the future is read as the start of this walk, and the walk hands on
        # a watermark no later than its start, nor than the tool's clock when it first answered
        # (connectors.tool_clock), less CLOCK_SKEW: the changes made after it are asked for next
        # time, even by a tool whose clock runs behind ours.
        time_bound = TimeBound.from_now()
        key_point = self._key_point(stream, time_bound)
        unordered = incremental is not None and not incremental.ordered
        for page in paginate(
            self.context.client("pull"),
            "GET",
            stream.path,
            paginator,
            params=params,
            records_path=stream.records_path,
        ):
            time_bound = on_tool_clock(time_bound, page.headers, self.declaration.name)
            self.answered = answered_at(page.headers)  # (RawPage.read: a record stamped ahead)
            if unordered and state.started is None:
                state = replace(state, started=vendor_time(page.headers))
            records, state = accept(state, page.records, key_point, time_bound.handoff)
            if page.has_next:
                yield records, replace(state, page=str(page.checkpoint)), False
            else:
                yield records, state.finished(time_bound.handoff), True

    def _key_point(
        self, stream: Stream, bound: TimeBound | None = None
    ) -> Callable[[Any], tuple[str, datetime | None]]:
        """A record's key, as the tag the cursor keeps of its version (connectors.cursor_tags
        ``version_tag``: its id with its content, or its id alone without ``versioned_tags``), and its
        modification time; a time more than a day ahead of ``bound``'s start (default: now, when the
        walk begins) is read as that start (``core.time_bound``)."""
        incremental = stream.incremental
        bound = bound or TimeBound.from_now()
        tag_of, versioned = self.cursor_tag_key, self.versioned_tags

        def key_point(record: Any) -> tuple[str, datetime | None]:
            record_id = str(value_at(record, stream.primary_key) or "")
            if versioned:
                key = version_tag(tag_of, record_id, self.version_content(record))
            else:
                key = id_tag(tag_of, record_id)
            return key, _point(incremental, record, bound)

        return key_point

    def version_content(self, record: Any) -> Any:
        """What of a record says which version it is (``version_tag`` digests it): the record as the
        vendor sent it. A vendor read through two APIs that spell one version differently (Salesforce:
        Bulk CSV, REST JSON) overrides this with the parts they share, or a version read through one
        comes back once through the other (a repeat, never a loss)."""
        return record

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        """Map a page's records with the field mapping of the stream that yielded it (a record the
        cursor marked dated after the versions delivered on its second: connectors.cursor_seconds)."""
        stream = self.declaration.stream_for(page.object_type)
        return dated([record_to_draft(self.declaration.name, stream, r) for r in page.records], page.records)

    # --- push and erase ----------------------------------------------------------------------------
    def from_profile(self, profile: Profile) -> Payload | None:
        """The declared push mapping applied to ``profile`` (None when this tool is not told)."""
        push = self.declaration.push
        if push is None:
            return None
        return profile_to_payload(self.declaration.name, push, profile)

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        """Send one batch through the declaration's ``send`` hook: one outcome per payload, in order."""
        push = self.declaration.push
        if push is None:
            raise ConnectorConfigError(f"{self.declaration.name} does not push")
        if not payloads:
            return []
        return push.send(self.context, payloads)

    def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
        """Erase people through the declaration's ``erase`` hook."""
        if self.declaration.erase is None:
            raise ConnectorConfigError(f"{self.declaration.name} cannot erase")
        return self.declaration.erase(self.context, identifiers)


def _point(incremental: Incremental | None, record: Any, bound: TimeBound) -> datetime | None:
    """A record's modification time, read as ``bound``'s start when too far ahead; None without one."""
    if incremental is None:
        return None
    value = value_at(record, incremental.cursor_field)
    if value in (None, "") and incremental.fallback_field:
        value = value_at(record, incremental.fallback_field)
    point = parse_point(value, incremental.time_format)
    # (a time normalisation refuses, 0001-01-01 or 2200, is none: the record is undated, StreamState)
    point = None if point is None else datable(point)
    return None if point is None else bound.clamp(point)


def declare_plugin(
    declaration: RestConnectorSpec, sandbox: Callable[..., Any] | None = None
) -> ConnectorPlugin:
    """The ``ConnectorPlugin`` to register (entry point group ``profilesync.connectors``)."""

    def build(settings: ConnectorSettings) -> RestConnector:
        return RestConnector(declaration, settings)

    return ConnectorPlugin(spec=declaration.connector_spec(), build=build, sandbox=sandbox)


__all__ = ["RestConnector", "RestContext", "declare_plugin", "vendor_time"]
