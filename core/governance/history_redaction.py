"""An erasure leaves nothing of the person in other customers' histories. Pure, over the ports.

The erased customer's own history goes with its partition (core.privacy deletes every item of it).
But a split leaves traces on the customer the records were split from: its history holds the
arrivals of the records that moved (they arrived there), the split event naming them, and, after a
split from a merge's event, copies of the restored customer's events and the merge event naming the
identifiers that had joined them. The erased customer's own history names those other customers
(every split and merge event names the other side), so they are found without a scan. Other
histories name her too: after several merges and splits, the copies each merge inherits name
customers her own history does not, and a customer split off hers and retired since took its
history with it, while the one it split from still names her value. Those are found through the
index of the names histories hold (core.governance.history_names), a page at a time; its items
read are deleted once their history is redacted, and so are those of her own customers.

In each of them, an event copied from the erased customer is deleted (so is a copy inherited from a
third customer that names her: its redacted event replaces the third customer's own), and any
other event that names
the erased person's records, identifiers or customer id keeps its kind, time, actor and reason but
loses those names (its other names stay: they are someone else's). A review decision's reason is a
reviewer's free text (core.link_review), which no search for her values can vet: in an event that
loses her record it is replaced by ``REDACTED_REASON``; the other kinds' reasons are the code's
own words (``joined by shared email``) and stay. Values the erased person shared with others
are not theirs alone, and stay, as erasure leaves shared values with the other holder.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from core.governance.history import HistoryEvent, HistoryStore, whole_history
from core.governance.history_names import (
    IndexesHistoryNames,
    event_names,
    forget_in_steps,
    indexed_names,
    source_name,
)
from core.privacy_store import DeleteItem, ErasureStore, ItemKey, apply_in_steps


@dataclass
class Redacted:
    """What :func:`redact_histories` did: events changed or deleted, and the records it found to be
    the person's through the events that named her values (``records``: ``source#`` keys)."""

    events: int = 0
    records: set[str] = field(default_factory=set)


def redact_histories(
    history: HistoryStore,
    erasure: ErasureStore,
    mine: Collection[str],
    names: Collection[str],
    *,
    gone: Callable[[Collection[str]], set[str]] | None = None,
) -> Redacted:
    """Take the person's ``names`` (identifier keys, records as ``source#`` keys) and her customer
    ids (``mine``, whose own histories go with her) out of every other history that holds them:
    the customers her histories name, and those the index of names leads to, a page at a time. The
    index items read are deleted (the histories no longer name them), and so are those of her own
    customers. ``gone(keys)``: which of these ``source#`` keys name no live record (absent, or a
    tombstone); a record that arrived or changed holding one of her values and is gone is hers
    too, and is redacted as well (``Redacted.records``)."""
    mine = set(mine)
    names = set(names)
    result = Redacted()
    others: set[str] = set()
    forget: set[tuple[str, str]] = set()
    for customer in sorted(mine):
        for event in whole_history(history, customer):
            others.update(event.customers)
            forget.update((name, customer) for name in indexed_names(event))
    others -= mine
    for other in sorted(others):
        found: set[str] = set()
        result.events += _redact_one(history, erasure, other, mine, names, found, gone)
        result.records |= found
    if isinstance(history, IndexesHistoryNames):
        todo = sorted(names)
        while todo:
            name = todo.pop()
            after: str | None = None
            while True:
                page = history.histories_naming(name, after=after)
                for other in page.customers:
                    if other in mine:
                        continue
                    found = set()
                    result.events += _redact_one(history, erasure, other, mine, names, found, gone)
                    todo.extend(sorted(found - result.records))
                    result.records |= found
                # A page's items once its histories are redacted: memory stays one page's.
                forget_in_steps(
                    history, [(name, other) for other in page.customers], erasure.max_items_per_step
                )
                if page.next is None:
                    break
                after = page.next
        forget_in_steps(history, sorted(forget), erasure.max_items_per_step)
    return result


def _redact_one(
    history: HistoryStore,
    erasure: ErasureStore,
    other: str,
    mine: set[str],
    names: set[str],
    found: set[str],
    gone: Callable[[Collection[str]], set[str]] | None,
) -> int:
    """Redact one customer's history (see the module docstring); how many events changed. Adds to
    ``found`` the gone records that arrived or changed here holding one of her values."""
    values = {n for n in names if not n.startswith("source#")}
    deletes: list[DeleteItem] = []
    rewrites: list[HistoryEvent] = []
    for event in whole_history(history, other):
        if gone is not None and event.kind in _ARRIVALS and values & set(event.identifiers):
            held = {source_name(k) for k in event.source_keys} - names
            found |= gone(sorted(held)) if held else set()
            names |= found
        named = names & event_names(event) or bool(mine & set(event.customers))
        if event.inherited_from in mine or (named and event.inherited_from is not None):
            # A copy inherited from the erased customer, or from a third customer and naming her:
            # deleted here. A store writes an event under its own customer, so the redacted
            # event below replaces the third customer's own (a merge's tombstone), not this copy.
            deletes.append(DeleteItem(ItemKey(f"CUSTOMER#{other}", f"HISTORY#{event.sort_key}")))
        if named and event.inherited_from not in mine:
            # Her customer id too: it is a hash of her first record's key (core.identity's
            # customer_id_for) that anybody holding the vendor's id can compute.
            said = REDACTED_REASON if event.kind in _WORDS_OF_A_PERSON else event.reason
            rewrites.append(
                event.model_copy(
                    update={
                        "reason": said,
                        "source_keys": tuple(k for k in event.source_keys if source_name(k) not in names),
                        "identifiers": tuple(k for k in event.identifiers if k not in names),
                        "handed_over": tuple(k for k in event.handed_over if k not in names),
                        "customers": tuple(c for c in event.customers if c not in mine),
                    }
                )
            )
    history.append_history(rewrites)  # the same key: each replaces the event it redacts
    apply_in_steps(erasure, deletes)
    return len(deletes) + len(rewrites)


#: Events whose identifiers are the keys the record held (it joined by them).
_ARRIVALS = ("source_arrived", "source_changed")
#: Events whose reason is a person's words (a review decision's, core.link_review).
_WORDS_OF_A_PERSON = ("review", "review_accepted", "review_rejected")
#: What such an event says instead, once it names an erased person's record no more.
REDACTED_REASON = "a reviewer's reason, redacted with a record of an erased person"

__all__ = ["REDACTED_REASON", "Redacted", "redact_histories"]
