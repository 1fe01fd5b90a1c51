"""The HubSpot CRM v3 contacts connector: pull, push, erase, built on the shared HTTP kit.

Vendor facts it relies on (each checked against HubSpot's documentation):

* Private apps authenticate with ``Authorization: Bearer <token>``
  (https://developers.hubspot.com/docs/api/private-apps).
* Rate limits for private apps, per app: 100 requests per 10 seconds on Free and Starter, 190 on
  Professional and Enterprise, 250 with the API limit increase
  (https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines). The CRM search
  endpoints are exempt from that limit and have their own: five requests per second per account, 200
  records per page, 10,000 results per query, and no rate-limit headers in their responses
  (https://developers.hubspot.com/docs/api-reference/search/guide#limitations; the exemption is
  ``x-hubspot-rate-limit-exemptions: [ten-secondly]`` in HubSpot's published OpenAPI spec).
* ``GET /crm/v3/objects/contacts`` pages by ``after`` with at most 100 records a page; batch upsert
  takes at most 100 inputs (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide).
* ``POST .../gdpr-delete`` answers 204 for an email HubSpot does not hold and blocklists it, so erase
  looks the contact up first to tell "found" from "absent" (the endpoint's description in the spec).
* Deleting a contact archives it, restorable within 90 days; ``GET .../contacts?archived=true`` lists
  the archived ones (``archived: true``, ``archivedAt``), search never returns them
  (https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/delete-contact):
  each incremental pull ends with that list, as tombstones of the contacts archived since the last.
* 423 Locked lasts about two seconds and is worth retrying
  (https://developers.hubspot.com/docs/api-reference/error-handling).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Final
from urllib.parse import quote

import httpx

from connectors._http import (
    BearerToken,
    ConnectorHttpClient,
    ConnectorRequestError,
    CursorPaginator,
    HttpClientConfig,
    PaginationError,
    RetryPolicy,
    SlidingWindowLimiter,
    build_client,
    paginate,
    resolve_secret,
    secret_env_var,
    value_at,
)
from connectors.cursor_tags import id_tag, tag_key
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
from core.push_policy import push_mode_of
from core.schema import Identifier, Profile, RecordDraft
from core.time_bound import TimeBound

from ._cursor import FullState, IncrementalState, PullState, decode, encode
from ._mapping import (
    CUSTOM_PROPERTIES,
    MODIFIED,
    OBJECT_TYPE,
    PROPERTY_GROUP,
    PROPERTY_GROUP_LABEL,
    PULL_PROPERTIES,
    SOURCE,
    contact_id,
    contact_to_draft,
    hubspot_email,
    modified_ms,
    payload_for,
    timestamp_ms,
    upsert_input,
)

DEFAULT_BASE_URL: Final = "https://api.hubapi.com"
CREDENTIAL: Final = "hubspot_token"

CONTACTS_PATH: Final = "/crm/v3/objects/contacts"
SEARCH_PATH: Final = "/crm/v3/objects/contacts/search"
UPSERT_PATH: Final = "/crm/v3/objects/contacts/batch/upsert"
UPDATE_PATH: Final = "/crm/v3/objects/contacts/batch/update"
GDPR_DELETE_PATH: Final = "/crm/v3/objects/contacts/gdpr-delete"
PROPERTIES_PATH: Final = "/crm/v3/properties/contacts"
GROUPS_PATH: Final = "/crm/v3/properties/contacts/groups"

LIST_PAGE_SIZE: Final = 100
#: How far before the newest archive time seen the next run looks again for archived contacts: a
#: contact archived while the list was walked, at an id the walk had passed, is found next time.
ARCHIVE_MARGIN_MS: Final = 15 * 60 * 1000
SEARCH_PAGE_SIZE: Final = 200
BATCH_SIZE: Final = 100
DEFAULT_RATE_LIMIT_PER_10S: Final = 100
DEFAULT_SEARCH_PER_SECOND: Final = 5

#: HubSpot counts a request when it arrives, the client when it leaves: a request sent the instant the
#: client's window frees a slot can reach HubSpot a little before HubSpot's window frees it, if the
#: request that took the slot travelled slower. Waiting this much longer than the window absorbs that.
LATENCY_MARGIN_SECONDS: Final = 0.05

#: Per-record error categories (batch ``errors[].category``) that may succeed when sent again.
RETRYABLE_CATEGORIES: Final = frozenset({"RATE_LIMITS", "LOCKED", "TIMEOUT", "INTERNAL_ERROR"})

OPTIONS: Final[Mapping[str, str]] = {
    "rate_limit_per_10s": (
        "requests per 10 seconds allowed to this private app: 100 on Free and Starter (the default), 190 "
        "on Professional and Enterprise, 250 with the API limit increase"
    ),
    "search_requests_per_second": (
        "CRM search requests per second (default 5, HubSpot's limit per account; lower it when other "
        "apps in the account search too)"
    ),
}

SPEC: Final = ConnectorSpec(
    name=SOURCE,
    kind="crm",
    description=(
        "HubSpot CRM contacts (API v3): full pulls by list, incremental pulls by search on "
        "lastmodifieddate, batch upserts by email into profilesync_* contact properties, GDPR delete"
    ),
    default_base_url=DEFAULT_BASE_URL,
    credentials=(
        Credential(
            CREDENTIAL,
            "private app access token (pat-...) with scopes crm.objects.contacts.read, "
            "crm.objects.contacts.write, crm.schemas.contacts.read and crm.schemas.contacts.write",
        ),
    ),
    options=OPTIONS,
    page_size=LIST_PAGE_SIZE,
    push_batch_size=BATCH_SIZE,
    rate_limit=(
        "private apps: 100 requests / 10 s (Free, Starter), 190 (Professional, Enterprise), 250 (API "
        "limit increase); search: 5 requests / s per account, 200 per page, 10,000 per query "
        "(developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines)"
    ),
    # The 10-second window of the Free/Starter tier as a bucket: 100 at once, 10 a second after that.
    shared_budget=(10.0, 100.0),
    # A CRM keeps everyone the business deals with: push creates the contacts it lacks by default. A
    # contact record sends the person nothing, so creating one asks for no consent (its marketing
    # status stays HubSpot's own); only contacts mean HubSpot holds the person.
    push_rules=PushRules(mode="upsert", channel=None, holder_types=frozenset({OBJECT_TYPE})),
    capabilities=frozenset({"pull", "push", "erase", "deletions"}),
    deletions=(
        "contacts deleted (archived, restorable for 90 days) are listed by GET /crm/v3/objects/contacts"
        "?archived=true with archivedAt; each incremental pull walks that list and retires those archived "
        "since the last one; a restored contact keeps its id and comes back (developers.hubspot.com/docs/"
        "api-reference/legacy/crm/objects/contacts/delete-contact)"
    ),
)

Clock = Callable[[], float]
Sleep = Callable[[float], None]


def _positive_int_option(options: Mapping[str, str], name: str, default: int) -> int:
    raw = options.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = 0
    if value <= 0:
        raise ConnectorConfigError(
            f"hubspot: option {name}={raw!r} must be a positive whole number ({OPTIONS[name]})"
        )
    return value


class HubSpotConnector:
    """HubSpot contacts as a profilesync ``Connector``. Holds two HTTP clients: one paced at the
    private app's 10-second limit, one at the search limit. Close it, or use it as a context manager.

    ``clock`` and ``sleep`` drive the client-side rate limiters (monotonic seconds), for tests.
    """

    spec = SPEC

    def __init__(
        self, settings: ConnectorSettings, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        unknown = sorted(set(settings.options) - set(OPTIONS))
        if unknown:
            raise ConnectorConfigError(
                f"hubspot: unknown option(s) {', '.join(unknown)}; the options are {', '.join(OPTIONS)}"
            )
        token = settings.credentials.get(CREDENTIAL) or resolve_secret(CREDENTIAL)
        self.rate_limit_per_10s = _positive_int_option(
            settings.options, "rate_limit_per_10s", DEFAULT_RATE_LIMIT_PER_10S
        )
        self.search_requests_per_second = _positive_int_option(
            settings.options, "search_requests_per_second", DEFAULT_SEARCH_PER_SECOND
        )
        retry = settings.retry if isinstance(settings.retry, RetryPolicy) else RetryPolicy()
        retry = dataclasses.replace(retry, retry_statuses=retry.retry_statuses | {423})
        base = HttpClientConfig(
            connector=SOURCE,
            base_url=settings.base_url or DEFAULT_BASE_URL,
            auth=BearerToken(token),
            credential_name=CREDENTIAL,
            retry=retry,
        )
        transport: httpx.BaseTransport | None = settings.transport
        # One request of the window stays spare: when HubSpot's X-HubSpot-RateLimit-Remaining reaches 0 the
        # kit's limiter pauses a whole window (it cannot tell when HubSpot's oldest request leaves it), and
        # a spare slot leaves room for a request another process sends at the same moment.
        window = SlidingWindowLimiter(
            max(1, self.rate_limit_per_10s - 1), 10.0 + LATENCY_MARGIN_SECONDS, clock=clock, sleep=sleep
        )
        searches = SlidingWindowLimiter(
            self.search_requests_per_second, 1.0 + LATENCY_MARGIN_SECONDS, clock=clock, sleep=sleep
        )
        self._api: ConnectorHttpClient = build_client(
            dataclasses.replace(base, limiters=(window, *settings.limiters)), transport
        )
        self._search: ConnectorHttpClient = build_client(
            dataclasses.replace(base, limiters=(searches,)), transport
        )
        self._properties_lock = threading.Lock()
        self.cursor_tag_key = tag_key(SOURCE, settings.base_url or DEFAULT_BASE_URL, revealed(token))
        """The key of this account's cursor tags (connectors.cursor_tags): from its token."""
        self._mode = push_mode_of(SPEC, settings.push_mode)
        self._properties_ready = False

    # --- lifecycle --------------------------------------------------------------------------------
    def close(self) -> None:
        """Close both connection pools."""
        self._api.close()
        self._search.close()

    def __enter__(self) -> HubSpotConnector:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- pull -------------------------------------------------------------------------------------
    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        """Contacts page by page: a full refresh for ``cursor=None``, else what changed since the cursor.

        Every page carries the cursor to resume right after it; the last page's cursor starts the next
        incremental run. An incremental run with nothing new yields one empty page carrying its cursor.
        """
        state: PullState | None = decode(cursor, self.cursor_tag_key)
        # A contact stamped far in the future is read as the start of this pull (core.time_bound): it
        # can carry no watermark past the pull, so the changes made after it are asked for next time.
        bound = TimeBound.from_now()
        if state is None or isinstance(state, FullState):
            yield from self._full(state, bound)
        else:
            yield from self._incremental(state, bound)

    def _full(self, state: FullState | None, bound: TimeBound) -> Iterator[RawPage]:
        if state is None:
            newest = self._newest_modification()
            state = FullState(after=None, watermark=None if newest is None else _bounded(newest, bound))
        watermark, max_id = state.watermark, state.max_id
        paginator = CursorPaginator("paging.next.after", "after", start=state.after)
        params = {"limit": LIST_PAGE_SIZE, "properties": ",".join(PULL_PROPERTIES)}
        for page in paginate(
            self._api, "GET", CONTACTS_PATH, paginator, params=params, records_path="results"
        ):
            records = list(page.records)  # junk elements too: the mapping quarantines them
            max_id = max([max_id, *(int(i) for i in map(contact_id, records) if i.isdigit())])
            following: PullState
            if page.has_next:
                following = FullState(after=page.checkpoint, watermark=watermark, max_id=max_id)
            else:
                # Every contact modified up to the watermark existed before the first page and was
                # listed, so the next run starts strictly after it (or at this pull's start, when the
                # newest contact was stamped ahead of it: see _capped).
                following = _capped(
                    IncrementalState(watermark=watermark, tie=max_id if watermark is not None else None),
                    bound,
                )
            yield RawPage(records=records, cursor=encode(following), object_type=OBJECT_TYPE)

    def _newest_modification(self) -> int | None:
        """The newest ``lastmodifieddate`` in the account (epoch ms), None when it has no contacts."""
        body = {
            "filterGroups": [],
            "sorts": [{"propertyName": MODIFIED, "direction": "DESCENDING"}],
            "properties": [MODIFIED],
            "limit": 1,
            "after": "0",
        }
        results = value_at(self._search.post_json(SEARCH_PATH, json=body, idempotent=True), "results")
        if not isinstance(results, list) or not results or not isinstance(results[0], dict):
            return None
        return modified_ms(results[0])

    def _incremental(self, state: IncrementalState, bound: TimeBound) -> Iterator[RawPage]:
        archived_since = state.archived_since
        while True:
            data = self._search.post_json(SEARCH_PATH, json=self._query(state), idempotent=True)
            found = value_at(data, "results")
            found = found if isinstance(found, list) else []
            raw = [r for r in found if isinstance(r, dict)]
            junk = [r for r in found if not isinstance(r, dict)]  # the mapping quarantines these
            has_more = bool(value_at(data, "paging.next.after"))
            # ``seen`` lists records returned at the watermark; one modified since has a later time.
            fresh = [
                r for r in raw if not (self._tag(r) in state.seen and _modified(r, bound) == state.watermark)
            ]
            following = advance(
                state, raw, has_more=has_more, page_size=SEARCH_PAGE_SIZE, bound=bound, tag=self._tag
            )
            following = dataclasses.replace(following, archived_since=archived_since)
            fresh += junk
            if has_more and following == state:
                raise PaginationError(
                    f"hubspot: search at lastmodifieddate {state.watermark} made no progress; stopping "
                    "instead of looping"
                )
            last = not has_more and state.phase == "time"  # (a tie walk that ends goes on with the time)
            if last:
                following = dataclasses.replace(_capped(following, bound), archived_since=archived_since)
            yield RawPage(records=fresh, cursor=encode(following), object_type=OBJECT_TYPE)
            if last:
                yield from self._archived(following, bound)
                return
            state = following

    def _tag(self, contact: Mapping[str, Any]) -> str:
        """The tag the cursor keeps of a contact's id."""
        return id_tag(self.cursor_tag_key, contact_id(contact))

    def _archived(self, state: IncrementalState, bound: TimeBound) -> Iterator[RawPage]:
        """The contacts archived (deleted) since ``state.archived_since``, as tombstones' pages.

        ``GET /crm/v3/objects/contacts?archived=true`` lists the archived contacts (restorable for 90
        days) ordered by id, each with ``archived: true`` and ``archivedAt``; search never returns
        them, and the list cannot filter by time, so the whole list is walked and only the recent
        ones kept. Every page but the last carries ``state``'s own cursor (a pull cut short walks the
        list again: a tombstone repeated retires nothing twice); the last one moves the archive
        watermark to the newest ``archivedAt`` seen, less ``ARCHIVE_MARGIN_MS`` for contacts archived
        while the list was walked at ids already passed."""
        since = state.archived_since
        newest = since
        paginator = CursorPaginator("paging.next.after", "after")
        params = {"limit": LIST_PAGE_SIZE, "archived": "true", "properties": MODIFIED}
        pages = paginate(self._api, "GET", CONTACTS_PATH, paginator, params=params, records_path="results")
        for page in pages:
            recent = []
            for record in page.records:
                at = timestamp_ms(record.get("archivedAt")) if isinstance(record, dict) else None
                if at is None or since is None or at >= since:
                    recent.append(record)  # (an archived contact with no time is a tombstone to refuse)
                if at is not None:
                    at = _bounded(at, bound)
                    newest = at if newest is None else max(newest, at)
            following = state
            if not page.has_next and newest is not None:
                moved = max(newest - ARCHIVE_MARGIN_MS, since or 0)
                following = dataclasses.replace(state, archived_since=moved)
            yield RawPage(records=recent, cursor=encode(following), object_type=OBJECT_TYPE)

    @staticmethod
    def _query(state: IncrementalState) -> dict[str, Any]:
        """The search body for the next page of ``state`` (see ``_cursor.IncrementalState``)."""
        filters: list[dict[str, Any]]
        sort = MODIFIED
        if state.phase == "tie":
            sort = "hs_object_id"
            filters = [
                {"propertyName": MODIFIED, "operator": "EQ", "value": str(state.watermark)},
                {"propertyName": "hs_object_id", "operator": "GT", "value": str(state.tie or 0)},
            ]
        elif state.watermark is None:
            filters = []
        else:
            operator = "GT" if state.tie is not None else "GTE"
            filters = [{"propertyName": MODIFIED, "operator": operator, "value": str(state.watermark)}]
        return {
            "filterGroups": [{"filters": filters}] if filters else [],
            # HubSpot's guide and API take sorts as objects; its published spec types them as strings.
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": list(PULL_PROPERTIES),
            "limit": SEARCH_PAGE_SIZE,
            "after": "0",
        }

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        """Each contact of ``page`` as a draft (pure; bad values are left for normalisation)."""
        return [contact_to_draft(record) for record in page.records]

    # --- push -------------------------------------------------------------------------------------
    def from_profile(self, profile: Profile) -> Payload | None:
        """The upsert for this profile (matched on email), or None when it has no email."""
        return payload_for(profile)

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        """Push ``payloads``, at most 100 a request, creating the ``profilesync_*`` contact properties
        first if the account lacks them. One outcome per payload, in order.

        A payload with a ``remote_id`` (a contact HubSpot holds) is updated by that record id with batch
        update, which never creates anyone; the others are upserted by email. A contact HubSpot no
        longer has is upserted by email in ``upsert`` mode and reported as failed in ``update`` mode.
        """
        if not payloads:
            return []
        self.ensure_properties()
        outcomes: list[PushOutcome | None] = [None] * len(payloads)
        by_id = [i for i, p in enumerate(payloads) if p.remote_id]
        gone: list[int] = []
        for batch in _batches([payloads[i] for i in by_id], BATCH_SIZE, key=_remote_key):
            sent = [by_id[i] for i in batch]
            for index, outcome in zip(sent, self._update([payloads[i] for i in sent]), strict=True):
                if outcome is None:
                    gone.append(index)
                else:
                    outcomes[index] = outcome
        if gone and self._mode == "update":
            for index in gone:
                outcomes[index] = _failed(
                    payloads[index],
                    f"HubSpot no longer has contact {payloads[index].remote_id}; in update mode profilesync "
                    "creates nobody (switch the instance to upsert to create it again)",
                    retryable=False,
                )
            gone = []
        by_email = [i for i, p in enumerate(payloads) if not p.remote_id] + gone
        for batch in _batches([payloads[i] for i in by_email], BATCH_SIZE):
            sent = [by_email[i] for i in batch]
            for index, outcome in zip(sent, self._send([payloads[i] for i in sent]), strict=True):
                outcomes[index] = outcome
        return [o for o in outcomes if o is not None]

    def _update(self, batch: list[Payload]) -> list[PushOutcome | None]:
        """Batch-update contacts by record id; None for a contact HubSpot does not have (any more)."""
        inputs = [{"id": str(p.remote_id), "properties": upsert_input(p)["properties"]} for p in batch]
        try:
            # Setting the same values twice leaves the contact as set once.
            _, data = self._api.exchange_json("POST", UPDATE_PATH, json={"inputs": inputs}, idempotent=True)
        except ConnectorRequestError as exc:
            message = exc.vendor_message or str(exc)
            return [_failed(p, message, retryable=False) for p in batch]
        return update_outcomes(batch, data)

    def _send(self, batch: list[Payload]) -> list[PushOutcome]:
        """Upsert one batch. When HubSpot rejects the whole batch (400) naming some inputs' emails, those
        inputs fail with its message and the rest are sent again; a rejection naming no input is about
        the request itself, so every input fails with it."""
        outcomes: dict[int, PushOutcome] = {}
        pending = list(range(len(batch)))
        while pending:
            try:
                _, data = self._api.exchange_json(
                    "POST",
                    UPSERT_PATH,
                    json={"inputs": [upsert_input(batch[i]) for i in pending]},
                    idempotent=True,  # an upsert sent twice leaves the contact as sent once
                )
            except ConnectorRequestError as exc:
                message = exc.vendor_message or str(exc)
                named = [i for i in pending if batch[i].match_key.strip().lower() in message.lower()]
                if exc.status not in (400, 422) or not named or len(named) == len(pending):
                    named = pending
                outcomes.update((i, _failed(batch[i], message, retryable=False)) for i in named)
                pending = [i for i in pending if i not in outcomes]
                continue
            sent = [batch[i] for i in pending]
            outcomes.update(zip(pending, batch_outcomes(sent, data), strict=True))
            pending = []
        return [outcomes[i] for i in range(len(batch))]

    def ensure_properties(self) -> None:
        """Create the ``profilesync`` property group and the custom contact properties push writes, if
        missing. Runs once per connector instance: one GET when everything exists already."""
        with self._properties_lock:
            if self._properties_ready:
                return
            listed = value_at(self._api.get_json(PROPERTIES_PATH), "results")
            names = (
                {p.get("name") for p in listed if isinstance(p, dict)} if isinstance(listed, list) else set()
            )
            missing = [p.definition() for p in CUSTOM_PROPERTIES if p.name not in names]
            if missing:
                self._ensure_group()
                _, data = self._api.exchange_json(
                    "POST", f"{PROPERTIES_PATH}/batch/create", json={"inputs": missing}, idempotent=True
                )
                errors = value_at(data, "errors")
                failures = [e for e in (errors if isinstance(errors, list) else []) if not _already_exists(e)]
                if failures:
                    raise ProfileSyncError(
                        "hubspot: could not create the profilesync contact properties: "
                        + "; ".join(str(e.get("message", e)) for e in failures if isinstance(e, dict))
                        + f" (check that {secret_env_var(CREDENTIAL)} may write contact schemas)"
                    )
            self._properties_ready = True

    def _ensure_group(self) -> None:
        try:
            self._api.get_json(f"{GROUPS_PATH}/{PROPERTY_GROUP}")
            return
        except ConnectorRequestError as exc:
            if exc.status != 404:
                raise
        group = {"name": PROPERTY_GROUP, "label": PROPERTY_GROUP_LABEL, "displayOrder": -1}
        try:
            self._api.post_json(GROUPS_PATH, json=group, idempotent=True)
        except ConnectorRequestError as exc:
            if exc.status != 409:  # created meanwhile (another run, or our own retried POST)
                raise

    # --- erase ------------------------------------------------------------------------------------
    def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
        """Permanently delete (GDPR) the contact behind each identifier: this tool's own ``source``
        identifier (``hubspot:contact:<id>``: a 404 confirms it is gone), or an email (looked up
        first). Phone numbers are not looked up (``found`` False, nothing confirmed)."""
        return [self._erase_one(identifier) for identifier in identifiers]

    def pushed_identifier(self, remote_id: str) -> Identifier | None:
        """The contact a push created or updated: its record id is the push's remote id."""
        return Identifier(kind="source", value=f"{SOURCE}:{OBJECT_TYPE}:{remote_id}") if remote_id else None

    def _erase_one(self, identifier: Identifier) -> EraseOutcome:
        if identifier.kind == "email":
            email = hubspot_email(identifier.value)
            try:
                found = self._api.get_json(
                    f"{CONTACTS_PATH}/{quote(email, safe='@')}",
                    params={"idProperty": "email", "properties": "email"},
                )
            except ConnectorRequestError as exc:
                if exc.status == 404:
                    return EraseOutcome(identifier, found=False, detail="no HubSpot contact has this email")
                raise
            record_id = contact_id(found)
            if not record_id:
                return EraseOutcome(
                    identifier, found=False, detail="HubSpot returned a contact without an id"
                )
            # The lookup just saw it: a 404 now means our own earlier attempt already deleted it.
            self._gdpr_delete(record_id)
            return EraseOutcome(identifier, found=True, detail=f"contact {record_id} permanently deleted")
        prefix = f"{SOURCE}:{OBJECT_TYPE}:"
        if identifier.kind == "source" and identifier.value.startswith(prefix):
            record_id = identifier.value[len(prefix) :]
            if self._gdpr_delete(record_id):
                return EraseOutcome(identifier, found=True, detail=f"contact {record_id} permanently deleted")
            return EraseOutcome(identifier, found=False, detail="no such HubSpot contact", absent=True)
        return EraseOutcome(
            identifier,
            found=False,
            detail="HubSpot contacts are erased by email or by their hubspot:contact:<id> identifier",
        )

    def _gdpr_delete(self, record_id: str) -> bool:
        """GDPR-delete one contact by record id; False when HubSpot has no such contact."""
        try:
            self._api.request("POST", GDPR_DELETE_PATH, json={"objectId": record_id}, idempotent=True)
        except ConnectorRequestError as exc:
            if exc.status == 404:
                return False
            raise
        return True


