"""The history of a customer: one event per change (who or which run, when, what, why). Pure.

Every change to a customer appends an event: a source record arriving or changing, a merge, a split,
a review decision on a fuzzy link, an erasure. Events are kept per customer, newest first when
listed, in pages; when customers merge, the survivor inherits the history of the absorbed one
(``HistoryStore.inherit_history``), so the survivor's history tells how it came to be, including an
accidental merge that a split by its event can undo.

What an event holds is chosen so that it can be shown to a role through the same policy as a
profile (core.governance.view): the identifiers that decided a change are identifier keys in
``identifiers`` (masked or left out per role), the records are source keys in ``source_keys``,
and ``reason`` is words only, never an identifier value (the model refuses a reason that quotes one).

Stored as ``CUSTOMER#<cid> / HISTORY#<at>#<event id>`` (core.storage.dynamodb_history): the sort key
is :func:`history_sort_key`, and a page's ``next`` is the sort key of its last event, so every store
pages the same way.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

HistoryKind = Literal[
    "source_arrived",
    "source_changed",
    "source_removed",
    "merge",
    "split",
    "review",
    "review_accepted",
    "review_rejected",
    "erasure",
]
"""What happened: a source record arrived, changed or was removed from the customer; the customer
absorbed another (``merge``) or had records split off (``split``); a reviewer accepted or rejected a
pair the matcher was unsure about (``review_accepted``, ``review_rejected``: core.link_review;
``review`` is kept for events written before them); the person was erased (``erasure``, redacted to
what its receipt needs)."""

_EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
MAX_REASON = 500
#: How many events one page holds at most, whatever the caller asks.
MAX_PAGE = 200


class HistoryEvent(BaseModel):
    """One change to one customer. Immutable; a store appends it idempotently by its sort key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str
    """The customer the change happened to (for an inherited event: the absorbed customer)."""
    event_id: str
    """Unique within its customer; derive it with :func:`event_id_for` so a replay appends nothing new."""
    at: datetime
    kind: HistoryKind
    actor: str
    """Who or what made the change: ``run:<connector>:<run id>``, an IAM ARN, ``review:<who>``."""
    reason: str = ""
    """Why, in words (``shared email``, ``reviewer confirmed``); never an identifier value."""
    source_keys: tuple[str, ...] = ()
    """The source records involved (``hubspot:contact:123``); for a merge, the absorbed records."""
    customers: tuple[str, ...] = ()
    """Other customers involved: the absorbed one of a merge, the new ones of a split, the survivor."""
    identifiers: tuple[str, ...] = ()
    """The identifier keys that decided (``email#ann@example.com``): shown only as the role may."""
    handed_over: tuple[str, ...] = ()
    """For a merge: those of ``identifiers`` the absorbed customer owned (the survivor's records
    were found holding them). A split from the event hands them back, so that a lookup by them finds
    the restored customer as before. Never shown in an answer: ``identifiers`` shows them."""
    inherited_from: str | None = None
    """Set on the copy a survivor holds: the customer merged into it that the event came from
    (for A merged into B, then B into C: C's copy of A's event says A happened, inherited from B)."""

    @field_validator("at")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("at must carry a time zone (UTC)")
        return value.astimezone(UTC)

    @field_validator("event_id")
    @classmethod
    def _event_id(cls, value: str) -> str:
        if not _EVENT_ID.match(value):
            raise ValueError("event_id must be 1-128 letters, digits, '_', '.', ':' or '-' (no '#')")
        return value

    @field_validator("reason")
    @classmethod
    def _reason_length(cls, value: str) -> str:
        if len(value) > MAX_REASON:
            raise ValueError(f"reason is longer than {MAX_REASON} characters; keep it to a sentence")
        return value

    @model_validator(mode="after")
    def _handed_over_among_identifiers(self) -> Self:
        if not set(self.handed_over) <= set(self.identifiers):
            raise ValueError("handed_over names keys that are not among identifiers")
        return self

    @model_validator(mode="after")
    def _reason_quotes_no_identifier(self) -> Self:
        # The reason is shown to every role that may read history; an identifier value in it would
        # bypass the masking that ``identifiers`` and ``source_keys`` get.
        if quotes_identifier(self.reason, (*self.identifiers, *self.source_keys)):
            raise ValueError(
                "reason quotes an identifier or source id; name it in identifiers/source_keys instead"
            )
        return self

    @property
    def sort_key(self) -> str:
        return history_sort_key(self.at, self.event_id)


