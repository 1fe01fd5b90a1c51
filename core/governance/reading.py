"""Reading one person for the profile API and ``profilesync profile show``. Pure.

    lookup (email / phone / source id, normalised exactly as ingest does) -> owner of its IDENT item
    -> the customer's profile and source records, following ``merged_into`` to the live customer

``ProfileReader`` is the port: ``core.storage.dynamodb_reads`` answers a lookup of a live, unmerged
customer with two reads (the IDENT item, then one Query of the customer's PROFILE and SOURCE#
items), and ``StoreProfileReader`` answers from any ``ProfileStore`` (the in-memory one, the embedded
SQLite one). Every read through the API is recorded (``ReadRecord``) in a ``ReadAudit``: who read
which customer and which fields, kept 90 days, so "who looked at this person" can be answered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from core.governance.errors import BadLookupError
from core.ports import ProfileStore
from core.schema import Identifier, Profile, SourceRecord, source_identifier

LookupKind = Literal["id", "email", "phone", "source"]
_CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: How many merges a read follows before it gives up (the pipeline never writes a cycle).
MAX_MERGE_HOPS = 8
#: Source records per page of a person, by default and at most.
DEFAULT_SOURCES_PAGE = 100
MAX_SOURCES_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a request looks a person up by; ``key`` is the identifier key as stored."""

    kind: LookupKind
    key: str

    @property
    def customer_id(self) -> str:
        if self.kind != "id":
            raise ValueError("only an id lookup names a customer")
        return self.key


def lookup_by_id(customer_id: str) -> Lookup:
    if not _CUSTOMER_ID.match(customer_id):
        raise BadLookupError("a customer id is letters, digits, '_' or '-' (such as cus_...)")
    return Lookup("id", customer_id)


def lookup_from_query(params: Mapping[str, str], *, default_region: str = "US") -> Lookup:
    """Exactly one of ``email``, ``phone`` (with an optional ``region`` for a national number) or
    ``source`` (``hubspot:contact:123``), normalised as ingest normalises what the tools send."""
    given = [name for name in ("email", "phone", "source") if (params.get(name) or "").strip()]
    if len(given) != 1:
        raise BadLookupError("give exactly one of email=, phone= or source=<tool>:<object type>:<id>")
    name = given[0]
    value = params[name].strip()
    # Imported here: the normalisers bring phonenumbers, which a read by id or source never needs.
    from core.errors import NormalisationError
    from core.normalise import normalise_email, normalise_phone

    try:
        if name == "email":
            return Lookup("email", Identifier(kind="email", value=normalise_email(value)).key)
        if name == "phone":
            region = (params.get("region") or default_region).strip().upper()
            return Lookup("phone", Identifier(kind="phone", value=normalise_phone(value, region)).key)
    except NormalisationError as error:
        # The normalisers' reasons never quote the value, so this message can be logged and returned.
        raise BadLookupError(f"{name} cannot be used: {error.reason}") from None
    try:
        return Lookup("source", source_identifier(value).key)
    except ValueError:
        raise BadLookupError("source= takes <tool>:<object type>:<id>, such as hubspot:contact:123") from None


@dataclass(frozen=True, slots=True)
class PersonPage:
    """A customer's profile item and a page of its source records (the privacy export's shape)."""

    customer_id: str
    profile: Profile | None
    merged_into: str | None = None
    sources: tuple[SourceRecord, ...] = ()
    next: int | None = None
    """The offset of the next page of source records, when more remain.

    An offset rather than the last source key: a page token must not tell a role a source id it
    may not read. A later page re-reads the ones before it, which is fine for the rare customer
    with more source records than one page holds."""
    followed: tuple[str, ...] = ()
    """Customers merged away on the way here (the id asked for, when it was merged into this one)."""


class ProfileReader(Protocol):
    """Reads of one person: the owner of an identifier key, a customer's profile and sources."""

    def owner_of(self, key: str) -> str | None:
        """The customer that owns the identifier key, or None."""
        ...

    def read_person(
        self, customer_id: str, *, sources: bool, limit: int = DEFAULT_SOURCES_PAGE, offset: int = 0
    ) -> PersonPage | None:
        """The profile item (and, with ``sources``, up to ``limit`` source records from ``offset``
        in key order) of this customer as stored, merged-away or not; None if it does not exist."""
        ...


