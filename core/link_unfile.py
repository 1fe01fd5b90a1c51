"""Take out of the identity index the filings of records an ingest round dropped after an earlier
round of the same ingest had filed them (core.link_plan.plan_linked files a batch before its commit).

A record whose commit lost and that the next round drops, as suppressed (an erasure ran in between)
or as stale (another worker stored a newer version), leaves the keys of the version it tried (and
filing it took its stored version's other keys away): a record no customer holds is forgotten whole
(its memberships and review pairs, core.link_nodes.forget_records), and one a customer holds moves
back to its stored version's keys, so that the index lists what the store holds and an erasure
(which forgets the stored version's keys) finds every item naming the record.

A commit that lost, or a process killed in its commit, may leave index items of the names its
history events hold too: DynamoDB writes them before the events, outside the commit's transactions
(core.storage.dynamodb_history). When it lost to an erasure (her customer deleted under it), those
items name her values under her deleted customer, written after her erasure deleted theirs. A record
dropped as suppressed, in a later round of the same ingest or delivered again to another process,
has ``unname_suppressed`` delete every index item of its suppressed names: nothing may name them
(her erasure redacted every history that did), and one query per name finds none otherwise.

Review items are filed after the commit that stores their records (core.pipeline): an erasure
between the two drops the pairs it finds, and the filing after it would write an item naming her
record. ``file_reviews`` puts them, then takes back those with a record nobody holds by then."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.governance.history_names import IndexesHistoryNames, forget_names
from core.identity import IdentityPolicy
from core.link_filed import FiledAs, filed_key, filing, settle
from core.link_index import LinkIndex, ReviewItem
from core.link_nodes import forget_records, graph_node, index_keys, node_orders
from core.link_review_index import Pair
from core.link_review_index import file_reviews as put_reviews
from core.link_scope import LinkageSettings
from core.ports import ProfileStore
from core.schema import SourceRecord
from core.suppression import SuppressionCheck

__all__ = ["file_reviews", "unfile_dropped", "unname_suppressed"]


def file_reviews(
    store: ProfileStore, items: Sequence[ReviewItem], outdated: Mapping[Pair, ReviewItem] | None = None
) -> None:
    """Put the review ``items`` (pairs in doubt, for a person; those in ``outdated``, decided on other
    versions of their records, are requeued: core.link_review_index.file_reviews), then drop those
    with a record no customer holds now: erased (or retired, or its commit lost: the next round files
    it again) since the plan read it. One more read of the records' owners."""
    if not items or not isinstance(store, LinkIndex):
        return
    put_reviews(store, items, outdated or {})
    owners = store.get_owners(sorted({f"source#{k}" for item in items for k in (item.a, item.b)}))
    gone = [(i.a, i.b) for i in items if f"source#{i.a}" not in owners or f"source#{i.b}" not in owners]
    if gone:
        store.drop_reviews(gone)


def unname_suppressed(store: ProfileStore, dropped: Sequence[SourceRecord], check: SuppressionCheck) -> int:
    """Delete every index item of the suppressed names (identifier keys, record ids) of ``dropped``,
    records an ingest drops as suppressed; how many. A no-op on a store that keeps no index of
    history names."""
    history = getattr(store, "history", None)
    if not dropped or not isinstance(history, IndexesHistoryNames):
        return 0
    return forget_names(history, check.suppressed_keys(i.key for r in dropped for i in r.identifiers))


def unfile_dropped(
    store: ProfileStore,
    dropped: Sequence[SourceRecord],
    policy: IdentityPolicy,
    linkage: LinkageSettings,
    *,
    filed: bool = True,
) -> None:
    """Undo the index filings of ``dropped`` (records this ingest filed, then dropped) beyond what
    their stored versions are filed under. Not ``filed``: records dropped as stale that this ingest
    did not file; only those whose entry (core.link_filed) lists keys are read further, as a filing
    killed or lost before may have left them there. A no-op on a store without an index."""
    if not dropped or not isinstance(store, LinkIndex):
        return
    entries = store.get_blocks([filed_key(r.key) for r in dropped])
    if not filed:
        dropped = [r for r in dropped if filed_key(r.key) in entries]
        if not dropped:
            return
    owners = store.get_owners([f"source#{r.key}" for r in dropped])
    holder = {key[len("source#") :]: o.customer_id for key, o in owners.items()}  # no tombstones
    stored: dict[str, SourceRecord] = {}
    todo = {r.key: holder[r.key] for r in dropped if r.key in holder}
    for _ in range(8):  # a merge's tombstone names its survivor: follow a short chain
        if not todo:
            break
        customers = store.get_customers(sorted(set(todo.values())))
        later: dict[str, str] = {}
        for key, cid in todo.items():
            customer = customers.get(cid)
            if customer is None:
                continue
            snapshot = customer.snapshots.get(key)
            if snapshot is not None:
                stored[key] = snapshot
            elif customer.merged_into:
                later[key] = customer.merged_into
        todo = later
    forget_records(store, [r for r in dropped if r.key not in stored], policy)
    # Back from the keys the dropped version was filed under (and any other its entry lists: a filing
    # killed before) to its stored version's, at its places (core.link_filed): filing it took the
    # stored version's other keys away, and moved its place in the keys both have.
    held: dict[str, FiledAs] = {}
    tried: dict[str, set[str]] = {}
    for record in dropped:
        kept = stored.get(record.key)
        if kept is None:
            continue
        node, kept_node = graph_node(record, policy), graph_node(kept, policy)
        keys, places = index_keys(kept_node, linkage.model), node_orders(kept_node)
        held[record.key] = filing(keys, places, not kept_node.person)
        if filed:
            # The keys where the two differ: in one only, or at another place (its entry lists them
            # too, unless filed before the entries were kept).
            tried_at = node_orders(node)
            moved = {k for k in tried_at if tried_at[k] != places.get(k)}
            tried[record.key] = (set(index_keys(node, linkage.model)) ^ set(keys)) | moved
    if held:
        settle(store, held, entries, {k: v.tag for k, v in held.items()}, linkage.index_limits(), tried)
