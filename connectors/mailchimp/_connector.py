"""The Mailchimp connector: audience members in, enriched merge fields out, permanent delete.

Mailchimp Marketing API 3.0 (https://mailchimp.com/developer/marketing/api/). Every account lives in
one data center, named by the API key's suffix: key ``...-us21`` is served at
``https://us21.api.mailchimp.com/3.0``. Auth is HTTP Basic with any user name and the key as the
password. The only published limit is 10 simultaneous connections per API key, the 11th answered
with 429 (https://mailchimp.com/developer/marketing/docs/fundamentals/#api-limits); requests are
not otherwise counted, so the client holds a ``ConcurrencyLimiter`` and parallelises full refreshes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Final
from urllib.parse import quote

from connectors._http import (
    BasicAuthKey,
    ConcurrencyLimiter,
    ConnectorHttpClient,
    ConnectorRequestError,
    HttpClientConfig,
    RetryPolicy,
    build_client,
    resolve_secret,
    secret_env_var,
)
from connectors.cursor_tags import tag_key
from connectors.option_numbers import whole_number
from connectors.secrets import revealed
from core.connector import (
    ConnectorSettings,
    ConnectorSpec,
    Credential,
    EraseOutcome,
    PushRules,
)
from core.errors import ConnectorConfigError
from core.schema import Identifier
from core.time_bound import TimeBound

from ._audience import PAGE_SIZE
from ._mapping import OBJECT_TYPE, SOURCE, subscriber_hash
from ._pull import RANGE_PAGES, RETIRING_PAGE, MailchimpPull
from ._push import BATCH_SIZE, MailchimpPush

CREDENTIAL: Final = "mailchimp_api_key"

#: Mailchimp's published concurrency limit per API key.
MAX_CONNECTIONS: Final = 10

_DATA_CENTER = re.compile(r"^[a-z]{2,4}\d{1,3}$")

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
        "page_size": (
            f"members a page of a pull asks for, 2 to {PAGE_SIZE} (default {PAGE_SIZE}, Mailchimp's most); "
            "not 1: each page after the first re-reads the member before it, to check the order held"
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
        "listed at all (https://mailchimp.com/developer/marketing/api/list-members/archive-list-member/): "
        "a full refresh retires the stored members it did not list"
    ),
    # A full refresh lists every member of the audience, whatever its status (no status filter).
    refresh_lists=frozenset({OBJECT_TYPE}),
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
    return whole_number(
        options,
        "max_connections",
        connector="mailchimp",
        default=MAX_CONNECTIONS,
        low=1,
        high=MAX_CONNECTIONS,
        meaning="simultaneous connections",
    )


def _page_size(options: Mapping[str, str]) -> int:
    return whole_number(
        options,
        "page_size",
        connector="mailchimp",
        default=PAGE_SIZE,
        # A page after the first starts one member back (the overlap check, connectors.mailchimp.
        # _cursor): a page of 1 would hold only that member, never end the walk, and repeat forever.
        low=2,
        high=PAGE_SIZE,
        meaning="members a page (the most Mailchimp's count asks for; a page re-reads one)",
    )


def _flag(options: Mapping[str, str], name: str) -> bool:
    text = str(options.get(name, "") or "false").strip().lower()
    if text not in ("true", "false"):
        raise ConnectorConfigError(f"mailchimp: option {name} must be true or false, got {text!r}")
    return text == "true"


class MailchimpConnector(MailchimpPull, MailchimpPush):
    """One Mailchimp audience. Thread-safe; close it (or use ``with``) to release its connections.

    Pull is in connectors.mailchimp._pull, push in connectors.mailchimp._push."""

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
        self.page_size = _page_size(settings.options)
        if self.page_size != PAGE_SIZE:
            self.spec = replace(SPEC, page_size=self.page_size)
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


def build(settings: ConnectorSettings) -> MailchimpConnector:
    """Build a connector from resolved settings (see ``SPEC`` for the credential and options)."""
    return MailchimpConnector(settings)


__all__ = [
    "BATCH_SIZE",
    "CREDENTIAL",
    "MAX_CONNECTIONS",
    "PAGE_SIZE",
    "RANGE_PAGES",
    "RETIRING_PAGE",
    "SPEC",
    "MailchimpConnector",
    "build",
    "data_center",
]
