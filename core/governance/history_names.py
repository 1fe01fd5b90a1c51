"""Which customers' histories name a value or a record: the index an erasure reads. Pure.

A history event names records (``source_keys``) and identifiers (``identifiers``, ``handed_over``).
Once a value or a record has left a customer (a record changed, split off, retired, merged away),
nothing stored leads from it to the histories that still name it, and an erasure of its person
would leave it there. So every store writes, with every event it stores under a customer (its own,
a copy a survivor inherits, a redacted rewrite), one index item per name in it (``indexed_names``:
every identifier, and every record but the customer's own record in its arrival or change, which
the event that takes it away names again):

    NAMED#<hash of the name> / <customer id>

The name is an identifier key (``email#ann@example.com``) or a record as ``source#<source key>``;
its hash is :func:`name_hash`: on DynamoDB the keyed hash of ``NAMED#<name>`` with the audit salt
(core.key_hashing; the table's stream carries the keys an erasure deletes, and a guessed value must
not be confirmable from them), in the embedded and in-memory stores (no stream) 128 bits of BLAKE2b,
as every store keyed it before; an erasure deletes the index items of what it erases. An item says
"this customer's history may name it": written before or with the event, it may outlive it (the
event redacted, the customer deleted), never the other way round, so an erasure that reads a
customer's history from it finds what is there or nothing. The erasure
(core.governance.history_redaction) pages through a name's items, redacts each history, and deletes
the items it read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import takewhile
from typing import Protocol, runtime_checkable

from core.governance.history import MAX_PAGE, HistoryEvent, HistoryStore, whole_history
from core.key_hashing import keyed_hex, unkeyed_hex

NAMED_PREFIX = "NAMED#"
#: How many customers one page of a name's index items holds at most.
NAMED_PAGE = 100


def name_hash(name: str, salt: str | None = None) -> str:
    """The hash an index item is keyed by: with ``salt`` (DynamoDB's audit salt) the keyed hash of
    ``NAMED#<name>`` (64 hex digits), without it 32 hex digits of BLAKE2b over the name."""
    if salt is None:
        return unkeyed_hex(name)
    return keyed_hex(salt, NAMED_PREFIX + name)


def named_pk(name: str, salt: str | None = None) -> str:
    return NAMED_PREFIX + name_hash(name, salt)


def store_named_pks(history: object, name: str) -> list[str]:
    """The partition keys a history store keeps ``name``'s index items under: its own
    (``named_pks``: DynamoDB's keyed hash, and during its upgrade the unkeyed one too), else
    ``named_pk`` (the embedded and in-memory stores)."""
    own = getattr(history, "named_pks", None)
    return list(own(name)) if own is not None else [named_pk(name)]


def source_name(source_key: str) -> str:
    """A record's name in the index (``source#hubspot:contact:123``), as its IDENT key."""
    return "source#" + source_key


def event_names(event: HistoryEvent) -> set[str]:
    """Every name an event holds: its records as ``source#`` keys, and its identifier keys."""
    return {*(source_name(k) for k in event.source_keys), *event.identifiers, *event.handed_over}


#: Events about a record of the customer's own: the record's name in them is not indexed.
_OWN_RECORD = frozenset({"source_arrived", "source_changed"})


def indexed_names(event: HistoryEvent) -> set[str]:
    """The names an event's index items are written for: its identifier keys, and its records
    unless it is the arrival or change of a record of the customer's own. Such a record is the
    customer's while it stays; whatever takes it away names it in another event of the same
    history (a split, a merge absorbing the customer, a ``source_removed``), and those are
    indexed; an erasure takes the customer's own history whole. So a new customer's arrival (its
    identifiers are empty) writes no index item at all, and the record a history names is found
    once it has left. A value has no such event when it leaves (a record changed or split off
    takes it along unnamed), so every identifier is indexed."""
    names = {*event.identifiers, *event.handed_over}
    if event.kind not in _OWN_RECORD:
        names.update(source_name(k) for k in event.source_keys)
    return names


def index_pairs(events: Iterable[tuple[str, HistoryEvent]], salt: str | None = None) -> set[tuple[str, str]]:
    """The (``NAMED#`` partition key, customer) pairs of events stored under those customers
    (``salt``: see ``name_hash``)."""
    return {(named_pk(name, salt), customer) for customer, event in events for name in indexed_names(event)}


def names_in_history(history: HistoryStore, customer_id: str) -> set[str]:
    """The names of the index items of the history of ``customer_id``, a page at a time."""
    names: set[str] = set()
    for event in whole_history(history, customer_id):
        names |= indexed_names(event)
    return names


@dataclass(frozen=True, slots=True)
class NamedPage:
    """Customers whose history may name one name, in order; ``next`` continues after the last."""

    customers: tuple[str, ...]
    next: str | None = None


@runtime_checkable
class IndexesHistoryNames(HistoryStore, Protocol):
    """A history store that keeps the index (the in-memory, SQLite and DynamoDB ones)."""

    def histories_naming(self, name: str, *, after: str | None = None, limit: int = NAMED_PAGE) -> NamedPage:
        """Up to ``limit`` customers whose history may name ``name``, after the customer ``after``."""
        ...

    def forget_named(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Delete the index items of these (name, customer) pairs; absent ones are no error."""
        ...

    def put_named(self, events: Sequence[tuple[str, HistoryEvent]]) -> None:
        """Write the index items of ``events`` stored under those customers (``inherited`` copies
        under the survivor): what storing an event writes, and what ``index_histories`` writes
        for events stored before the index."""
        ...


def index_histories(history: IndexesHistoryNames, customers: Iterable[str]) -> tuple[int, int]:
    """Write the index items of the histories of ``customers`` (events stored before the index;
    writing them again changes nothing): how many customers and events were read. The live
    customers are enough: a customer merged away has its events copied to the survivor, whose
    items lead an erasure there, and the redaction of a copy rewrites the original."""
    done = events = 0
    for customer in customers:
        after: str | None = None
        while True:
            page = history.list_history(customer, limit=MAX_PAGE, after=after, newest_first=False)
            history.put_named([(customer, e) for e in page.events])
            _unless_redacted(history, customer, page.events, after)
            events += len(page.events)
            if page.next is None:
                break
            after = page.next
        done += 1
    return done, events


def _unless_redacted(
    history: IndexesHistoryNames, customer: str, read: Sequence[HistoryEvent], after: str | None
) -> None:
    """Take back the items just written of names an erasure took from these events since they were
    read (redacted, or deleted with the customer): it ran between the read and the write, and left
    nothing else to delete them. The events are read again (one more page); only when a name went is
    the whole history read, to keep the items of names other events hold."""
    if not read:
        return
    last = read[-1].sort_key
    now: set[str] = set()
    for event in takewhile(lambda e: e.sort_key <= last, whole_history(history, customer, after)):
        now |= indexed_names(event)
    went = {name for e in read for name in indexed_names(e)} - now
    if went:
        went -= names_in_history(history, customer)
        history.forget_named(sorted((name, customer) for name in went))


def forget_in_steps(history: IndexesHistoryNames, pairs: Sequence[tuple[str, str]], step: int) -> None:
    """Delete the index items ``pairs`` (name, customer id), ``step`` items a request at most."""
    size = max(1, step)
    for start in range(0, len(pairs), size):
        history.forget_named(pairs[start : start + size])


def forget_names(history: IndexesHistoryNames, names: Iterable[str]) -> int:
    """Delete every index item of ``names``, a page at a time; how many. For names no history may
    name any more (an erased person's suppressed values and records: her erasure redacted every
    history naming them), whose items a commit that lost wrote after the erasure deleted theirs."""
    forgotten = 0
    for name in sorted(set(names)):
        while True:  # from the start each time: the items of the page before are gone
            page = history.histories_naming(name)
            history.forget_named([(name, c) for c in page.customers])
            forgotten += len(page.customers)
            if page.next is None:
                break
    return forgotten


__all__ = [
    "NAMED_PAGE",
    "NAMED_PREFIX",
    "IndexesHistoryNames",
    "NamedPage",
    "event_names",
    "forget_in_steps",
    "forget_names",
    "index_histories",
    "index_pairs",
    "indexed_names",
    "name_hash",
    "named_pk",
    "names_in_history",
    "source_name",
    "store_named_pks",
]
