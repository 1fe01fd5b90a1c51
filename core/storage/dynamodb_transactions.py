"""Packing changesets into ``TransactWriteItems`` requests that DynamoDB accepts.

DynamoDB rejects a whole transaction, with a ``ValidationException`` and no per-item reason, when it
holds more than 100 items, more than 4 MB, or two operations on one item
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html). The
store packs several small changesets into one transaction to keep requests per record low, so it
must never put two that touch one item together, nor exceed either size. A changeset that alone
breaks a limit is the data's fault, not the service's: ``RecordRejectedError`` says which.

Pure: works on the request entries the store built (``{"Put": {...}}`` and the like), no client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from core.errors import RecordRejectedError
from core.ports import Changeset
from core.storage import profile_packing
from core.storage.ident_keys import KEY_MAX_BYTES, legacy_fits

#: TransactWriteItems' aggregate size limit; the estimate below counts attribute names and values
#: the way DynamoDB sizes items (UTF-8 bytes), so a margin covers the request's own framing.
TRANSACTION_MAX_BYTES: Final = 4 * 1024 * 1024
_MARGIN: Final = 64 * 1024
#: What the estimate of one transaction may reach (the SQLite store holds its changesets to it too).
TRANSACTION_BUDGET_BYTES: Final = TRANSACTION_MAX_BYTES - _MARGIN

Entry = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A changeset with its request entries, the items they touch and their estimated size."""

    changeset: Changeset
    entries: list[Entry]
    items: frozenset[tuple[str, str, str]]
    size: int
    oversized: RecordRejectedError | None = None
    """An item over ``profile_packing.ITEM_MAX_BYTES``: the store refuses the changeset as DynamoDB
    would (``ValidationException``), after writing the others it was packed with."""


def prepare(changeset: Changeset, entries: list[Entry], max_items: int) -> Prepared:
    """Check that ``changeset`` (as ``entries``) can be one transaction on its own, or raise: more
    than ``max_items`` operations is a planning error (ValueError), two on one item or over 4 MB
    is ``RecordRejectedError``."""
    if len(entries) > max_items:
        raise ValueError(
            f"changeset {changeset.label!r} has {len(entries)} operations, more than one "
            f"transaction holds ({max_items}); split it before committing"
        )
    keys = [item_key(entry) for entry in entries]
    items = frozenset(keys)
    if len(items) != len(keys):
        twice = sorted({k for k in keys if keys.count(k) > 1})[0]
        raise RecordRejectedError(
            f"changeset {changeset.label!r} writes the item {twice[1]} / {twice[2]} twice; DynamoDB "
            "takes one operation per item in a transaction (a planning bug: report it)"
        )
    size = 0
    oversized = None
    for entry in entries:
        weight = entry_bytes(entry)
        size += weight
        if weight > profile_packing.ITEM_MAX_BYTES and "Put" in entry:  # the entry holds the item
            oversized = oversized or _oversized(changeset, entry["Put"]["Item"])
        if "Put" in entry and "ident" in entry["Put"]["Item"]:
            oversized = oversized or _long_identifier(changeset, entry["Put"]["Item"]["ident"]["S"])
    if size > TRANSACTION_BUDGET_BYTES:
        raise too_large(changeset, size)
    return Prepared(changeset, entries, items, size, oversized)


def _oversized(changeset: Changeset, item: Mapping[str, Any]) -> RecordRejectedError | None:
    """The refusal of an item over ``profile_packing.ITEM_MAX_BYTES``, as the SQLite and in-memory
    stores refuse it (core.storage.sqlite_commit): DynamoDB would refuse it too, but a test lowers
    the limit, and the three stores then refuse the same customers."""
    limit = profile_packing.ITEM_MAX_BYTES
    size = item_size(item)
    if size <= limit:
        return None
    return RecordRejectedError(
        f"changeset {changeset.label!r} writes {_text(item.get('PK'))} / {_text(item.get('SK'))} of "
        f"about {size // 1024:,} KB, over the {limit // 1024:,} KB one item holds; the customer's "
        "records are too large to store together"
    )