# --- helpers (pure) -------------------------------------------------------------------------------


def _bounded(ms: int, bound: TimeBound) -> int:
    """A time in epoch milliseconds, read as the pull's start when it is too far in the future."""
    limit = int(bound.limit.timestamp() * 1000)
    return ms if ms <= limit else int(bound.start.timestamp() * 1000)


def _capped(state: IncrementalState, bound: TimeBound) -> IncrementalState:
    """The state a finished run hands to the next: its watermark no later than the run's start
    (``TimeBound.cap``). A contact stamped hours ahead (within the skew) is read as stamped while the
    run lasts, but the next run asks from the start of this one: asking after the contact's time
    would never return the edits made before it."""
    start = int(bound.start.timestamp() * 1000)
    if state.watermark is None or state.watermark <= start:
        return state
    return IncrementalState(start)


def _modified(contact: Mapping[str, Any], bound: TimeBound | None) -> int | None:
    ms = modified_ms(contact)
    return ms if ms is None or bound is None else _bounded(ms, bound)


def advance(
    state: IncrementalState,
    raw: list[dict[str, Any]],
    *,
    has_more: bool,
    page_size: int,
    tag: Callable[[Mapping[str, Any]], str],
    bound: TimeBound | None = None,
) -> IncrementalState:
    """The incremental state after one search page (``raw``: every result, seen ones included);
    ``tag`` gives what the cursor keeps of a contact's id (connectors.cursor_tags).

    In the tie phase the id keyset moves to the page's highest id, and the tags of the page's contacts
    leave ``seen`` (the keyset is past them); once the timestamp is exhausted the time phase resumes
    strictly after it. In the time phase the watermark moves to the page's newest timestamp,
    remembering the tags of the contacts returned at it; when that timestamp alone fills a page,
    paging by time cannot get past it, so the tie phase takes over.
    """
    if state.phase == "tie":
        tie = max([state.tie if state.tie is not None else -1, *_numeric_ids(raw)])
        seen = state.seen - {tag(r) for r in raw}
        return IncrementalState(state.watermark, tie, seen, "tie" if has_more else "time")
    stamped = [(ms, tag(r) if contact_id(r) else "") for r in raw if (ms := _modified(r, bound)) is not None]
    if not stamped:
        return state
    newest = max(ms for ms, _ in stamped)
    at_newest = frozenset(i for ms, i in stamped if ms == newest and i)
    if state.watermark is None or newest > state.watermark:
        following = IncrementalState(newest, None, at_newest, "time")
    else:
        following = IncrementalState(state.watermark, state.tie, state.seen | at_newest, "time")
    if has_more and following.tie is None and len(following.seen) >= page_size:
        return dataclasses.replace(following, phase="tie")
    return following


