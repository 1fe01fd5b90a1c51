"""After a linked commit: the records another writer filed under the batch's keys since the batch
read them, joined if they match.

Ingest files a batch's records, reads their keys, plans and commits (core.link_plan). A candidate
read filed but not stored is skipped: a filing killed before its commit looks the same, and joining
to it would join to a record that may never be stored. So two writers with records of one person,
each reading before the other's commit, would each found a customer: the one whose read came second
finds the other's record filed but not stored, and the other read before that record was filed.

The committing writer reads its batch's keys once more after its commit. Of the two, the one that
commits second finds the other's record there, stored, where its read found it missing or not
stored: its filing is before the second writer's read (or that read would have missed it), and
its commit before the second writer's commit, so before that writer's read back. The customers
holding such records are planned again with the batch's (core.link_relink ``relink_customers``):
the merges the graph asks for are done there. A record still not stored joins nobody, so a filing
killed before its commit never joins anybody (and its own writer, delivered again, files and reads
anew).

Cost: one read of the batch's own index keys per committed round (one store call; on DynamoDB a
consistent BatchGetItem per 100 keys, of each key's members and overloaded flag only, though its
capacity is counted by whole items), and only when another writer filed under them meanwhile, a
read of those records' owners and the planning again. Skipped, with the members read kept for it
(``ReadBack``), on a store that counts its writes (core.link_changes: the in-memory and SQLite
stores) when nobody but this writer wrote since the mark taken before the batch's read: only
another writer's filing or commit can put a record there that the read did not see stored.
Run after the batch's review items and splits: losing its race every attempt, it raises
ConflictError, which ingest counts (``IngestResult.unjoined``) rather than fail a batch whose records
are stored.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from typing import TYPE_CHECKING

from core.errors import ConflictError
from core.link_changes import ChangeMark, CountsChanges
from core.link_index import LinkIndex
from core.ports import ProfileStore

if TYPE_CHECKING:
    from core.ingest_settings import IngestSettings

__all__ = ["ReadBack", "filed_since_read", "join_filed_since", "mark_before_read", "nobody_else_wrote"]


class ReadBack(Mapping[str, frozenset[str]]):
    """The batch's keys and the stored members read under each (core.link_plan ``_read_back``),
    worked out when first asked: a re-check skipped because nobody else wrote asks nothing. True
    when the batch has keys (the mapping may still turn out empty: then nothing is read again)."""

    __slots__ = ("_keys", "_made", "_make")

    def __init__(self, make: Callable[[], dict[str, frozenset[str]]], keys: bool) -> None:
        self._make: Callable[[], dict[str, frozenset[str]]] | None = make
        self._made: dict[str, frozenset[str]] | None = None
        self._keys = keys

    def _get(self) -> dict[str, frozenset[str]]:
        if self._made is None:
            assert self._make is not None
            self._made, self._make = self._make(), None  # the scope it reads is let go
        return self._made

    def __getitem__(self, key: str) -> frozenset[str]:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __bool__(self) -> bool:
        return self._keys if self._made is None else bool(self._made)


def mark_before_read(store: ProfileStore) -> ChangeMark | None:
    """Where the store's writes stand, taken before a batch reads its keys (core.link_changes);
    None: the store cannot tell (DynamoDB), so the re-check runs."""
    return store.change_mark() if isinstance(store, CountsChanges) else None


def nobody_else_wrote(store: ProfileStore, mark: ChangeMark | None) -> bool:
    """Whether no writer but this one wrote to the store since ``mark``: then no record was filed
    under the batch's keys, nor stored, after its read, and reading them again finds nothing."""
    return mark is not None and isinstance(store, CountsChanges) and not store.changed_by_others(mark)


def filed_since_read(
    store: ProfileStore, read_back: Mapping[str, frozenset[str]], batch: Collection[str]
) -> set[str]:
    """The customers holding records filed under the keys of ``read_back`` that were not there,
    or not stored, when the keys were read (``read_back``: each key's stored members then); the
    records of ``batch`` left out."""
    if not read_back or not isinstance(store, LinkIndex):
        return set()
    new: set[str] = set()
    for key, state in store.get_blocks(sorted(read_back), members_only=True).items():
        members, read = state.members, read_back[key]
        if members is not read and members:  # the same set: the key is as read (the in-memory store)
            new.update(members.difference(read))
    new.difference_update(batch)
    if not new:
        return set()
    owners = store.get_owners([f"source#{k}" for k in sorted(new)])
    return {owner.customer_id for owner in owners.values()}


def join_filed_since(
    store: ProfileStore,
    read_back: Mapping[str, frozenset[str]],
    batch: Collection[str],
    customers: Collection[str],
    settings: IngestSettings,
    back_off: Callable[[IngestSettings, int], None],
    mark: ChangeMark | None = None,
) -> list[str]:
    """Plan ``customers`` (the batch's, just committed) again with the customers of the records
    ``filed_since_read`` finds, when there are any not among them; the customers merged away. A
    lost race is planned again (``back_off`` between), up to ``settings.max_attempts`` rounds.
    ``mark``: taken before the batch's read (``mark_before_read``); when nobody else wrote since,
    nothing is read again."""
    if nobody_else_wrote(store, mark):
        return []
    others = filed_since_read(store, read_back, batch) - set(customers)
    if not others:
        return []
    from core.link_relink import relink_customers  # the planning again: rare (another writer filed)

    attempt = 0
    while True:
        try:
            return relink_customers(store, {*customers, *others}, settings).merged
        except ConflictError:
            attempt += 1
            if attempt >= settings.max_attempts:
                raise
            back_off(settings, attempt)