def live_person(
    reader: ProfileReader,
    customer_id: str,
    *,
    sources: bool,
    limit: int = DEFAULT_SOURCES_PAGE,
    offset: int = 0,
) -> PersonPage | None:
    """The live customer ``customer_id`` is (itself, or the one it was merged into), or None."""
    followed: list[str] = []
    cid = customer_id
    for _ in range(MAX_MERGE_HOPS):
        page = reader.read_person(cid, sources=sources, limit=limit, offset=offset)
        if page is None:
            return None
        if not page.merged_into:
            return _with_followed(page, followed)
        followed.append(cid)
        cid = page.merged_into
    return None


def _with_followed(page: PersonPage, followed: list[str]) -> PersonPage:
    if not followed:
        return page
    return PersonPage(page.customer_id, page.profile, None, page.sources, page.next, tuple(followed))


def find_person(
    reader: ProfileReader,
    lookup: Lookup,
    *,
    sources: bool,
    limit: int = DEFAULT_SOURCES_PAGE,
    offset: int = 0,
) -> PersonPage | None:
    """The live customer a lookup names, or None when nobody owns the identifier."""
    cid = lookup.key if lookup.kind == "id" else reader.owner_of(lookup.key)
    if cid is None:
        return None
    return live_person(reader, cid, sources=sources, limit=limit, offset=offset)


def page_size(limit: int | None) -> int:
    return DEFAULT_SOURCES_PAGE if limit is None else max(1, min(MAX_SOURCES_PAGE, limit))


class StoreProfileReader:
    """``ProfileReader`` over any ``ProfileStore`` (the in-memory store; the embedded SQLite one).

    ``get_customers`` reads everything a customer holds; the DynamoDB store has its own reader,
    which reads only the items an answer needs (core.storage.dynamodb_reads)."""

    def __init__(self, store: ProfileStore) -> None:
        self._store = store

    def owner_of(self, key: str) -> str | None:
        owner = self._store.get_owners([key]).get(key)
        return None if owner is None else owner.customer_id

    def read_person(
        self, customer_id: str, *, sources: bool, limit: int = DEFAULT_SOURCES_PAGE, offset: int = 0
    ) -> PersonPage | None:
        state = self._store.get_customers([customer_id]).get(customer_id)
        if state is None:
            return None
        if state.merged_into or not sources:
            return PersonPage(customer_id, state.profile, state.merged_into)
        keys = sorted(state.snapshots)
        chosen = keys[offset : offset + limit]
        more = len(keys) > offset + limit
        return PersonPage(
            customer_id,
            state.profile,
            None,
            tuple(state.snapshots[k] for k in chosen),
            offset + limit if more else None,
        )


# --- the read audit -----------------------------------------------------------------------------------

ReadRoute = Literal["profile", "history", "explain", "reads"]


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """Who read which customer and which fields, when, through which route and lookup kind.

    No personal data: the lookup is recorded by kind (``email``), never by value."""

    customer_id: str
    at: datetime
    request_id: str
    principal: str
    role: str
    route: ReadRoute
    lookup: LookupKind
    fields: tuple[str, ...]


class ReadAudit(Protocol):
    """Where reads are recorded; append-only, expiring after the retention period."""

    def record_read(self, record: ReadRecord) -> None: ...

    def reads_of(self, customer_id: str, *, since: datetime, limit: int = 100) -> list[ReadRecord]:
        """The customer's reads since ``since``, newest first."""
        ...


def audited_fields(fields: Sequence[str]) -> tuple[str, ...]:
    """The fields of a read as recorded: sorted, unique."""
    return tuple(sorted(set(fields)))


__all__ = [
    "DEFAULT_SOURCES_PAGE",
    "MAX_MERGE_HOPS",
    "MAX_SOURCES_PAGE",
    "Lookup",
    "LookupKind",
    "PersonPage",
    "ProfileReader",
    "ReadAudit",
    "ReadRecord",
    "ReadRoute",
    "StoreProfileReader",
    "audited_fields",
    "find_person",
    "live_person",
    "lookup_by_id",
    "lookup_from_query",
    "page_size",
]