def quotes_identifier(reason: str, keys: Iterable[str]) -> bool:
    """Whether ``reason`` quotes the value of one of ``keys`` (identifier keys or source keys)."""
    lowered = reason.lower()
    for key in keys:
        value = key.partition("#")[2] if "#" in key else key.rpartition(":")[2]
        if len(value) >= 3 and value.lower() in lowered:
            return True
    return False


def history_sort_key(at: datetime, event_id: str) -> str:
    """``2026-01-05T10:00:00.000000Z#<event id>``: fixed width, so text order is time order."""
    return f"{_sortable_time(at)}#{event_id}"


@lru_cache(maxsize=64)
def _sortable_time(at: datetime) -> str:
    # Every event of a change shares one time, formatted twice per event (its id and its sort key):
    # a few µs of strftime each, a tenth of planning a new customer. Equal instants in any zone
    # are equal keys here, and format alike in UTC. ``isoformat`` writes what the format below
    # writes (1 µs, not 15: most changes are at a new microsecond, so the cache rarely helps),
    # but for a year before 1000, which the format does not pad to four digits.
    utc = at.astimezone(UTC)
    if utc.year < 1000:
        return f"{utc:%Y-%m-%dT%H:%M:%S.%fZ}"
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def event_id_for(customer_id: str, kind: str, at: datetime, *parts: str) -> str:
    """A deterministic event id: the same change to the same customer gets the same id, so an
    ingest replayed after a crash appends the event once. ``parts`` are what makes the change
    unique (a source key and its record hash, the absorbed customer id, ...)."""
    text = "\x1f".join((customer_id, kind, history_sort_key(at, "x"), *parts))
    return f"{kind[:5]}-{hashlib.blake2b(text.encode(), digest_size=10).hexdigest()}"


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """Events of one customer, in the order asked for; ``next`` continues after the last one."""

    events: tuple[HistoryEvent, ...]
    next: str | None = None


def check_page_size(limit: int) -> int:
    """``limit`` bounded to 1..MAX_PAGE."""
    return max(1, min(MAX_PAGE, limit))


class HistoryStore(Protocol):
    """Append, list and inherit customers' histories; the in-memory, DynamoDB (and SQLite) stores."""

    def append_history(self, events: Sequence[HistoryEvent]) -> None:
        """Store the events under their customers. Appending an event again changes nothing."""
        ...

    def list_history(
        self, customer_id: str, *, limit: int = 50, after: str | None = None, newest_first: bool = True
    ) -> HistoryPage:
        """Up to ``limit`` events of the customer, after the sort key ``after`` in the order asked."""
        ...

    def inherit_history(self, absorbed: str, survivor: str) -> int:
        """Copy every event of ``absorbed`` to ``survivor`` (``inherited_from`` set); idempotent.
        Returns how many events were copied."""
        ...


def inherited(event: HistoryEvent, absorbed: str) -> HistoryEvent:
    """The survivor's copy of an event listed under ``absorbed``."""
    return event.model_copy(update={"inherited_from": absorbed})


def inherit_in_pages(
    store: HistoryStore, absorbed: str, write: Callable[[Sequence[HistoryEvent]], None], page: int = MAX_PAGE
) -> int:
    """Page through ``absorbed``'s events, oldest first, and ``write`` each page's survivor copies:
    how a store that writes in batches inherits a history of any length. Returns how many."""
    copied = 0
    after: str | None = None
    while True:
        found = store.list_history(absorbed, limit=page, after=after, newest_first=False)
        write([inherited(e, absorbed) for e in found.events])
        copied += len(found.events)
        if found.next is None:
            return copied
        after = found.next


def whole_history(store: HistoryStore, customer_id: str, after: str | None = None) -> Iterator[HistoryEvent]:
    """Every event of ``customer_id``'s history (its inherited copies included), oldest first, read
    a page of ``MAX_PAGE`` at a time (as the caller pulls them); with ``after``, those after that
    sort key."""
    while True:
        page = store.list_history(customer_id, limit=MAX_PAGE, after=after, newest_first=False)
        yield from page.events
        if page.next is None:
            return
        after = page.next


__all__ = [
    "MAX_PAGE",
    "HistoryEvent",
    "HistoryKind",
    "HistoryPage",
    "HistoryStore",
    "check_page_size",
    "event_id_for",
    "history_sort_key",
    "inherit_in_pages",
    "inherited",
    "quotes_identifier",
    "whole_history",
]