def _long_identifier(changeset: Changeset, key: str) -> RecordRejectedError | None:
    """An identifier's items are keyed by its hash now (core.storage.ident_keys), which always fits;
    one whose ``IDENT#<key>`` is over DynamoDB's longest partition key is still refused, as the SQLite
    and in-memory stores refuse it (core.storage.sqlite_commit)."""
    if legacy_fits(key):
        return None
    return RecordRejectedError(
        f"changeset {changeset.label!r} writes an identifier ({key.partition('#')[0]}) longer than the "
        f"{KEY_MAX_BYTES:,} bytes every store takes"
    )


def too_large(changeset: Changeset, size: int) -> RecordRejectedError:
    """The error of a changeset writing ``size`` bytes, over what one transaction holds (every store
    refuses it alike: DynamoDB, SQLite, in-memory)."""
    return RecordRejectedError(
        f"changeset {changeset.label!r} writes about {size // 1024:,} KB, over the 4 MB one "
        "transaction holds; the customer's records are too large to store together"
    )


def next_batch(queue: list[Prepared], max_items: int) -> list[Prepared]:
    """Take the changesets of the next transaction off the front of ``queue``, in order: as many as
    fit ``max_items`` and 4 MB without two touching one item (the first always fits: ``prepare``)."""
    batch: list[Prepared] = []
    count = size = 0
    touched: set[tuple[str, str, str]] = set()
    while queue:
        head = queue[0]
        if batch and (
            count + len(head.entries) > max_items
            or size + head.size > TRANSACTION_MAX_BYTES - _MARGIN
            or not touched.isdisjoint(head.items)
        ):
            break
        batch.append(queue.pop(0))
        count += len(head.entries)
        size += head.size
        touched |= head.items
    return batch


def item_key(entry: Mapping[str, Any]) -> tuple[str, str, str]:
    """(table, PK, SK) of the item a request entry writes."""
    op = next(iter(entry.values()))
    key = op.get("Item") or op.get("Key") or {}
    return (op.get("TableName", ""), _text(key.get("PK")), _text(key.get("SK")))


def entry_bytes(entry: Mapping[str, Any]) -> int:
    """An upper estimate of an entry's size in bytes: every attribute name and value, UTF-8."""
    return _size(entry)


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size by DynamoDB's rule, which takes an item of exactly the limit: each attribute's
    name and value, UTF-8, a binary value's raw bytes, and a number about one byte per two
    significant digits and one more; the type descriptors (``S``, ``B``, ``N``) weigh nothing, as
    ``_size`` (the transaction's upper estimate) counts them."""
    return sum(_size(name) + _value_size(value) for name, value in item.items())


def _value_size(value: Mapping[str, Any]) -> int:
    ((kind, held),) = value.items()
    if kind == "N":
        digits = held.lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind in ("M", "L"):  # 3 bytes of the container and 1 an element, besides the elements
        inner = held.items() if kind == "M" else ((None, v) for v in held)
        return 3 + sum(1 + (_size(k) if k else 0) + _value_size(v) for k, v in inner)
    if kind in ("BOOL", "NULL"):
        return 1
    return _size(held)  # S and B, and the sets of them (the sum of their members)


def _text(value: Any) -> str:
    return str(value.get("S", "")) if isinstance(value, Mapping) else ""


def _size(value: Any) -> int:
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes | bytearray):
        return len(value)  # a binary attribute (a packed profile: core.storage.profile_packing)
    if isinstance(value, Mapping):
        return sum(_size(k) + _size(v) for k, v in value.items())
    if isinstance(value, Sequence):
        return sum(_size(v) for v in value)
    return 8


__all__ = [
    "TRANSACTION_BUDGET_BYTES",
    "TRANSACTION_MAX_BYTES",
    "Prepared",
    "entry_bytes",
    "item_key",
    "next_batch",
    "prepare",
]
