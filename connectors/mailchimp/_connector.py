"""The Mailchimp connector: audience members in, enriched merge fields out, permanent delete.

Mailchimp Marketing API 3.0 (https://mailchimp.com/developer/marketing/api/). Every account lives in
one data center, named by the API key's suffix: key ``...-us21`` is served at
``https://us21.api.mailchimp.com/3.0``. Auth is HTTP Basic with any user name and the key as the
password. The only published limit is 10 simultaneous connections per API key, the 11th answered
with 429 (https://mailchimp.com/developer/marketing/docs/fundamentals/#api-limits); requests are
not otherwise counted, so the client holds a ``ConcurrencyLimiter`` and parallelises full refreshes.
"""

from __future__ import annotations

import math
import queue
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote

from connectors._http import (
    BasicAuthKey,
    ConcurrencyLimiter,
    ConnectorHttpClient,
    ConnectorRequestError,
    ConnectorUnavailableError,
    HttpClientConfig,
    PaginationError,
    RetryPolicy,
    build_client,
    resolve_secret,
    secret_env_var,
)
from connectors.cursor_tags import tag_key
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
from core.errors import ConnectorConfigError
from core.schema import Identifier, Profile, RecordDraft
from core.time_bound import TimeBound

from ._cursor import Step, WalkState, advance, format_time, parse_time
from ._mapping import (
    MEMBER_FIELDS,
    MERGE_FIELDS,
    OBJECT_TYPE,
    SOURCE,
    consent_from_status,
    former_key_tombstone,
    member_to_draft,
    plan_status,
    profile_to_payload,
    subscriber_hash,
)

CREDENTIAL: Final = "mailchimp_api_key"

#: ``count`` is at most 1000 on list endpoints (the spec's ``maximum``, and the reference page).
PAGE_SIZE: Final = 1000
#: "Up to 500 members may be added or updated with each API call" (batch subscribe reference).
BATCH_SIZE: Final = 500
#: Mailchimp's published concurrency limit per API key.
MAX_CONNECTIONS: Final = 10
#: A full refresh splits the audience into ``last_changed`` ranges walked in parallel, a multiple of
#: ``max_connections`` of them (equal ranges then finish together: no connection idles at the end),
#: each at most about this many pages (so read-ahead stays bounded; see ``_parallel_walks``).
RANGE_PAGES: Final = 10
#: A walk whose overlap check fails this many times in a row gives up (the block keeps moving).
_MAX_RESTARTS: Final = 20
#: The pages of a walk that also retires the records keyed by member id before (``WalkState``'s
#: ``retire_member_ids``): ``to_records`` adds each member's ``former_key_tombstone``.
RETIRING_PAGE: Final = f"{OBJECT_TYPE}+former-keys"

_DATA_CENTER = re.compile(r"^[a-z]{2,4}\d{1,3}$")
_PULL_FIELDS: Final = ",".join([*(f"members.{f}" for f in MEMBER_FIELDS), "total_items"])

SPEC = ConnectorSpec(
    name=SOURCE,
    kind="email",
    description=(
        "Mailchimp Marketing API 3.0: audience members with their subscription status; pushes the "
        "enriched traits as merge fields (batch subscribe) and erases with delete-permanent"
    ),
    default_base_url="https://<dc>.api.mailchimp.com/3.0 (dc from the API key's suffix)",
    credentials=(
        Credential(
            CREDENTIAL,
            "Mailchimp API key (Account > Extras > API keys); its suffix (-us21) names the data center",
        ),
    ),
    options={
        "list_id": "the audience (list) id, required: Audience > Settings > Audience name and defaults",
        "max_connections": (
            "simultaneous connections this run may open, 1-10 (default 10, Mailchimp's limit per key); "
            "give each of several parallel runs on one key a share"
        ),
        "retire_member_id_keys": (
            "true: a full refresh also retires the records an earlier version keyed by member id "
            "(mailchimp:member:<MD5 of the address>); the first pull from such a version's cursor does "
            "it anyway. For a deployment that lost its cursor or ran sync --full first after upgrading"
        ),
    },
    page_size=PAGE_SIZE,
    push_batch_size=BATCH_SIZE,
    rate_limit=(
        "10 simultaneous connections per API key, the 11th answered 429; no request-rate limit "
        "(https://mailchimp.com/developer/marketing/docs/fundamentals/#api-limits)"
    ),
    # An email-marketing audience bills per contact and mails its members: by default push only
    # updates members it holds, and creates (in upsert mode) only people who consented to email.
    push_rules=PushRules(mode="update", channel="email", holder_types=frozenset({OBJECT_TYPE})),
    capabilities=frozenset({"pull", "push", "erase", "deletions"}),
    deletions=(
        "an archived member (DELETE /lists/{id}/members/{hash}; listed with status 'archived', stamped "
        "last_changed) is a deletion, not a consent change: the business removed them from the audience "
        "and the person decided nothing (an unsubscribe is status 'unsubscribed'); the member leaves the "
        "profile, so an update-mode push no longer reaches them. A permanently deleted member is no longer "
        "listed at all (https://mailchimp.com/developer/marketing/api/list-members/archive-list-member/)"
    ),
)


