"""Which review items a record is part of, so that none outlives its pair or its record.

A ``REVIEW#`` item (core.link_index) is found by its pair. Two promises need it found by one of its
records instead:

- **Erased stays erased.** Erasing a record drops every review item naming it, whoever the other
  record is now: a namesake who has since married and moved shares no blocking key with her any
  more, so the members of her keys no longer lead to the item.
- **The queue holds what is still in doubt.** A pending item whose pair no longer scores between
  the thresholds (one record changed: another name, address or birth date; or it now links, or a
  shared identifier joins them) leaves the queue when either record is ingested again. A person's
  decision (accepted, rejected) is kept: it is replayed whenever the pair is decided again, while
  the records hold what they held when it was taken (``ReviewItem.evidence``); once either record
  changes, the pair is scored as if undecided, and when it is in doubt again the decision's item
  becomes pending (``file_reviews``), so that a person decides on the records as they are now.

Each record with review items has an index entry ``rv:<record key>`` (a ``BLOCK#`` item like the
blocking keys, its key hashed by ``block_item_key``) listing the other record of each of its pairs.
It is written with the items, read with the batch's own index keys (no request of its own), and
emptied with them. Past ``PARTNERS_LIMIT`` partners the entry is overloaded and lists none; erasure
then still finds the pairs among the members of the record's blocking keys, as it always did.
Pure over the ``LinkIndex`` port: no I/O of its own.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Final

from core.link_index import BlockChange, BlockState, LinkIndex, ReviewItem

__all__ = [
    "PARTNERS_LIMIT",
    "PARTNERS_PREFIX",
    "drop_review_pairs",
    "drop_stale_pending",
    "file_review_pairs",
    "file_reviews",
    "partners_key",
    "review_pairs",
    "settle_reviews",
]

#: The index key prefix of a record's review partners (never a blocking key or an ``id:`` value).
PARTNERS_PREFIX: Final = "rv:"
#: Partners one record's entry lists at most (a dense block of namesakes gives a record dozens;
#: 2,000 source keys stay far below DynamoDB's 400 KB item).
PARTNERS_LIMIT: Final = 2000

Pair = tuple[str, str]


def partners_key(record_key: str) -> str:
    """The index key listing the review partners of ``record_key``."""
    return PARTNERS_PREFIX + record_key


def _changes(pairs: Iterable[Pair], *, remove: bool) -> list[BlockChange]:
    moved: dict[str, set[str]] = {}
    for a, b in pairs:
        moved.setdefault(partners_key(a), set()).add(b)
        moved.setdefault(partners_key(b), set()).add(a)
    if remove:
        return [
            BlockChange(key, remove=frozenset(keys), limit=PARTNERS_LIMIT)
            for key, keys in sorted(moved.items())
        ]
    return [
        BlockChange(key, add=frozenset(keys), limit=PARTNERS_LIMIT) for key, keys in sorted(moved.items())
    ]


def file_review_pairs(index: LinkIndex, pairs: Collection[Pair]) -> None:
    """List each pair under both of its records (written before the items: an entry without its item
    is skipped when read, an item without its entry could outlive an erasure)."""
    if pairs:
        index.update_blocks(_changes(pairs, remove=False))


def file_reviews(
    index: LinkIndex, items: Collection[ReviewItem], outdated: Mapping[Pair, ReviewItem]
) -> None:
    """Write a plan's pending items: a new pair's is created (an existing item stays); a pair in
    ``outdated`` (a decision read, taken on other versions of its records) has its decision replaced
    by it, unless a person decided the pair again since it was read (``requeue_review``)."""
    index.put_reviews([item for item in items if (item.a, item.b) not in outdated])
    for item in items:
        decided = outdated.get((item.a, item.b))
        if decided is not None:
            index.requeue_review(decided, item)


def review_pairs(states: Mapping[str, BlockState], record_keys: Iterable[str]) -> set[Pair]:
    """The pairs (sorted) the read entries list for the records; ``states``: ``get_blocks`` of (at
    least) their ``partners_key``s."""
    out: set[Pair] = set()
    for key in record_keys:
        state = states.get(partners_key(key))
        if state is not None:
            out.update((key, other) if key < other else (other, key) for other in state.members)
    return out


def drop_review_pairs(index: LinkIndex, pairs: Collection[Pair]) -> int:
    """Drop the review items of the pairs, whatever their status, and the pairs from both records'
    entries (an erasure). Returns how many items there were."""
    if not pairs:
        return 0
    ordered = sorted(pairs)
    found = index.get_reviews(ordered)
    if found:
        index.drop_reviews(sorted(found))
    index.update_blocks(_changes(ordered, remove=True))
    return len(found)


def drop_stale_pending(index: LinkIndex, listed: Collection[Pair], in_doubt: Collection[Pair]) -> list[Pair]:
    """Drop the pending items among the ``listed`` pairs (those of a batch's records) that are no
    longer ``in_doubt`` (the pairs the batch's graph sends to review), and their entries; decided
    items stay. Returns the pairs dropped."""
    stale = sorted(set(listed) - set(in_doubt))
    if not stale:
        return []
    found = index.get_reviews(stale)
    pending = [pair for pair in stale if pair in found and found[pair].status == "pending"]
    if pending:
        index.drop_reviews(pending)
        # An entry with no item yet stays: another writer may be about to commit it.
        index.update_blocks(_changes(pending, remove=True))
    return pending


def settle_reviews(
    index: LinkIndex,
    batch: Collection[str],
    in_doubt: Collection[Pair],
    new: Collection[Pair],
    read: Mapping[str, BlockState] | None = None,
) -> list[Pair]:
    """After a batch's graph: drop the pending items of the batch's records that are no longer
    ``in_doubt`` (``drop_stale_pending``), and list the ``new`` pairs (the items the plan creates)
    under their records. ``read``: the batch's entries as already read with its other index keys
    (an entry never written is absent); None reads them. Returns the pairs dropped."""
    listed: set[Pair] = set()
    if batch:
        keys = sorted(batch)
        states = read if read is not None else index.get_blocks([partners_key(k) for k in keys])
        listed = review_pairs(states, keys)
    dropped = drop_stale_pending(index, listed, in_doubt)
    file_review_pairs(index, sorted(set(new) - listed))
    return dropped