def _numeric_ids(raw: list[dict[str, Any]]) -> list[int]:
    return [int(i) for i in map(contact_id, raw) if i.isdigit()]


def batch_outcomes(batch: Sequence[Payload], data: Any) -> list[PushOutcome]:
    """One outcome per input of a batch upsert answer (200, or 207 Multi-Status with ``errors``).

    Results are matched to inputs by email; errors by the input ids HubSpot lists in ``context`` (or
    quotes in the message). An input the answer does not mention is reported as a retryable failure.
    """
    results = value_at(data, "results")
    by_email: dict[str, str] = {}
    for result in results if isinstance(results, list) else []:
        properties = result.get("properties") if isinstance(result, dict) else None
        email = properties.get("email") if isinstance(properties, dict) else None
        if isinstance(email, str):
            by_email[email.strip().lower()] = contact_id(result)
    keys = {p.match_key.strip().lower() for p in batch}
    errors: dict[str, dict[str, Any]] = {}
    raw_errors = value_at(data, "errors")
    for error in raw_errors if isinstance(raw_errors, list) else []:
        if not isinstance(error, dict):
            continue
        for key in _error_ids(error) & keys:
            errors.setdefault(key, error)
        message = error.get("message")
        if isinstance(message, str):
            for key in keys:
                if key in message.lower():
                    errors.setdefault(key, error)
    mentioned_nothing = not by_email and not errors
    outcomes: list[PushOutcome] = []
    for payload in batch:
        key = payload.match_key.strip().lower()
        if key in errors:
            error = errors[key]
            outcomes.append(_failed(payload, _error_text(error), retryable=_retryable(error)))
        elif key in by_email:
            outcomes.append(PushOutcome(payload.customer_id, ok=True, remote_id=by_email[key] or None))
        elif mentioned_nothing and isinstance(results, list) and len(results) == len(batch):
            outcomes.append(PushOutcome(payload.customer_id, ok=True))
        else:
            outcomes.append(
                _failed(payload, "HubSpot's batch answer did not mention this contact", retryable=True)
            )
    return outcomes


