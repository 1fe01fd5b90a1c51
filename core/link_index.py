"""The store's index for probabilistic identity: blocking keys, identifier values, review items.

Three kinds of items sit beside the identifier items (docs/identity.md has the layout):

- ``BLOCK#<hash>`` / ``BLOCK``: the source keys of the people-level records filed under one key:
  a blocking key (``sb:TANPSAN:1975``: surname code and birth year, core.linkage.blocking) or an
  identifier value (``id:email#<match key>``, ``id:phone#+44...``, ``id:national_id#...``). The hash
  (``block_item_key``) keeps names, postcodes and addresses out of keys. A key that would hold more
  records than its limit is marked ``overloaded``, drops its members and takes no more: a key held
  by that many records says little (like an identifier over its guardrail), and is not used.
- ``REVIEW#<pair hash>`` / ``REVIEW``: a pair of records the matcher was unsure about (between the
  ``review`` and ``link`` thresholds, a likely typo, a conflicting birth date), with its score,
  the model version and, once a person decided, ``accepted`` or ``rejected``, by whom and when.
  A decision is replayed whenever the pair is decided again (accepted is a link, rejected a
  refusal) while both records hold what they held when it was taken: ``evidence``, a hash of the
  two records' match documents (``pair_evidence``). A decision stored without it (before it was
  kept) is replayed whatever the records hold.
- the identifier item of a source record (``IDENT#source#<key>``) carries ``match``: the record's
  fields the matcher reads (``match_document``), so that candidates found through the index are
  compared without loading their customers.

The index is written before the batch is planned (adds and removals of the batch's own records),
so that of two writers adding records that match each other at the same time, the one that reads
second sees the other. Writes are idempotent; a crash leaves at most an entry for a record that was
not stored (skipped when read: it owns no identifier) or one removal too early, both listed in the
record's write-ahead entry (core.link_filed): the next filing of the record, its staleness or its
erasure puts them right.

``LinkIndex`` is the port; the in-memory, SQLite and DynamoDB profile stores implement it
(tests/integration/store_port). Pure: no I/O here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple, Protocol, runtime_checkable

from core.schema import SourceRecord

__all__ = [
    "BlockChange",
    "BlockState",
    "LinkIndex",
    "MatchFields",
    "ReviewItem",
    "ReviewStatus",
    "block_item_key",
    "changes_for",
    "fields_from_match",
    "match_document",
    "pair_evidence",
    "review_pair_id",
]

ReviewStatus = Literal["pending", "accepted", "rejected"]

_matched_traits: frozenset[str] | None = None


def _matched() -> frozenset[str]:
    """Every trait name a compared field is read from (core.normalise._identity.FIELD_ALIASES); read
    on first use, so that the stores importing this module do not import the normalisers."""
    global _matched_traits
    if _matched_traits is None:
        from core.normalise._identity import FIELD_ALIASES

        _matched_traits = frozenset(name for names in FIELD_ALIASES.values() for name in names)
    return _matched_traits


def block_item_key(key: str) -> str:
    """The store's item key for an index key: ``BLOCK#`` and 128 bits of BLAKE2b of it."""
    return "BLOCK#" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


NO_ORDERS: Final[Mapping[str, str]] = MappingProxyType({})


class BlockState(NamedTuple):
    """One index key as stored: the people-level source keys filed under it, or ``overloaded`` (then
    none); and, under an identifier value, the child objects holding it (guest orders with an email).
    Under a blocking key, ``orders``: each member's place in its block's order
    (core.linkage.blocking.order_string), so that a record's neighbours in a crowded block are found
    from this one item; a member filed before the orders were kept has none.

    A named tuple rather than a frozen dataclass: as immutable, and made for every key a batch reads
    or files (about a dozen per record), where a frozen dataclass's ``__init__`` cost 2 us each."""

    key: str
    members: frozenset[str] = frozenset()
    overloaded: bool = False
    children: frozenset[str] = frozenset()
    orders: Mapping[str, str] = NO_ORDERS

    def ranked(self) -> bool:
        """Whether every member's place in the order is kept (``orders``): the block can be ranked
        from this item alone."""
        return bool(self.members) and all(member in self.orders for member in self.members)

    def holds_as(self, read: BlockState) -> bool:
        """Whether this key holds what ``read`` held: overloaded or not, its members, its child
        objects (``LinkIndex.drop_blocks_as_read`` compares them; places go with their members)."""
        return (self.overloaded, self.members, self.children) == (
            read.overloaded,
            read.members,
            read.children,
        )


