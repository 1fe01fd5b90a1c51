"""The index of refused values: how an erasure finds the records of other customers whose refused
values name her (core.privacy_refused, the household case) by key reads instead of a pass over every
stored record.

What is indexed: for each stored record with values normalisation refused (``record.dropped``),
every email and phone key written whole in them (core.quarantine.refused_values, as the quarantine's
``subjects`` and ``SuppressionCheck.split`` read them) and the mailbox of each address
(core.mailbox), each as its keyed hash with the audit salt, beside the record's key
(core.storage.refused_index: ``REFUSED#<hash>`` / ``source#<record key>``).

When: ``SuppressionCheck.split`` writes the entries of the records it keeps *before* they are
committed (every ingest path splits its batch first), and again after the commit. A record pulled
again without a value, retired at its vendor, or dropped as suppressed by a later round loses its
entries (core.privacy_refused_stale); an entry may still outlive its value (a process killed between
its commit and that deletion): the erasure reads the record and judges it as before, so a stale entry
costs a read and finds nothing.
An entry that names a record of the erased person is deleted by her erasure (``forget_records``):
her records' ids are not left in the table.

A refused phone value is read in ``REGION`` (and the record's country) by every writer and by the
backfill; an erasure by a phone in another region does not trust the index (a GB national number
read in the US names no number) and passes over every record as before.

Upgrade: a store written before has no entries. ``backfill`` indexes every stored record in one pass
and then writes the marker (``REFUSED#index``/``COMPLETE``); until the marker is there the erasure
reads every record as before (``customers_naming``: None). Run it after every writer runs this
version (``profilesync privacy index-refused``); a writer without a suppression check (no salt)
writes no entries.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence

from core.mailbox import mailbox_key
from core.ports import ProfileStore
from core.schema import SourceRecord
from core.storage.refused_index import Entry, RefusedIndex

#: Customers read at once by the backfill.
_PAGE = 100

#: The region every entry's refused phone values are read in (with the record's country), whatever
#: the writer's: a national number names a number only in a region, and the erasure looks up hers as
#: read in its own. An erasure in another region by a phone passes over every record as before
#: (core.privacy_refused.refused_holders), so it finds what it found before the index.
REGION = "US"


def refused_keys(record: SourceRecord, region: str) -> set[str]:
    """The keys an erasure looks a record up by: its refused values' email and phone keys and the
    mailbox of each address."""
    from core.suppression import _refused_keys

    keys = {k for k in _refused_keys(record, region) if k.startswith(("email#", "phone#"))}
    return keys | {m for k in keys if (m := mailbox_key(k)) is not None}


def entries_of(records: Iterable[SourceRecord], region: str, hash_: Callable[[str], str]) -> list[Entry]:
    """The index entries of ``records`` (none for a record without refused values)."""
    return [(hash_(k), r.key) for r in records if r.dropped for k in sorted(refused_keys(r, region))]


def customers_naming(
    profiles: ProfileStore, index: RefusedIndex | None, hashes: Collection[str]
) -> list[str] | None:
    """The customers now holding a record indexed under one of ``hashes`` (the owner of each record's
    ``source#`` key, followed to the live customer it was merged into); None when the store keeps no
    complete index (the caller reads every record)."""
    if index is None or not index.complete():
        return None
    from core.scope_holders import _live

    records = {r for found in index.records(sorted(hashes)).values() for r in found}
    owners = profiles.get_owners(sorted(f"source#{r}" for r in records))
    live = (_live(profiles, cid) for cid in sorted({o.customer_id for o in owners.values()}))
    return sorted({state.customer_id for state in live if state is not None})


def forget_records(
    index: RefusedIndex | None, records: Iterable[SourceRecord], region: str, hash_: Callable[[str], str]
) -> int:
    """Delete the entries of ``records`` (the erased person's): how many were asked."""
    entries = entries_of(records, region, hash_)
    if index is not None and entries:
        index.forget(entries)
    return len(entries)


def backfill(profiles: ProfileStore, index: RefusedIndex, region: str, hash_: Callable[[str], str]) -> int:
    """Index every stored record with refused values, then mark the index complete: the upgrade of a
    store written before the index. Returns the entries written."""
    named = getattr(profiles, "customers_with_refused_values", None)
    ids: Sequence[str] = list(
        named() if named is not None else (p.customer_id for p in profiles.iter_profiles())
    )
    written = 0
    for start in range(0, len(ids), _PAGE):
        states = profiles.get_customers(list(ids[start : start + _PAGE]))
        entries = entries_of((r for s in states.values() for r in s.snapshots.values()), region, hash_)
        # an erasure between the read and the write finds no entry to delete: those of a record no
        # longer stored go again (core.privacy_refused_stale)
        from core.privacy_refused_stale import put_while_stored

        written += put_while_stored(profiles, index, entries)
    index.mark_complete()
    return written


__all__ = ["REGION", "backfill", "customers_naming", "entries_of", "forget_records", "refused_keys"]