def data_center(api_key: str) -> str:
    """The data center an API key belongs to (``abc123-us21`` -> ``us21``), or a config error."""
    _, sep, suffix = api_key.strip().rpartition("-")
    if not sep or not _DATA_CENTER.match(suffix):
        raise ConnectorConfigError(
            "mailchimp: the API key has no data-center suffix (a Mailchimp key ends in -us21 or "
            f"similar): set {secret_env_var(CREDENTIAL)} to the whole key as Mailchimp shows it"
        )
    return suffix


def _base_url(settings: ConnectorSettings, dc: str) -> str:
    base = (settings.base_url or f"https://{dc}.api.mailchimp.com").rstrip("/")
    return base if base.endswith("/3.0") else f"{base}/3.0"


def _max_connections(options: Mapping[str, str]) -> int:
    text = str(options.get("max_connections", "") or MAX_CONNECTIONS).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_CONNECTIONS:
        raise ConnectorConfigError(
            f"mailchimp: option max_connections must be a whole number from 1 to {MAX_CONNECTIONS}, "
            f"got {text!r}"
        )
    return int(text)


def _flag(options: Mapping[str, str], name: str) -> bool:
    text = str(options.get(name, "") or "false").strip().lower()
    if text not in ("true", "false"):
        raise ConnectorConfigError(f"mailchimp: option {name} must be true or false, got {text!r}")
    return text == "true"


