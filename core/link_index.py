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
(tests/integration/store_port). What it carries is defined beside it and importable from here:
the keys and their changes in core.link_blocks, the review items in core.link_review_item, the
match documents in core.link_match. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from core.link_blocks import NO_ORDERS as NO_ORDERS
from core.link_blocks import BlockChange, BlockState, block_item_key, changes_for
from core.link_match import MatchFields, fields_from_match, match_document
from core.link_review_item import ReviewItem, ReviewStatus, pair_evidence, review_pair_id

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


@runtime_checkable
class LinkIndex(Protocol):
    """The index a store keeps for probabilistic identity (see the module docstring)."""

    def get_blocks(self, keys: Sequence[str], *, members_only: bool = False) -> dict[str, BlockState]:
        """The stored state of each key (plain keys, as ``blocking_keys`` gives them), in the order
        the keys were first asked (a key asked twice comes once); keys never written are absent.
        ``members_only``: each key's members and whether it is overloaded, its child objects and
        places left empty (a read that needs no more: core.link_recheck's; the DynamoDB store reads
        only those attributes)."""
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