class BlockChange(NamedTuple):
    """Add and remove source keys under one index key; ``limit``: the most members it may hold.

    Child objects go in a set of their own (``add_children``): they never count towards a value's
    people, and a shopper's hundreds of guest orders must not overload her address for the people
    holding it. Past ``children_limit`` further children are not filed (they are still found through
    the exact identifier they hold). ``orders``: the place in the block's order of members added, or
    of members whose place changed (they are in ``add`` again); a removed member's place goes with
    it. A named tuple, as ``BlockState`` is."""

    key: str
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()
    limit: int = 100
    add_children: frozenset[str] = frozenset()
    remove_children: frozenset[str] = frozenset()
    children_limit: int = 2000
    orders: Mapping[str, str] = NO_ORDERS


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A pair for a person to decide (keys sorted: ``a < b``) and what the matcher said about it."""

    a: str
    b: str
    status: ReviewStatus
    decision: Mapping[str, Any]
    """``core.linkage.Decision.as_dict()``: outcome, reason, score with per-field weights."""
    model: str
    """The model that scored it (``format`` version and training sample)."""
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = field(default="", compare=False)
    evidence: str = ""
    """For a decision: ``pair_evidence`` of the two records as they were when it was taken; it applies
    while they hold the same (``applies_to``). Empty: a decision taken before evidence was kept, or
    a pending item."""
    read_as: str = field(default="", init=False, compare=False, repr=False)
    """The item's JSON exactly as a store read it (``from_json``), which an earlier release may have
    written in another shape (without ``evidence``); empty for an item made here (``replace`` too).
    The conditional writes compare the stored text with ``stored_json``."""

    @property
    def pair_id(self) -> str:
        return review_pair_id(self.a, self.b)

    def applies_to(self, evidence: str) -> bool:
        """Whether the person's decision holds for records whose ``pair_evidence`` is ``evidence``:
        always for one taken before evidence was kept, else only on the same evidence."""
        return self.status != "pending" and (not self.evidence or self.evidence == evidence)

    def same_filing(self, other: ReviewItem) -> bool:
        """Whether ``other`` is this very item, all of it (status, evidence, times, score, who and
        why): what the conditional writes (``requeue_review``, ``drop_reviews_as_read``) compare, so
        that a loop retrying one stops once another writer changed the item."""
        return self.as_dict() == other.as_dict()

    def stored_json(self) -> str:
        """The text a store holds for this item: as read (``read_as``), else as written now."""
        return self.read_as or json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pair": self.pair_id,
            "records": [self.a, self.b],
            "status": self.status,
            "decision": dict(self.decision),
            "model": self.model,
            "created_at": self.created_at.isoformat(),
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "note": self.note,
            "evidence": self.evidence,
        }

    @classmethod
    def from_json(cls, text: str) -> ReviewItem:
        """The item a store holds as ``text``, which it keeps (``read_as``)."""
        item = cls.from_dict(json.loads(text))
        object.__setattr__(item, "read_as", text)
        return item

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReviewItem:
        a, b = data["records"]
        return cls(
            a=a,
            b=b,
            status=data["status"],
            decision=data.get("decision") or {},
            model=data.get("model", ""),
            created_at=datetime.fromisoformat(data["created_at"]),
            decided_by=data.get("decided_by"),
            decided_at=datetime.fromisoformat(data["decided_at"]) if data.get("decided_at") else None,
            note=data.get("note", ""),
            evidence=data.get("evidence") or "",
        )


def pair_evidence(a_match: str, b_match: str) -> str:
    """What a decision on a pair is taken on: 128 bits of BLAKE2b of the match documents
    (``match_document``) of its two records, in the pair's order (``a`` the smaller key)."""
    return hashlib.blake2b(f"{a_match}\x00{b_match}".encode(), digest_size=16).hexdigest()


def review_pair_id(a: str, b: str) -> str:
    """The id of the review item of a pair, whatever the order: 128 bits of BLAKE2b, hex."""
    first, second = sorted((a, b))
    return hashlib.blake2b(f"{first}\x00{second}".encode(), digest_size=16).hexdigest()