class MailchimpConnector:
    """One Mailchimp audience. Thread-safe; close it (or use ``with``) to release its connections."""

    spec = SPEC

    def __init__(self, settings: ConnectorSettings) -> None:
        self._bound = TimeBound.from_now()  # set again at the start of every pull
        key = settings.credentials.get(CREDENTIAL) or resolve_secret(CREDENTIAL)
        dc = data_center(key)
        list_id = str(settings.options.get("list_id", "") or "").strip()
        if not list_id:
            raise ConnectorConfigError(
                "mailchimp: option list_id is not set: give the audience id (Audience > Settings > "
                "Audience name and defaults), e.g. --option list_id=a1b2c3d4e5 or "
                "PROFILESYNC_MAILCHIMP_LIST_ID"
            )
        self.list_id = list_id
        self.max_connections = _max_connections(settings.options)
        self.retire_member_id_keys = _flag(settings.options, "retire_member_id_keys")
        retry = settings.retry if isinstance(settings.retry, RetryPolicy) else RetryPolicy()
        self._client: ConnectorHttpClient = build_client(
            HttpClientConfig(
                connector=SOURCE,
                base_url=_base_url(settings, dc),
                auth=BasicAuthKey("profilesync", key),
                credential_name=CREDENTIAL,
                retry=retry,
                concurrency=ConcurrencyLimiter(self.max_connections),
            ),
            transport=settings.transport,
        )
        self._list_path = f"/lists/{quote(list_id, safe='')}"
        self.cursor_tag_key = tag_key(SOURCE, dc, list_id, revealed(key))
        """The key of this audience's cursor tags (connectors.cursor_tags): from the API key."""
        self._merge_lock = threading.Lock()
        self._merge_fields_ready = False

    # --- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def __enter__(self) -> MailchimpConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- HTTP helpers ------------------------------------------------------------------------------
    def _list_missing(self, error: ConnectorRequestError) -> ConnectorConfigError:
        return ConnectorConfigError(
            f"mailchimp: audience {self.list_id!r} was not found ({error.vendor_message or 'HTTP 404'}): "
            "set the list_id option to the audience id (Audience > Settings > Audience name and defaults)"
        )

    def _get(self, path: str, params: Mapping[str, Any], *, list_scoped: bool = True) -> dict[str, Any]:
        """GET a JSON object; a 404 on an audience-wide path means the audience does not exist."""
        try:
            body = self._client.get_json(path, params=params)
        except ConnectorRequestError as error:
            if error.status == 404 and list_scoped:
                raise self._list_missing(error) from None
            raise
        if not isinstance(body, dict):
            raise PaginationError(f"mailchimp: GET {path} answered {type(body).__name__}, not an object")
        return body

    # --- pull --------------------------------------------------------------------------------------
    def cursor_since(self, since: datetime) -> str:
        """A cursor that pulls every member changed at or after ``since`` (``sync --since``)."""
        return WalkState.since(since, self.cursor_tag_key).encode()

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        """Members page by page. ``None`` is a full refresh (parallel over ``last_changed`` ranges
        when the audience is large); a cursor continues the walk from its watermark."""
        # A member stamped far in the future is read as the start of this pull (core.time_bound): it
        # can carry no watermark past the pull, so the changes made after it are asked for next time.
        self._bound = TimeBound.from_now()
        if cursor is None:
            yield from self._full_refresh(retiring=self.retire_member_id_keys)
            return
        state = WalkState.decode(cursor, self.cursor_tag_key)
        if state.retire_member_ids and state.w is None and state.pos == 0:
            # The first pull from a cursor written where records were keyed by the member id
            # (_cursor's docstring): the whole audience, each member retiring its former key.
            yield from self._full_refresh(retiring=True)
            return
        yield from self._pages(self._walk(state, None), retiring=state.retire_member_ids)

    def _request(self, state: WalkState, upper: datetime | None) -> tuple[list[dict[str, Any]], bool, int]:
        """One page of the walk from ``state``: its members, whether the first is the overlap check,
        and ``total_items`` (-1 if absent)."""
        since, offset, verify = state.query()
        params: dict[str, Any] = {
            "count": PAGE_SIZE,
            "offset": offset,
            "sort_field": "last_changed",
            "sort_dir": "ASC",
            "fields": _PULL_FIELDS,
        }
        if since is not None:
            params["since_last_changed"] = since
        if upper is not None:
            params["before_last_changed"] = format_time(upper)
        body = self._get(f"{self._list_path}/members", params)
        members = body.get("members")
        if not isinstance(members, list):
            raise PaginationError(f"mailchimp: GET {self._list_path}/members answered no members list")
        total = body.get("total_items")
        total = total if isinstance(total, int) and not isinstance(total, bool) else -1
        return list(members), verify, total  # junk elements too: the mapping quarantines them

    def _fetch(self, state: WalkState, upper: datetime | None) -> Step:
        members, verify, total = self._request(state, upper)
        last = 0 <= total <= state.query()[1] + len(members)
        return advance(
            state, members, verify=verify, page_size=PAGE_SIZE, upper=upper, last=last, bound=self._bound
        )

    def _walk(self, state: WalkState, upper: datetime | None) -> Iterator[Step]:
        """Every step of one walk from ``state`` to the end (or to ``upper``)."""
        restarts = total = 0
        while True:
            step = self._fetch(state, upper)
            if step.restarted:
                restarts += 1
                total += 1
                # Consecutive restarts, and all of one walk: a block that shifts on every other read
                # (a member that changes each time it is read) must not loop forever either.
                if restarts > _MAX_RESTARTS or total > 10 * _MAX_RESTARTS:
                    raise PaginationError(
                        f"mailchimp: the members on {format_time(state.w) if state.w else 'the start'} "
                        f"kept changing while being read ({restarts} restarts); run the pull again"
                    )
            else:
                restarts = 0
            if step.done:
                # The next walk starts no later than this pull began (TimeBound.cap): a member stamped
                # hours ahead must not hide the changes made before its time.
                w = step.state.w
                if w is not None and self._bound.cap(w) != w:
                    # Mailchimp's times are whole seconds: the start, floored, repeats rather than skips.
                    start = self._bound.start.replace(microsecond=0)
                    step = replace(step, state=WalkState(start, key=self.cursor_tag_key))
                yield step
                return
            yield step
            state = step.state

    @staticmethod
    def _pages(steps: Iterator[Step], *, retiring: bool) -> Iterator[RawPage]:
        """RawPages for the steps that found members, then an empty page if the cursor moved on.

        ``retiring``: the walk also retires the member-id keys (``RETIRING_PAGE``); its cursors say so
        until the last, which is written once every page before it is durable."""
        last: str | None = None
        final: WalkState | None = None
        object_type = RETIRING_PAGE if retiring else OBJECT_TYPE
        for step in steps:
            final = step.state
            if step.emit:
                last = replace(step.state, retire_member_ids=retiring).encode()
                yield RawPage(step.emit, last, object_type)
        assert final is not None  # a walk makes at least one step
        done = replace(final, retire_member_ids=False).encode()
        if last != done:
            yield RawPage([], done, object_type)

    def _probe(self, offset: int, sort_dir: str = "ASC") -> tuple[datetime | None, int]:
        body = self._get(
            f"{self._list_path}/members",
            {
                "count": 1,
                "offset": offset,
                "sort_field": "last_changed",
                "sort_dir": sort_dir,
                "fields": "members.last_changed,total_items",
            },
        )
        members = body.get("members")
        first = members[0] if isinstance(members, list) and members else {}
        total = body.get("total_items")
        return (
            parse_time(first.get("last_changed")) if isinstance(first, dict) else None,
            total if isinstance(total, int) else 0,
        )

    def _full_refresh(self, *, retiring: bool) -> Iterator[RawPage]:
        # A one-member probe says how large the audience is (total_items) before anything is read.
        _, total = self._probe(0)
        pages = math.ceil(total / PAGE_SIZE)
        per_round = self.max_connections * RANGE_PAGES
        ranges = min(pages, self.max_connections * math.ceil(pages / per_round))
        if ranges < 2 or self.max_connections == 1:
            yield from self._pages(self._walk(WalkState(key=self.cursor_tag_key), None), retiring=retiring)
            return
        # Range bounds are the last_changed values at evenly spaced offsets. They only balance the
        # work: each range is walked by watermark, so bounds that moved since cannot lose a member.
        offsets = [k * total // ranges for k in range(1, ranges)]
        with ThreadPoolExecutor(self.max_connections, thread_name_prefix="mailchimp-probe") as pool:
            probed = list(pool.map(self._probe, offsets))
        bounds = sorted({self._bound.clamp(at).replace(microsecond=0) for at, _ in probed if at is not None})
        lowers: list[datetime | None] = [None, *bounds]
        uppers: list[datetime | None] = [*bounds, None]
        yield from self._pages(self._parallel_walks(lowers, uppers), retiring=retiring)

    def _parallel_walks(self, lowers: list[datetime | None], uppers: list[datetime | None]) -> Iterator[Step]:
        """The steps of every range's walk, range after range, while up to ``max_connections`` ranges
        are read ahead in parallel. Range ``i``'s states are valid cursors once ranges before it are
        done: everything older than its watermark has been read."""
        count = len(lowers)
        outboxes: list[queue.SimpleQueue[tuple[str, Any]]] = [queue.SimpleQueue() for _ in range(count)]
        stop = threading.Event()

        def run(index: int) -> None:
            try:
                for step in self._walk(WalkState(lowers[index], key=self.cursor_tag_key), uppers[index]):
                    if stop.is_set():
                        return
                    outboxes[index].put(("step", step))
                outboxes[index].put(("end", None))
            except BaseException as exc:  # handed to the consumer, which re-raises it
                outboxes[index].put(("error", exc))

        # Ranges are queued up to ``window`` ahead of the one being consumed: the pool runs
        # ``max_connections`` of them at once, and read-ahead stays bounded (window x RANGE_PAGES).
        window = 2 * self.max_connections
        pool = ThreadPoolExecutor(self.max_connections, thread_name_prefix="mailchimp-pull")
        started = 0
        try:
            for _ in range(min(count, window)):
                pool.submit(run, started)
                started += 1
            for index in range(count):
                while True:
                    kind, item = outboxes[index].get()
                    if kind == "error":
                        raise item
                    if kind == "end":
                        break
                    yield item
                if started < count:
                    pool.submit(run, started)
                    started += 1
        finally:
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        """Map a page of members to drafts (pure; bad values are left to ``normalise_record``); a
        page of a walk that retires the member-id keys also carries each member's tombstone there."""
        drafts = [member_to_draft(member) for member in page.records]
        if page.object_type == RETIRING_PAGE:
            drafts += [t for t in map(former_key_tombstone, page.records) if t is not None]
        return drafts

    # --- push --------------------------------------------------------------------------------------
    def from_profile(self, profile: Profile) -> Payload | None:
        """The member to send for a profile (see ``plan_status``), or None."""
        return profile_to_payload(profile)

    def ensure_merge_fields(self) -> list[str]:
        """Create the merge fields push needs that the audience lacks; once per instance. Returns the
        tags created."""
        with self._merge_lock:
            if self._merge_fields_ready:
                return []
            body = self._get(
                f"{self._list_path}/merge-fields",
                {"count": PAGE_SIZE, "fields": "merge_fields.tag,total_items"},
            )
            found = body.get("merge_fields")
            have = {f.get("tag") for f in found if isinstance(f, dict)} if isinstance(found, list) else set()
            created: list[str] = []
            for field in MERGE_FIELDS:
                if field.tag in have:
                    continue
                try:
                    self._client.post_json(
                        f"{self._list_path}/merge-fields",
                        json={
                            "tag": field.tag,
                            "name": field.name,
                            "type": field.type,
                            "required": False,
                            "public": False,
                        },
                    )
                except ConnectorRequestError as error:
                    # Another run created it between our read and our write.
                    if error.status == 400 and "already exists" in error.vendor_message:
                        continue
                    if error.status == 404:
                        raise self._list_missing(error) from None
                    raise
                created.append(field.tag)
            self._merge_fields_ready = True
            return created

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        """Send up to 500 members through batch subscribe; one outcome per payload, in order.

        Members planned with ``update_existing: false`` (people Mailchimp did not hold at the last
        pull) and the others go in one call each. Those that exist after all (ERROR_CONTACT_EXISTS)
        or that Mailchimp will not re-subscribe (compliance state) get their status looked up and are
        sent once more with a status that keeps it; every other per-member error is reported with
        Mailchimp's message and is not retryable (the data must change first).
        """
        if len(payloads) > BATCH_SIZE:
            raise ValueError(
                f"mailchimp: push takes at most {BATCH_SIZE} payloads per call, got {len(payloads)}"
            )
        if not payloads:
            return []
        self.ensure_merge_fields()
        outcomes: list[PushOutcome | None] = [None] * len(payloads)
        members = {i: dict(p.body["member"]) for i, p in enumerate(payloads)}
        recheck: list[int] = []
        for update_existing in (True, False):
            group = [
                i for i, p in enumerate(payloads) if bool(p.body.get("update_existing")) is update_existing
            ]
            if group:
                self._send(payloads, members, group, update_existing, outcomes, recheck)
        if recheck:
            self._recheck(payloads, members, recheck, outcomes)
        return [o if o is not None else self._unanswered(payloads[i]) for i, o in enumerate(outcomes)]

    @staticmethod
    def _unanswered(payload: Payload) -> PushOutcome:
        return PushOutcome(
            payload.customer_id, False, error="mailchimp: no answer for this member", retryable=True
        )

    def _send(
        self,
        payloads: Sequence[Payload],
        members: Mapping[int, dict[str, Any]],
        group: list[int],
        update_existing: bool,
        outcomes: list[PushOutcome | None],
        recheck: list[int] | None,
    ) -> None:
        try:
            # Upserting the same members twice leaves the same state, so retries are safe.
            body = self._client.post_json(
                self._list_path,
                json={"members": [members[i] for i in group], "update_existing": update_existing},
                idempotent=True,
            )
        except ConnectorUnavailableError as error:
            for i in group:
                outcomes[i] = PushOutcome(payloads[i].customer_id, False, error=str(error), retryable=True)
            return
        except ConnectorRequestError as error:
            if error.status == 404:
                raise self._list_missing(error) from None
            for i in group:
                outcomes[i] = PushOutcome(payloads[i].customer_id, False, error=str(error), retryable=False)
            return
        errors: dict[str, dict[str, Any]] = {}
        raw_errors = body.get("errors") if isinstance(body, dict) else None
        for entry in raw_errors if isinstance(raw_errors, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("email_address"), str):
                errors[entry["email_address"].strip().lower()] = entry
        for i in group:
            email = str(members[i].get("email_address", ""))
            entry = errors.get(email.strip().lower())
            if entry is None:
                outcomes[i] = PushOutcome(payloads[i].customer_id, True, remote_id=subscriber_hash(email))
            elif recheck is not None and _needs_status(entry, update_existing, members[i]):
                recheck.append(i)
            else:
                outcomes[i] = PushOutcome(
                    payloads[i].customer_id, False, error=_describe(entry), retryable=False
                )

    def _member_status(self, email: str) -> str | None:
        try:
            body = self._get(
                f"{self._list_path}/members/{subscriber_hash(email)}", {"fields": "status"}, list_scoped=False
            )
        except ConnectorRequestError as error:
            if error.status == 404:
                return None
            raise
        status = body.get("status")
        return status if isinstance(status, str) else None

    def _recheck(
        self,
        payloads: Sequence[Payload],
        members: Mapping[int, dict[str, Any]],
        indexes: list[int],
        outcomes: list[PushOutcome | None],
    ) -> None:
        with ThreadPoolExecutor(self.max_connections, thread_name_prefix="mailchimp-status") as pool:
            statuses = list(
                pool.map(lambda i: self._member_status(str(members[i]["email_address"])), indexes)
            )
        resend: dict[int, dict[str, Any]] = {}
        for i, status in zip(indexes, statuses, strict=True):
            email = str(members[i]["email_address"])
            if status is None:
                outcomes[i] = PushOutcome(
                    payloads[i].customer_id,
                    False,
                    error="mailchimp: the member changed while being pushed (exists, then not found)",
                    retryable=True,
                )
                continue
            plan = plan_status(consent_from_status(str(members[i]["status"])), status)
            if plan is None:  # e.g. pending with no consent decision: nothing to tell Mailchimp
                outcomes[i] = PushOutcome(payloads[i].customer_id, True, remote_id=subscriber_hash(email))
                continue
            resend[i] = {**members[i], "status": plan.status}
        if resend:
            self._send(payloads, resend, list(resend), True, outcomes, None)

    # --- erase -------------------------------------------------------------------------------------
    def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
        """Permanently delete members (GDPR): ``POST .../members/{hash}/actions/delete-permanent``.

        Members are found by their ``mailchimp:member:<id>`` source identifier (the record's contact
        id, or the member id a push answered or a record was keyed by before: the path takes either)
        or by email (its subscriber hash); a 404 there, in an audience that exists, confirms the
        member is gone. A phone number cannot address a member. A deleted address cannot be
        re-imported by API.
        """
        outcomes: list[EraseOutcome] = []
        prefix = f"{SOURCE}:{OBJECT_TYPE}:"
        for identifier in identifiers:
            if identifier.kind == "email":
                member_id = subscriber_hash(identifier.value)
            elif identifier.kind == "source" and identifier.value.startswith(prefix):
                member_id = identifier.value[len(prefix) :]
            else:
                outcomes.append(
                    EraseOutcome(
                        identifier, False, "Mailchimp finds members by email address or member id only"
                    )
                )
                continue
            try:
                self._client.request(
                    "POST",
                    f"{self._list_path}/members/{quote(member_id, safe='')}/actions/delete-permanent",
                    idempotent=True,
                )
            except ConnectorRequestError as error:
                if error.status != 404:
                    raise
                self._check_list()
                outcomes.append(EraseOutcome(identifier, False, "not in the audience", absent=True))
                continue
            outcomes.append(EraseOutcome(identifier, True, f"member {member_id} permanently deleted"))
        return outcomes

    def pushed_identifier(self, remote_id: str) -> Identifier | None:
        """The member a push added or updated: the push's remote id is its subscriber hash."""
        return Identifier(kind="source", value=f"{SOURCE}:{OBJECT_TYPE}:{remote_id}") if remote_id else None

    def _check_list(self) -> None:
        """Raise a config error if the audience itself does not exist (a 404 is then not 'absent')."""
        self._get(self._list_path, {"fields": "id"})


def _needs_status(entry: Mapping[str, Any], update_existing: bool, member: Mapping[str, Any]) -> bool:
    """Whether a per-member error means "look the status up and send again"."""
    if not update_existing:
        return entry.get("error_code") == "ERROR_CONTACT_EXISTS"
    message = str(entry.get("error", "")).lower()
    return member.get("status") == "subscribed" and "compliance state" in message


def _describe(entry: Mapping[str, Any]) -> str:
    message = str(entry.get("error") or "rejected").strip()
    field, field_message = entry.get("field"), entry.get("field_message")
    if isinstance(field, str) and field:
        message += f" ({field}: {field_message or 'invalid'})"
    code = entry.get("error_code")
    return f"mailchimp: {message}" + (f" [{code}]" if isinstance(code, str) and code else "")


def build(settings: ConnectorSettings) -> MailchimpConnector:
    """Build a connector from resolved settings (see ``SPEC`` for the credential and options)."""
    return MailchimpConnector(settings)


__all__ = ["BATCH_SIZE", "CREDENTIAL", "PAGE_SIZE", "SPEC", "MailchimpConnector", "build", "data_center"]
