"""Which review items a record is part of, so that none outlives its pair or its record.

A ``REVIEW#`` item (core.link_index) is found by its pair. Two promises need it found by one of its
records instead:

- **Erased stays erased.** Erasing a record drops every review item naming it, whoever the other
  record is now: a namesake who has since married and moved shares no blocking key with her any
  more, so the members of her keys no longer lead to the item.
- **The queue holds what is still in doubt.** A pending item whose pair no longer scores between
  the thresholds (one record changed: another name, address or birth date; or it now links, or a
  shared identifier joins them) leaves the queue when either record is ingested again, and one still
  in doubt shows the score it has now (a record changed, the model retrained). A person's
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

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from core.link_index import BlockChange, BlockState, LinkIndex, ReviewItem

__all__ = [
    "PARTNERS_LIMIT",
    "PARTNERS_PREFIX",
    "drop_review_pairs",
    "drop_stale_pending",
    "file_review_pairs",
    "file_reviews",
    "partners_key",
    "review_filing",
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


def review_filing(
    pair: Pair,
    decision: Mapping[str, Any],
    model: str,
    now: datetime,
    stored: ReviewItem | None,
    outdated: ReviewItem | None,
) -> tuple[ReviewItem, ReviewItem | None] | None:
    """What a plan files for a pair in doubt that the matcher scored ``decision`` (``Decision.as_dict``)
    with ``model``: (the pending item, the item read it replaces), or None when the item read
    (``stored``) stands. A new pair's item is created; a decision taken on other versions of the
    records (``outdated``) becomes pending; a pending item scored otherwise now (a record changed,
    the model retrained) takes the new score and reasons, waiting since it was first filed. A
    decision that holds, or a pending item scored the same (its JSON read back), is not written."""
    if outdated is not None:
        return ReviewItem(*pair, "pending", decision, model, now), outdated
    if stored is None:
        return ReviewItem(*pair, "pending", decision, model, now), None
    if stored.status != "pending" or (stored.model, _json(stored.decision)) == (model, _json(decision)):
        return None
    return replace(stored, decision=decision, model=model), stored


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def file_reviews(
    index: LinkIndex, items: Collection[ReviewItem], outdated: Mapping[Pair, ReviewItem]
) -> None:
    """Write a plan's pending items: a new pair's is created (an existing item stays); a pair in
    ``outdated`` (an item read: a decision taken on other versions of its records, or a pending item
    scored otherwise now, ``review_filing``) has it replaced, unless a person decided the pair, or another
    ingest scored it, since it was read (``requeue_review``)."""
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
    # Only the pending items as read: a person deciding one meanwhile keeps the decision.
    pending = index.drop_reviews_as_read(
        [found[p] for p in stale if p in found and found[p].status == "pending"]
    )
    if pending:
        # An entry with no item yet stays: another writer may be about to commit it.
        index.update_blocks(_changes(pending, remove=True))
    return sorted(pending)


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
