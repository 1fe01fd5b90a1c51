"""Entries of the index of refused values (core.privacy_refused_index) whose record no longer holds the
value: taken out when the record changes, not left until the person their hash names is erased.

An entry (``REFUSED#<keyed hash>`` / ``source#<record key>``) is written before its record is stored
(``SuppressionCheck.split``). Before this module, a record retired at its vendor, or pulled again
without the value, left its entries: each a keyed hash beside a record id that no longer holds the
value, kept until that person's erasure. Now:

* a record **pulled again** without a value: once its new version is committed, the entries of its
  stored version that the new one does not give are deleted (``after_commit``, with the stored version
  the plan read, ``replaced_refused``);
* a record **retired** at its vendor: once its tombstone is written, its entries are deleted
  (``after_retirement``);
* a record **dropped as suppressed** by a round of an ingest (her erasure landed between an earlier
  round's suppression read and its write of the entries, and refused its commit): the entries that
  round wrote are deleted (``after_suppressed``);
* the upgrade's **backfill** deletes again, after its write, the entries of a page's records no longer
  stored (an erasure between its read and its write: ``put_while_stored``).

Why it cannot lose an entry a stored record needs. Every writer writes its records' entries before
its commit, so a deletion could fall between another writer's put and its commit (the same record
pulled twice at once, the second time with the value again). So (1) every writer writes its committed
records' entries again after its commit (``after_commit``: one more ``BatchWriteItem`` for a batch
holding refused values), and (2) a deletion is followed by a read of the records' ``source#`` items:
an entry deleted for a record whose stored version is no longer the one the deletion judged (another
writer committed since) is written back. Whatever order the two writers take, the last put of an
entry the stored version needs comes after the last deletion of it. The other way round, a process
killed between the commit and the deletion leaves the stale entry (as before this module: an entry
costs an erasure one customer read that finds nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from core.content_hash import record_hash
from core.ports import RETIRED_OWNER, CustomerState, ProfileStore
from core.privacy_refused_index import REGION, entries_of
from core.schema import SourceRecord

if TYPE_CHECKING:
    from core.storage.refused_index import Entry, RefusedIndex
    from core.suppression import SuppressionCheck


def replaced_refused(
    records: Iterable[SourceRecord], live: Mapping[str, CustomerState]
) -> dict[str, SourceRecord]:
    """The stored versions holding refused values of ``records`` (a batch's, read by its plan in the
    customers ``live``), by record key: what ``after_commit`` compares the new versions with."""
    keys = {r.key for r in records}
    return {
        key: snap
        for state in live.values()
        for key, snap in state.snapshots.items()
        if snap.dropped and key in keys
    }


def _index(check: SuppressionCheck | None) -> RefusedIndex | None:
    if check is None or not check.index_refused:
        return None
    from core.storage.refused_index import refused_index

    return refused_index(check.store)


def after_commit(
    store: ProfileStore,
    check: SuppressionCheck | None,
    written: Sequence[SourceRecord],
    replaced: Mapping[str, SourceRecord],
) -> int:
    """After ``written`` (the new versions a commit stored) were committed: their entries again, and
    the entries of the versions they replaced (``replaced``) that they do not give deleted. Returns
    the entries deleted (and not written back)."""
    index = _index(check)
    if index is None or check is None:
        return 0
    kept = [r for r in written if r.dropped]
    if kept:
        index.put(entries_of(kept, REGION, check.hash))
    now = {r.key: r for r in written}
    stale: list[Entry] = []
    for key in sorted(replaced.keys() & now.keys()):
        given = set(entries_of([now[key]], REGION, check.hash))
        stale.extend(e for e in entries_of([replaced[key]], REGION, check.hash) if e not in given)
    if not stale:
        return 0
    judged = {key: record_hash(record) for key, record in now.items()}
    # a record no longer stored (erased or retired since its commit) needs no entry: none goes back
    return _forget_checked(
        store, index, stale, lambda key, owner: owner not in (None, RETIRED_OWNER, judged.get(key))
    )


def after_retirement(
    store: ProfileStore, check: SuppressionCheck | None, retired: Sequence[SourceRecord]
) -> int:
    """After ``retired`` (the stored versions of records deleted at their vendor) were replaced by
    their tombstones: their entries deleted. Returns the entries deleted (and not written back)."""
    index = _index(check)
    if index is None or check is None:
        return 0
    stale = entries_of([r for r in retired if r.dropped], REGION, check.hash)
    if not stale:
        return 0
    # a record stored again since (re-created at its vendor) holds no tombstone: its entries stay
    return _forget_checked(store, index, stale, lambda _key, owner: owner != RETIRED_OWNER)


def after_suppressed(
    store: ProfileStore, check: SuppressionCheck | None, dropped: Sequence[SourceRecord]
) -> int:
    """After a batch's ``dropped`` records (an erased person's) were refused: the entries an earlier
    round of the same ingest wrote for them deleted. ``SuppressionCheck.split`` writes a batch's
    entries after its suppression read; an erasure in between finds none to delete, its suppression
    then refuses the commit, and the round planned again drops the record: its entries named her
    record under her address's hash after her erasure answered complete. An entry of a record still
    stored (another version of it, which may hold the value) is written back."""
    index = _index(check)
    if index is None or check is None:
        return 0
    entries = entries_of([r for r in dropped if r.dropped], REGION, check.hash)
    if not entries:
        return 0
    return _forget_checked(store, index, entries, lambda _key, owner: owner not in (None, RETIRED_OWNER))


def put_while_stored(store: ProfileStore, index: RefusedIndex, entries: Sequence[Entry]) -> int:
    """Write ``entries``, then delete those whose record is no longer stored (retired or erased since
    it was read: an erasure between the read and this write found no entry to delete; one after it
    deletes them itself). Returns the entries kept."""
    if not entries:
        return 0
    index.put(entries)
    read = _read_sources(store, sorted({record for _hash, record in entries}))
    gone = [(h, r) for h, r in entries if read.get(r) in (None, RETIRED_OWNER)]
    if gone:
        index.forget(gone)
    return len(entries) - len(gone)


def _forget_checked(store: ProfileStore, index: RefusedIndex, stale: Sequence[Entry], moved: _Moved) -> int:
    """Delete ``stale``, then read the ``source#`` items of their records and write back the entries
    of each record ``moved`` says another writer stored since (its hash or owner, as read)."""
    index.forget(stale)
    records = sorted({record for _hash, record in stale})
    read = _read_sources(store, records)
    back = [(h, r) for h, r in stale if moved(r, read.get(r))]
    if back:
        index.put(back)
    return len(stale) - len(back)


def _read_sources(store: ProfileStore, records: Sequence[str]) -> dict[str, str]:
    """Of each record's ``source#`` item: its hash for a stored record (``""`` when the item keeps
    none), ``RETIRED_OWNER`` for a tombstone; a record with neither is absent."""
    from core.ports import ReadsTombstones

    keys = [f"source#{r}" for r in records]
    if isinstance(store, ReadsTombstones):
        found = store.get_owners_and_tombstones(keys)
    else:  # pragma: no cover - every store of this project reads tombstones
        found = store.get_owners(keys)
    out: dict[str, str] = {}
    for key, owner in found.items():
        record = key[len("source#") :]
        if owner.customer_id == RETIRED_OWNER:
            out[record] = RETIRED_OWNER
        else:  # stored: its hash ("" for an item written without one, a version of unknown content)
            out[record] = owner.record_hash or ""
    return out


if TYPE_CHECKING:
    from collections.abc import Callable

    _Moved = Callable[[str, str | None], bool]


__all__ = ["after_commit", "after_retirement", "after_suppressed", "put_while_stored", "replaced_refused"]