@runtime_checkable
class LinkIndex(Protocol):
    """The index a store keeps for probabilistic identity (see the module docstring)."""

    def get_blocks(self, keys: Sequence[str], *, members_only: bool = False) -> dict[str, BlockState]:
        """The stored state of each key (plain keys, as ``blocking_keys`` gives them); keys never
        written are absent. ``members_only``: each key's members and whether it is overloaded, its
        child objects and places left empty (a read that needs no more: core.link_recheck's; the
        DynamoDB store reads only those attributes)."""
        ...

    def update_blocks(self, changes: Sequence[BlockChange]) -> None:
        """Apply the adds and removals; a key whose members would pass its limit becomes overloaded."""
        ...

    def drop_blocks_as_read(self, states: Sequence[BlockState]) -> list[str]:
        """Delete each key's item whole (overloaded or not) only while it holds what was read
        (``states``: whether overloaded, its members and its child objects): an overloaded write-ahead
        entry (core.link_filed), which no removal of members empties. A key another writer dropped
        and wrote afresh, or changed, since it was read stays. Returns the keys deleted (a key gone
        already is not)."""
        ...

    def get_reviews(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ReviewItem]:
        """The review items of the pairs (each given sorted), where they exist."""
        ...

    def put_reviews(self, items: Sequence[ReviewItem]) -> None:
        """Create the items that do not exist yet; an existing item (a decision) is never overwritten."""
        ...

    def decide_review(self, item: ReviewItem, read: ReviewItem | None = None) -> bool:
        """Store a person's decision (``item.status`` accepted or rejected) over the pair's item.
        Writes only over an existing item: False, writing nothing, when the pair has none (its
        records were erased since it was read: core.link_review refuses the decision then); with
        ``read``, only while the pair's item is still the item read (as ``requeue_review``
        compares it): False, writing nothing, when an ingest scored the pair again meanwhile or
        another person decided it. The decision is not dropped for that: core.link_review
        ``decide`` reads the item again and, while the records still hold what it was taken on,
        writes it over the newer item in its next round (the last writer wins: a valid order, as
        if the two decisions had been taken one after the other)."""
        ...

    def requeue_review(self, decided: ReviewItem, pending: ReviewItem) -> bool:
        """Replace a person's decision, as read (``decided``), with a pending item of the same pair
        (``pending``): the records changed since it was taken (core.link_plan). Writes only while
        the pair's item is still the item read (all of it: status, evidence, times, score); False,
        writing nothing, when it is gone or was decided again meanwhile (the newer decision stays).
        core.link_review_apply also puts a decision back over the pending item it wrote itself
        (``decided`` pending then), and ingest writes a pending item scored again over the one it
        read (core.link_review_index ``review_filing``): another filing or decision written
        meanwhile stays."""
        ...

    def drop_reviews(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Delete the review items of the pairs, whatever they hold (an erasure)."""
        ...

    def drop_reviews_as_read(self, items: Sequence[ReviewItem]) -> list[tuple[str, str]]:
        """Delete each pair's item only while it is still the item read (``items``, as
        ``requeue_review`` compares them): a pending pair no longer in doubt leaves the queue, a
        decision taken meanwhile stays. Returns the pairs deleted."""
        ...

    def pending_reviews(self, limit: int = 1000) -> list[ReviewItem]:
        """Pending review items, oldest first, at most ``limit``."""
        ...

    def review_by_id(self, pair_id: str) -> ReviewItem | None:
        """The review item whose ``pair_id`` this is (pending or decided), or None: how a person's
        decision names the pair ``pending_reviews`` listed (core.link_review)."""
        ...


def match_document(record: SourceRecord) -> str:
    """What the matcher reads of a record, as the compact JSON the ``match`` attribute holds: the
    traits it compares, the emails and the phones (``fields_from_match`` reads it back).

    Kept in the record's ``__dict__`` (``model_copy`` drops it): ingest makes it for the candidate
    cache (core.link_scope) and again for the record's identifier item."""
    memo = record.__dict__.get("_match_document")
    if memo is not None:
        return str(memo)
    document = _match_document(record)
    record.__dict__["_match_document"] = document
    return document


