"""DynamoDB's item and transaction limits, held by the in-memory store as by the others.

DynamoDB refuses an item over 400 KB, a partition key over 2,048 bytes or a sort key over 1,024,
and a transaction over 4 MB; the SQLite store sizes every item it writes that way
(core.storage.sqlite_commit). The in-memory store let a customer whose profile passed 400 KB
through, which then failed on DynamoDB only: the store port suite runs the same test on all three.

Serialising every item of every commit would cost the in-memory store, which the benchmarks run on,
a seventh of its time. So a changeset is first weighed from what is at hand: a profile and a
record by the bytes ``profile_hash`` and ``record_hash`` serialised when ingest planned them
(``HASHED_BYTES_MEMO``, or the record's JSON kept by a resolve worker), with room for the fields
left out of the hash; an identifier item by its texts; a history event by its texts four bytes a
character. Only a changeset that, so weighed, may pass a limit is sized exactly, item by item, as
the SQLite store sizes its rows (``_item_bytes``): so the refusals are the SQLite store's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from core.governance.history import HistoryEvent
from core.merge import HASHED_BYTES_MEMO
from core.ports import Changeset, PutHistory, PutHolder, PutIdent, PutProfile, PutSource, Tombstone
from core.record_json import RECORD_JSON_MEMO
from core.schema import SourceRecord

# The one rule of what an item weighs and when DynamoDB refuses it: the SQLite store's.
from core.storage import profile_packing
from core.storage.dynamodb_transactions import TRANSACTION_BUDGET_BYTES, too_large
from core.storage.sqlite_commit import (
    SORT_KEY_MAX_BYTES,
    ItemPut,
    _item_bytes,
    _utf8_len,
    row_of,
)

__all__ = ["check_changeset"]

#: An item's attribute names and the 8 bytes of each value that is not text, with room to spare.
_ITEM_OVERHEAD: Final = 128
#: What a record's JSON holds beyond the bytes its hash was taken over: ``updated_at``, ``read_at``,
#: a person's ``level``, ``owner`` and ``order_summary``; and per consent decision, its time and
#: its ``dated_by_record`` mark.
_UNHASHED: Final = 256
_UNHASHED_PER_CONSENT: Final = 96
#: And per time of a marked decision's run (core.consent_carry: ``contrary_at``, each of ``run_at``):
#: an ISO time at another offset, quoted, with its key's share (``,"contrary_at":``).
_UNHASHED_PER_RUN_TIME: Final = 56
#: A profile's JSON beyond its hashed body: the customer id and the version around it.
_PROFILE_FRAME: Final = 64
#: A partition or sort key this short cannot be too long, whatever its characters (4 bytes each).
_SHORT_KEY: Final = SORT_KEY_MAX_BYTES // 4


def check_changeset(changeset: Changeset) -> None:
    """``RecordRejectedError`` when DynamoDB would refuse the changeset: an item over 400 KB or with
    a key too long, or more than one transaction holds."""
    total = 0
    bounds = _BOUNDS
    limit = profile_packing.ITEM_MAX_BYTES  # read here: a test lowers it
    for op in changeset.operations:
        bound = bounds.get(type(op))
        weight = 0 if bound is None else bound(op)
        if weight is None or weight > limit:
            break
        total += weight
    else:
        if total <= TRANSACTION_BUDGET_BYTES:
            return
    _check_exactly(changeset)


# What each item weighs at the most; None when one of its keys may be too long, or nothing at hand
# weighs it. Looked up by the operation's exact type, as the store applies them; the others put no item.


def _ident(op: PutIdent) -> int | None:
    keys = _keys(op.key, "")
    texts = (op.record_hash or "", op.customer_id, op.match or "", op.run or "")
    return None if keys is None else keys + 64 + sum(map(_utf8_len, texts))  # 64: its time


def _source(op: PutSource) -> int | None:
    keys, data = _keys(op.customer_id, op.record.key), _record_bytes(op.record)
    return None if keys is None or data is None else keys + data


def _profile(op: PutProfile) -> int | None:
    keys, hashed = _keys(op.customer_id, ""), op.profile.__dict__.get(HASHED_BYTES_MEMO)
    if keys is None or hashed is None:
        return None
    mark = 0 if op.add_only is None else 16 + 6 * len(op.add_only)  # "add_only", escaped
    return keys + int(hashed) + _PROFILE_FRAME + _names_bound((*op.owned, *op.absorbing)) + mark


def _holder(op: PutHolder) -> int | None:
    return _keys(op.key, op.customer_id)


def _history(op: PutHistory) -> int | None:
    keys = _keys(op.event.customer_id, "")
    return None if keys is None else keys + _event_bound(op.event)


def _tombstone(op: Tombstone) -> int | None:
    return _keys(op.customer_id, op.merged_into)


_BOUNDS: Final[dict[type, Callable[[Any], int | None]]] = {
    PutIdent: _ident,
    PutSource: _source,
    PutProfile: _profile,
    PutHolder: _holder,
    PutHistory: _history,
    Tombstone: _tombstone,
}


def _keys(partition: str, sort: str) -> int | None:
    """An item's keys weighed, with its attribute names and the values that are no text; None when
    one may be too long."""
    if len(partition) > _SHORT_KEY or len(sort) > _SHORT_KEY:
        return None
    return _ITEM_OVERHEAD + 4 * (len(partition) + len(sort))


def _record_bytes(record: SourceRecord) -> int | None:
    kept = record.__dict__
    text = kept.get(RECORD_JSON_MEMO)
    if text is not None:
        return _utf8_len(str(text))
    hashed = kept.get(HASHED_BYTES_MEMO)
    if hashed is None:
        return None
    runs = sum(len(c.run_at) + (c.contrary_at is not None) for c in record.consent.values())
    return (
        int(hashed) + _UNHASHED + _UNHASHED_PER_CONSENT * len(record.consent) + _UNHASHED_PER_RUN_TIME * runs
    )


def _names_bound(names: tuple[str, ...]) -> int:
    """The profile's ``attrs``, ``json.dumps`` of the keys it owns (and absorbs): each quoted and
    parted by ``", "``; a character that is not printable ASCII escaped in at most 12 (a surrogate
    pair, ``\\ud83d\\ude00``), a quote or a backslash in 2."""
    text = "".join(names)
    chars = len(text) if text.isascii() and text.isprintable() else 12 * len(text)
    return 32 + chars + text.count('"') + text.count("\\") + 4 * len(names)


def _event_bound(event: HistoryEvent) -> int:
    """The event's JSON (pydantic's: UTF-8, a control character escaped in 6 bytes), its key, kind
    and time."""
    texts = (event.customer_id, event.event_id, event.actor, event.reason, event.inherited_from or "")
    lists = (event.source_keys, event.customers, event.identifiers, event.handed_over)
    chars = sum(map(len, texts)) + sum(len(s) + 3 for names in lists for s in names)
    return _ITEM_OVERHEAD + 512 + 6 * chars


def _check_exactly(changeset: Changeset) -> None:
    size = 0
    for op in changeset.operations:
        if isinstance(op, ItemPut):
            size += _item_bytes(changeset, row_of(op))
    if size > TRANSACTION_BUDGET_BYTES:
        raise too_large(changeset, size)
