"""A stored version dated only by a bound (``SourceRecord.undated``) gives way to what comes after it.

A vendor that does not say when a version was made may say a time it was made by (Stripe: an object
with no event left in the 30 days it keeps them changed before its retention horizon, read from its
``Date`` header; connectors/stripe/_full_dates.py). That time orders the version against the ones
stored before it (a version of other content stored from an older change is older). It does not
order it against the ones read after it: the bound can lie ahead of the vendor's own clock (an
account holding no event at all gives nothing else to check the header against, and a header 45
days ahead dated the listed customers 15 days after the pull), and a change the vendor made the next
day, dated by its own clock, was taken for older and dropped.

So a version of other content that comes after a stored undated one replaces it whatever their
times, unless it is undated too (two bounds are ordered by time, as before), or a dated version of
the same content came after it later than its bound (that dated the content: the stored version is
then ordered by that time, as any dated one). For Stripe this is what happened: an undated version
is an object as listed, whose last change was before every event Stripe held when the pull began (30
days back); any version read from Stripe after the listing (an event, a later listing) is of a later
change or of the same content, and one read before it that arrives after it (a redelivered message)
was read more than 30 days before it, which no queue keeps.
A tombstone after an undated version retires it in the same way (core.retirement): a customer listed
was not deleted yet. Only versions of other content are concerned: one of the same content is
unchanged (core.ingest_plan), and an undated time touches nothing.

The check reads the stored snapshot (the owner item keeps the time and hash, not ``undated``), so it
costs a customer read only for a version that the times alone would drop as stale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from core.content_run import stored_is_newer
from core.merge import newest, record_hash
from core.ports import RETIRED_OWNER, CustomerState, Ownership, ProfileStore
from core.schema import SourceRecord


def later(prior: SourceRecord, record: SourceRecord) -> SourceRecord:
    """Of two versions of one source record, ``record`` arriving after ``prior``, the one that wins:
    ``record`` when ``prior`` is undated, ``record`` is not and their contents differ; else
    ``core.merge.newest``. (One version cannot always do what the two would one after the other
    against the stored one: core.pipeline.version_rounds reduces only dated versions in a row.)"""
    if prior.undated and not record.undated and record_hash(prior) != record_hash(record):
        return record
    return newest(prior, record)


def replacing_undated(
    store: ProfileStore, owners: Mapping[str, Ownership], records: Sequence[SourceRecord]
) -> set[str]:
    """The keys of the dated ``records`` that the times alone would drop as stale (the stored
    version, in ``owners`` by ``source#`` key, has other content and a later time) but that replace
    it: it is undated. And those whose stored version is no longer the one ``owners`` read (another
    writer stored one since): planned as writes, they are judged again on the customer's read
    (core.ingest_changeset) under the commit's conditions, not dropped on a stale read."""
    keys: list[str] = []
    for record in records:
        stored = owners.get(f"source#{record.key}")
        if record.undated or stored is None or stored.record_hash is None or stored.updated_at is None:
            continue
        h = record_hash(record)
        if stored.record_hash != h and stored_is_newer(
            stored.record_hash, stored.updated_at, stored.run, record
        ):
            keys.append(record.key)
    if not keys:
        return set()
    undated, changed = undated_stored(store, owners, keys)
    return undated | changed


def kept_undated(store: ProfileStore, versions: Sequence[SourceRecord]) -> set[str]:
    """Of ``versions``, each the newest of a record's dated versions in a row of several contents in
    one call, the keys whose stored version is undated, of the same content and not older: the
    newest alone would do nothing against it, where one after the other the first of other content
    replaces it whatever the times (core.pipeline.version_rounds applies them in rounds). One owner
    read; a customer read only for a stored version of the newest's content, not older."""
    owners = store.get_owners([f"source#{r.key}" for r in versions])
    keys: list[str] = []
    for record in versions:
        stored = owners.get(f"source#{record.key}")
        if stored is None or stored.updated_at is None or stored.record_hash != record_hash(record):
            continue
        if stored.updated_at >= record.ordered_at:
            keys.append(record.key)
    if not keys:
        return set()
    undated, changed = undated_stored(store, owners, keys)
    return undated | changed  # changed since the read: kept apart, which is never wrong


def undated_stored(
    store: ProfileStore, owners: Mapping[str, Ownership], keys: Iterable[str]
) -> tuple[set[str], set[str]]:
    """Of the source record ``keys`` (``shopify:customer:1``), those whose stored snapshot is undated
    (read from the customers ``owners``, by ``source#`` key, name) and dated by nothing since: not
    one whose ``source#`` item a dated version of the same content moved past the snapshot's time (a
    touch, core.ingest_plan), which the vendor's own clock dated. A record whose customer is gone or
    does not hold it any more is left out: the caller keeps the time order. Second, the keys whose
    stored snapshot is not the version ``owners`` read (its content changed since): a verdict on the
    owner's time and the snapshot together would mix two versions, so the caller reads again."""
    found: set[str] = set()
    changed: set[str] = set()
    for key, snapshot in stored_snapshots(store, owners, keys).items():
        owner = owners[f"source#{key}"]
        moved = owner.updated_at
        if owner.record_hash != record_hash(snapshot):
            changed.add(key)
        elif snapshot.undated and (moved is None or moved <= snapshot.ordered_at):
            found.add(key)
    return found, changed


def stored_snapshots(
    store: ProfileStore, owners: Mapping[str, Ownership], keys: Iterable[str]
) -> dict[str, SourceRecord]:
    """The stored snapshots of the source record ``keys``, read from the customers ``owners`` (by
    ``source#`` key) name, or the customers they were merged into; a record whose customer is gone
    or does not hold it any more is left out."""
    wanted: dict[str, str] = {}
    for key in keys:
        owner = owners.get(f"source#{key}")
        if owner is not None and owner.customer_id != RETIRED_OWNER:
            wanted[key] = owner.customer_id
    loaded: dict[str, CustomerState] = {}
    todo = set(wanted.values())
    while todo:  # a customer merged into another: its snapshots may have moved there
        fetched = store.get_customers(sorted(todo))
        loaded.update(fetched)
        todo = {c.merged_into for c in fetched.values() if c.merged_into} - set(loaded)
    out: dict[str, SourceRecord] = {}
    for key, customer_id in wanted.items():
        state, seen = loaded.get(customer_id), set[str]()
        while state is not None and state.customer_id not in seen:
            seen.add(state.customer_id)
            snapshot = state.snapshots.get(key)
            if snapshot is not None:
                out[key] = snapshot
                break
            state = loaded.get(state.merged_into) if state.merged_into else None
    return out


__all__ = ["kept_undated", "later", "replacing_undated", "stored_snapshots", "undated_stored"]