def _match_document(record: SourceRecord) -> str:
    matched = _matched()
    traits = {name: value for name, value in record.traits.items() if name in matched}
    data: dict[str, Any] = {"t": traits}
    emails = [i.value for i in record.identifiers if i.kind == "email"]
    phones = [i.value for i in record.identifiers if i.kind == "phone"]
    if emails:
        data["e"] = emails
    if phones:
        data["p"] = phones
    if record.level != "person":
        data["c"] = record.owner or ""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True, slots=True)
class MatchFields:
    """A ``match`` attribute read back: traits, emails, phones, and for a child object its owner."""

    traits: dict[str, str]
    emails: list[str]
    phones: list[str]
    child: bool = False
    owner: str = ""


def fields_from_match(document: str) -> MatchFields:
    """The fields of a ``match`` attribute (``match_document``)."""
    data = json.loads(document)
    return MatchFields(
        dict(data.get("t", {})),
        list(data.get("e", [])),
        list(data.get("p", [])),
        "c" in data,
        str(data.get("c") or ""),
    )


def changes_for(
    old: Mapping[str, Iterable[str]],
    new: Mapping[str, Iterable[str]],
    limits: Mapping[str, int],
    children: Collection[str] = (),
    orders: Mapping[str, Mapping[str, str]] | None = None,
    old_orders: Mapping[str, Mapping[str, str]] | None = None,
) -> list[BlockChange]:
    """The index changes that move records from the keys in ``old`` to the keys in ``new`` (each maps a
    source key to its index keys); ``limits`` gives the limit of each key's kind (``id`` or ``block``);
    the records in ``children`` are child objects (filed apart, see ``BlockChange``). ``orders``: each
    new version's place in the order of its blocking keys (source key -> index key -> order string),
    filed with it; ``old_orders`` the old versions', so that a record whose place in a key it keeps
    changed is filed there again, and one whose place did not is not written."""
    # One entry per index key: the sources to add and remove, people and children apart. Built in
    # one pass, frozensets only where there is something (a batch files ~12 keys per record).
    slots: dict[str, list[set[str] | None]] = {}
    placed: dict[str, dict[str, str]] = {}
    new_orders: Mapping[str, Mapping[str, str]] = orders or {}
    was_ordered: Mapping[str, Mapping[str, str]] = old_orders or {}
    for record_key in set(old) | set(new):
        child = 2 if record_key in children else 0
        previous = old.get(record_key)
        now = new_orders.get(record_key, NO_ORDERS)
        if previous is None:  # a new record (most of a batch): every key is an add
            movements: tuple[tuple[Iterable[str], int], ...] = ((new.get(record_key, ()), 0),)
        else:
            before, after = set(previous), set(new.get(record_key, ()))
            added = after - before
            if now:
                then = was_ordered.get(record_key, NO_ORDERS)
                added |= {k for k in after & before if k in now and then.get(k) != now[k]}
            movements = ((added, 0), (before - after, 1))
        for moved, offset in movements:
            for key in moved:
                slot = slots.get(key)
                if slot is None:
                    slot = slots[key] = [None, None, None, None]
                held = slot[child + offset]
                if held is None:
                    slot[child + offset] = {record_key}
                else:
                    held.add(record_key)
                if offset == 0 and key in now:
                    placed.setdefault(key, {})[record_key] = now[key]
    block_limit, id_limit, children_limit = limits["block"], limits["id"], limits.get("children", 2000)
    empty: frozenset[str] = frozenset()
    # ``tuple.__new__`` with every field given: what ``BlockChange(...)`` does, without the named
    # tuple's Python-level ``__new__`` (half the cost of a change, and a batch makes ~1,200).
    make = tuple.__new__
    return [
        make(
            BlockChange,
            (
                key,
                frozenset(add) if (add := slot[0]) else empty,
                frozenset(remove) if (remove := slot[1]) else empty,
                id_limit if key.startswith("id:") else block_limit,
                frozenset(add_children) if (add_children := slot[2]) else empty,
                frozenset(remove_children) if (remove_children := slot[3]) else empty,
                children_limit,
                placed.get(key, NO_ORDERS),
            ),
        )
        for key, slot in sorted(slots.items())
    ]
