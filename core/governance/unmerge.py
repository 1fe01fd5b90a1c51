"""Undo a merge from its history event: ``profilesync split --event merge:<survivor>:<hash>``.

Each merge appends a ``merge`` event to the survivor's history (core.governance.changes) naming the
absorbed customer, the records it brought and the identifiers that joined them. Splitting from that
event restores the absorbed customer under its own id (its tombstone becomes a live profile again),
with the records the event names as they are now, the identifiers only they hold, and a profile
built from them by the same rules as ingest's; the survivor keeps every other record and is rebuilt
the same way. Both customers get a ``split`` event naming the actor. One conditional transaction:
a lost race re-reads and plans again, and a split that cannot be made changes nothing.

Decisions, for what happened after the merge:

- a record the merge brought and that changed since goes back in its current version;
- a record that arrived after the merge stays with the survivor, even one that only the absorbed
  customer's identifiers joined: the event does not name it, and the split moves only what it names;
- a record the merge brought that is gone (erased, or moved on by a later split) is left out and
  listed in the outcome's ``missing``;
- an identifier both groups hold (typically the one that joined them) goes back to the customer
  that owned it before the merge (the event's ``handed_over`` says which were the absorbed one's),
  and the other is marked as holding it too, as when the guardrails keep two people apart: a
  lookup by it finds whom it found before the merge, and an erasure of either leaves it to the other.
  Nothing refuses the join for good: the next change to a record holding it merges them again,
  which appends a new merge event. To keep them apart, remove the value in the tool (the split
  then holds), or blocklist it (``IdentityPolicy.blocked_values``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from core.errors import ConflictError
from core.governance.changes import survivor_of_merge_event
from core.governance.errors import SplitRefusedError
from core.governance.history import HistoryEvent, HistoryStore
from core.ingest_settings import IngestSettings, ResolutionGaveUpError
from core.merge_steps import finish_merges
from core.ports import CustomerState, ProfileStore
from core.privacy_store import AuditRecord
from core.split import split_changeset

#: How many pages of the survivor's history are searched for the event (200 events a page).
MAX_PAGES_SEARCHED = 500


@dataclass(frozen=True, slots=True)
class SplitOutcome:
    """What a split from a merge event did."""

    event_id: str
    survivor: str
    """The live customer the records were taken from (the merge's survivor, or where it went since)."""
    restored: str
    """The absorbed customer, live again under its own id."""
    moved: tuple[str, ...]
    """The source records moved back."""
    missing: tuple[str, ...] = ()
    """Records the merge brought that the survivor no longer holds (erased, or split off since)."""
    already_split: bool = False
    """The absorbed customer was live already (this event was undone before): nothing changed."""

    def audit(self, request_id: str, requested_by: str, invocation: str = "") -> AuditRecord:
        """The ``AUDIT#split`` record of the request (ids and counts only, as every audit record)."""
        return AuditRecord(
            action="split",
            request_id=request_id,
            at=datetime.now(UTC),
            subject_hash="",
            outcome="already_split" if self.already_split else "split",
            counts={"moved": len(self.moved), "missing": len(self.missing)},
            requested_by=requested_by,
            invocation=invocation,
        )

    def as_json(self) -> dict[str, object]:
        """The answer of the privacy function's ``split`` and of ``profilesync split`` (ids only)."""
        return {
            "event_id": self.event_id,
            "survivor": self.survivor,
            "restored": self.restored,
            "moved": list(self.moved),
            "missing": list(self.missing),
            "already_split": self.already_split,
        }


def find_event(history: HistoryStore, customer_id: str, event_id: str) -> HistoryEvent | None:
    """The event ``event_id`` in ``customer_id``'s history (its own or inherited), newest pages first."""
    after: str | None = None
    for _ in range(MAX_PAGES_SEARCHED):
        page = history.list_history(customer_id, limit=200, after=after)
        for event in page.events:
            if event.event_id == event_id:
                return event
        if page.next is None:
            return None
        after = page.next
    return None


def split_from_event(
    store: ProfileStore,
    history: HistoryStore,
    event_id: str,
    *,
    actor: str,
    settings: IngestSettings | None = None,
) -> SplitOutcome:
    """Undo the merge ``event_id`` records (see the module's docstring); ``actor`` is who asked."""
    settings = replace(settings or IngestSettings(), actor=actor)
    survivor = survivor_of_merge_event(event_id)
    if survivor is None:
        raise SplitRefusedError(
            f"{event_id!r} is not a merge event's id (merge:<customer id>:<hash>); take it from the "
            "customer's history (`profilesync profile show --id CUSTOMER --history`)"
        )
    event = find_event(history, survivor, event_id)
    if event is None or event.kind != "merge" or not event.customers:
        raise SplitRefusedError(
            f"customer {survivor}'s history holds no merge event {event_id}; check the id against its history"
        )
    absorbed = event.customers[0]
    for attempt in range(settings.max_attempts):
        try:
            outcome = _split_once(store, event, absorbed, settings)
        except ConflictError:
            outcome = None
        if outcome is not None:
            return outcome
        settings.sleep(min(settings.backoff_cap, settings.backoff_base * 2**attempt))
    raise ResolutionGaveUpError(f"splitting {absorbed} off by {event_id} kept conflicting; run it again")


def _split_once(
    store: ProfileStore, event: HistoryEvent, absorbed: str, settings: IngestSettings
) -> SplitOutcome | None:
    """One attempt: the outcome, or None when the commit lost a race (or a merge in flight was
    finished first)."""
    gone = store.get_customers([absorbed]).get(absorbed)
    if gone is None:
        raise SplitRefusedError(
            f"customer {absorbed} of merge {event.event_id} no longer exists (erased?); nothing to restore"
        )
    if gone.merged_into is None:
        return SplitOutcome(event.event_id, event.customer_id, absorbed, (), already_split=True)
    state = _live(store, gone.merged_into)
    if finish_merges(store, state, settings):
        return None
    moving = tuple(state.snapshots[k] for k in sorted(event.source_keys) if k in state.snapshots)
    missing = tuple(sorted(set(event.source_keys) - set(state.snapshots)))
    if not moving:
        raise SplitRefusedError(
            f"none of the records merge {event.event_id} brought are on {state.customer_id} any more "
            "(erased, or split off since); nothing to restore"
        )
    if len(moving) == len(state.snapshots):
        raise SplitRefusedError(
            f"every record of {state.customer_id} came with merge {event.event_id}: splitting would leave "
            "it empty; nothing to undo"
        )
    changeset = split_changeset(
        store,
        state,
        moving,
        absorbed,
        settings,
        revive=gone.version,
        reason="a split from the history event of the merge, undoing it",
        identifiers=event.identifiers,
        handed_back=event.handed_over,
    )
    if len(changeset) > store.max_items_per_commit:
        raise SplitRefusedError(
            f"restoring {absorbed} moves {len(moving)} records in {len(changeset)} writes, more than one "
            f"transaction holds ({store.max_items_per_commit})"
        )
    if store.commit([changeset]):
        return None
    return SplitOutcome(event.event_id, state.customer_id, absorbed, tuple(r.key for r in moving), missing)


def _live(store: ProfileStore, customer_id: str) -> CustomerState:
    """The live customer ``customer_id`` leads to through merges."""
    seen: set[str] = set()
    while customer_id not in seen:
        seen.add(customer_id)
        state = store.get_customers([customer_id]).get(customer_id)
        if state is None:
            raise ConflictError(f"customer {customer_id} is referenced but has no items yet")
        if state.merged_into is None:
            return state
        customer_id = state.merged_into
    raise ConflictError(f"customer {customer_id} is in a cycle of merges; plan again")


__all__ = ["SplitOutcome", "find_event", "split_from_event"]
