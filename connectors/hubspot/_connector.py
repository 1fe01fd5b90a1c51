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

``HubSpotConnector`` mixes in the pull (``_pull``) and the push (``_push``), on the clients, paths and
limits of ``_client``; erasure is here.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Final
from urllib.parse import quote

import httpx

from connectors._http import (
    BearerToken,
    ConnectorHttpClient,
    ConnectorRequestError,
    HttpClientConfig,
    RetryPolicy,
    SlidingWindowLimiter,
    build_client,
    resolve_secret,
)
from connectors.cursor_tags import tag_key
from connectors.option_numbers import whole_number
from connectors.secrets import revealed
from core.connector import ConnectorSettings, ConnectorSpec, Credential, EraseOutcome, PushRules
from core.errors import ConnectorConfigError
from core.push_policy import push_mode_of
from core.schema import Identifier

from ._client import ARCHIVE_MARGIN_MS as ARCHIVE_MARGIN_MS
from ._client import BATCH_SIZE as BATCH_SIZE
from ._client import CONTACTS_PATH as CONTACTS_PATH
from ._client import CREDENTIAL, DEFAULT_BASE_URL
from ._client import GDPR_DELETE_PATH as GDPR_DELETE_PATH
from ._client import GROUPS_PATH as GROUPS_PATH
from ._client import LIST_PAGE_SIZE as LIST_PAGE_SIZE
from ._client import PROPERTIES_PATH as PROPERTIES_PATH
from ._client import SEARCH_PAGE_SIZE as SEARCH_PAGE_SIZE
from ._client import SEARCH_PATH as SEARCH_PATH
from ._client import UPDATE_PATH as UPDATE_PATH
from ._client import UPSERT_PATH as UPSERT_PATH
from ._mapping import OBJECT_TYPE, SOURCE, contact_id, hubspot_email
from ._pull import HubSpotPull, advance
from ._push import RETRYABLE_CATEGORIES as RETRYABLE_CATEGORIES
from ._push import HubSpotPush, batch_outcomes
from ._push import update_outcomes as update_outcomes

DEFAULT_RATE_LIMIT_PER_10S: Final = 100
DEFAULT_SEARCH_PER_SECOND: Final = 5

#: HubSpot counts a request when it arrives, the client when it leaves: a request sent the instant the
#: client's window frees a slot can reach HubSpot a little before HubSpot's window frees it, if the
#: request that took the slot travelled slower. Waiting this much longer than the window absorbs that.
LATENCY_MARGIN_SECONDS: Final = 0.05


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
        "api-reference/legacy/crm/objects/contacts/delete-contact). The contacts merged into another "
        "(no longer listed nor archived) are retired by the merged record's hs_merged_object_ids; one "
        "deleted permanently (GDPR delete) by the next full refresh, which retires the stored contacts "
        "it did not list"
    ),
    # A full refresh walks every contact: GET /crm/v3/objects/contacts by id (HubSpotPull._full),
    # archived ones not included (an archived contact unlisted is retired, as the archive list would).
    refresh_lists=frozenset({OBJECT_TYPE}),
)

Clock = Callable[[], float]
Sleep = Callable[[float], None]


def _positive_int_option(options: Mapping[str, str], name: str, default: int) -> int:
    return whole_number(
        options, name, connector="hubspot", default=default, low=1, meaning=f"({OPTIONS[name]})"
    )


class HubSpotConnector(HubSpotPull, HubSpotPush):
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