def _error_ids(error: Mapping[str, Any]) -> set[str]:
    context = error.get("context")
    found: set[str] = set()
    if isinstance(context, dict):
        for values in context.values():
            if isinstance(values, list):
                found.update(v.strip().lower() for v in values if isinstance(v, str))
    return found


def _error_text(error: Mapping[str, Any]) -> str:
    category = error.get("category")
    message = error.get("message")
    text = message if isinstance(message, str) and message else "rejected without a message"
    return f"HubSpot {category}: {text}" if isinstance(category, str) and category else f"HubSpot: {text}"


def _retryable(error: Mapping[str, Any]) -> bool:
    status = str(error.get("status", ""))
    return error.get("category") in RETRYABLE_CATEGORIES or status in {
        "423",
        "429",
        "500",
        "502",
        "503",
        "504",
    }


def _already_exists(error: Any) -> bool:
    if not isinstance(error, dict):
        return False
    text = f"{error.get('category', '')} {error.get('message', '')}".lower()
    return "already exists" in text or "already_exists" in text


def _failed(payload: Payload, error: str, *, retryable: bool) -> PushOutcome:
    return PushOutcome(payload.customer_id, ok=False, error=error, retryable=retryable)


def update_outcomes(batch: Sequence[Payload], data: Any) -> list[PushOutcome | None]:
    """One outcome per input of a batch update answer (200, or 207 with ``errors``): ok for each id in
    ``results``, None for an id an ``OBJECT_NOT_FOUND`` error lists, a failure for any other error."""
    results = value_at(data, "results")
    done = {contact_id(r) for r in (results if isinstance(results, list) else [])}
    missing: set[str] = set()
    failed: dict[str, dict[str, Any]] = {}
    raw_errors = value_at(data, "errors")
    for error in raw_errors if isinstance(raw_errors, list) else []:
        if not isinstance(error, dict):
            continue
        for record_id in _error_ids(error):
            if error.get("category") == "OBJECT_NOT_FOUND":
                missing.add(record_id)
            else:
                failed.setdefault(record_id, error)
    outcomes: list[PushOutcome | None] = []
    for payload in batch:
        record_id = str(payload.remote_id).strip().lower()
        if record_id in failed:
            error = failed[record_id]
            outcomes.append(_failed(payload, _error_text(error), retryable=_retryable(error)))
        elif record_id in missing:
            outcomes.append(None)
        elif record_id in done:
            outcomes.append(PushOutcome(payload.customer_id, ok=True, remote_id=str(payload.remote_id)))
        else:
            outcomes.append(
                _failed(payload, "HubSpot's batch answer did not mention this contact", retryable=True)
            )
    return outcomes


def _remote_key(payload: Payload) -> str:
    return str(payload.remote_id)


def _email_key(payload: Payload) -> str:
    return payload.match_key.strip().lower()


def _batches(
    payloads: Sequence[Payload], size: int, key: Callable[[Payload], str] = _email_key
) -> list[list[int]]:
    """Indices of ``payloads`` in batches of at most ``size``, never two inputs with one ``key`` (email,
    or record id) in a batch (HubSpot rejects a batch that names the same id twice)."""
    batches: list[tuple[list[int], set[str]]] = []
    for index, payload in enumerate(payloads):
        key_of = key(payload)
        target = next((b for b in batches if len(b[0]) < size and key_of not in b[1]), None)
        if target is None:
            target = ([], set())
            batches.append(target)
        target[0].append(index)
        target[1].add(key_of)
    return [indices for indices, _ in batches]


def build(settings: ConnectorSettings) -> HubSpotConnector:
    """Build the connector from settings (the plugin's ``build``)."""
    return HubSpotConnector(settings)


__all__ = [
    "CREDENTIAL",
    "DEFAULT_BASE_URL",
    "OPTIONS",
    "SPEC",
    "HubSpotConnector",
    "advance",
    "batch_outcomes",
    "build",
]
