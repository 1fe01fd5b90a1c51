"""An erasure leaves nothing of the person in other customers' histories. Pure, over the ports.

The erased customer's own history goes with its partition (core.privacy deletes every item of it).
But a split leaves traces on the customer the records were split from: its history holds the
arrivals of the records that moved (they arrived there), the split event naming them, and, after a
split from a merge's event, copies of the restored customer's events and the merge event naming the
identifiers that had joined them. The erased customer's own history names those other customers
(every split and merge event names the other side), so they are found without a scan.

In each of them, an event copied from the erased customer is deleted (so is a copy inherited from a
third customer that names her: its redacted event replaces the third customer's own), and any
other event that names
the erased person's records, identifiers or customer id keeps its kind, time, actor and reason but
loses those names (its other names stay: they are someone else's). Values the erased person shared with others
are not theirs alone, and stay, as erasure leaves shared values with the other holder.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from core.governance.history import MAX_PAGE, HistoryEvent, HistoryStore
from core.privacy_store import DeleteItem, ErasureStore, ItemKey


def redact_other_histories(
    history: HistoryStore,
    erasure: ErasureStore,
    customer_id: str,
    *,
    sources: Collection[str],
    identifiers: Collection[str],
) -> int:
    """Redact the erased ``customer_id`` (its records ``sources``, its own ``identifiers``) from the
    histories of the customers its history names; how many events were changed or deleted. Run it
    before the customer's own history is deleted; repeating it changes nothing more."""
    others = sorted({c for e in _events(history, customer_id) for c in e.customers} - {customer_id})
    names = set(sources) | set(identifiers)
    changed = 0
    for other in others:
        deletes: list[DeleteItem] = []
        rewrites: list[HistoryEvent] = []
        for event in _events(history, other):
            named = names & {*event.source_keys, *event.identifiers} or customer_id in event.customers
            if event.inherited_from == customer_id or (named and event.inherited_from is not None):
                # A copy inherited from the erased customer, or from a third customer and naming her:
                # deleted here. A store writes an event under its own customer, so the redacted
                # event below replaces the third customer's own (a merge's tombstone), not this copy.
                deletes.append(DeleteItem(ItemKey(f"CUSTOMER#{other}", f"HISTORY#{event.sort_key}")))
            if named and event.inherited_from != customer_id:
                # Her customer id too: it is a hash of her first record's key (core.identity's
                # customer_id_for) that anybody holding the vendor's id can compute.
                rewrites.append(
                    event.model_copy(
                        update={
                            "source_keys": tuple(k for k in event.source_keys if k not in names),
                            "identifiers": tuple(k for k in event.identifiers if k not in names),
                            "handed_over": tuple(k for k in event.handed_over if k not in names),
                            "customers": tuple(c for c in event.customers if c != customer_id),
                        }
                    )
                )
        history.append_history(rewrites)  # the same key: each replaces the event it redacts
        for start in range(0, len(deletes), erasure.max_items_per_step):
            erasure.apply(deletes[start : start + erasure.max_items_per_step])
        changed += len(deletes) + len(rewrites)
    return changed


def _events(history: HistoryStore, customer_id: str) -> Iterator[HistoryEvent]:
    after: str | None = None
    while True:
        page = history.list_history(customer_id, limit=MAX_PAGE, after=after, newest_first=False)
        yield from page.events
        if page.next is None:
            return
        after = page.next


__all__ = ["redact_other_histories"]
