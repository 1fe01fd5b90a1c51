"""The history events that ingest, merges and splits write (core.governance.history). Pure.

core.pipeline builds these as it plans a change and puts each one in the change's own changeset as a
``PutHistory`` operation, so a change commits with its event or not at all: a replayed ingest finds
its records unchanged and plans nothing, so it appends nothing either. An event's time is when the
change was planned (the run's clock), and its id is derived from what changed (the record and its
hash, the absorbed customer), so that two changes never share an item.

- a record new to its customer: ``source_arrived`` on it (the record, and the keys it joined by);
- a stored record's new content: ``source_changed`` on its customer (the record);
- a customer absorbed by another: one ``merge`` on the survivor per absorbed customer (it, its
  records, the keys that joined them), the event ``split --event`` undoes;
- records split off a customer: a ``split`` on both customers (the other one, the records moved);
- records deleted at their vendor (core.retirement): ``source_removed`` on their customer.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from core.governance.history import HistoryEvent, event_id_for, quotes_identifier
from core.ports import Changeset, PutHistory, Tombstone
from core.schema import SourceRecord, assemble_model


@runtime_checkable
class InheritsHistory(Protocol):
    """A profile store that also keeps the history (the three stores do): after a merge commits, the
    survivor inherits the absorbed customer's events (``HistoryStore.inherit_history``)."""

    def inherit_history(self, absorbed: str, survivor: str) -> int: ...


def record_event(
    customer_id: str,
    record: SourceRecord,
    record_hash: str,
    *,
    existed: bool,
    joined_by: Sequence[str],
    actor: str,
    at: datetime,
) -> PutHistory:
    """``source_arrived`` (the record is new to its customer) or ``source_changed``."""
    kind = "source_changed" if existed else "source_arrived"
    if existed:
        reason = "the record changed in its tool"
    elif joined_by:
        reason = f"a new record, joined by {join_reason(joined_by)}"
    else:
        reason = "a new record"
    fields: dict[str, Any] = {
        "customer_id": customer_id,
        "event_id": event_id_for(customer_id, kind, at, record.key, record_hash),
        "at": at,
        "kind": kind,
        "actor": actor,
        "reason": reason,
        "source_keys": (record.key,),
        "customers": (),
        "identifiers": () if existed else tuple(joined_by),
        "handed_over": (),
        "inherited_from": None,
    }
    if at.tzinfo is not UTC or quotes_identifier(reason, (*fields["identifiers"], record.key)):
        return PutHistory(_event(**fields))  # validated: the time turned to UTC, the reason dropped
    # One event per record written, and validating it was a tenth of founding a customer: every
    # value here is valid by construction (a UTC time, an id from event_id_for, one of the reasons
    # above, quoting nothing, no keys handed over), which tests/unit/test_history_fast_event.py
    # holds against the validated model.
    return PutHistory(assemble_model(HistoryEvent, fields))


def removal_event(customer_id: str, source_keys: Iterable[str], *, actor: str, at: datetime) -> PutHistory:
    """``source_removed``: records of the customer deleted at their vendor (core.retirement). The
    event is how an erasure of the person finds the tombstones those records left (their
    ``IDENT#source#`` items name no customer): core.person_scope reads it back."""
    keys = tuple(sorted(source_keys))
    return PutHistory(
        _event(
            customer_id=customer_id,
            event_id=event_id_for(customer_id, "source_removed", at, *keys),
            at=at,
            kind="source_removed",
            actor=actor,
            reason="deleted in its tool" if len(keys) == 1 else "deleted in their tool",
            source_keys=keys,
        )
    )


def merge_event(
    survivor: str,
    absorbed: str,
    source_keys: Iterable[str],
    joined_by: Sequence[str],
    *,
    actor: str,
    at: datetime,
    handed_over: Sequence[str] = (),
) -> PutHistory:
    """The survivor's ``merge`` event for one absorbed customer: what ``split --event`` undoes."""
    keys = tuple(sorted(source_keys))
    reason = f"joined by {join_reason(joined_by)}" if joined_by else "finished a merge that was cut short"
    return PutHistory(
        _event(
            customer_id=survivor,
            event_id=merge_event_id(survivor, event_id_for(survivor, "merge", at, absorbed, *keys)),
            at=at,
            kind="merge",
            actor=actor,
            reason=reason,
            source_keys=keys,
            customers=(absorbed,),
            identifiers=tuple(joined_by),
            handed_over=tuple(handed_over),
        )
    )


def merge_event_id(survivor: str, derived: str) -> str:
    """``merge:<survivor>:<hash>``: a merge event's id names the customer whose history holds it, so
    ``profilesync split --event ID`` finds it from the id alone (an inherited copy keeps the id)."""
    return f"merge:{survivor}:{derived.partition('-')[2]}"


def survivor_of_merge_event(event_id: str) -> str | None:
    """The survivor a merge event id names (``merge_event_id``), or None for any other id."""
    kind, _, rest = event_id.partition(":")
    survivor, _, digest = rest.partition(":")
    return survivor if kind == "merge" and survivor and digest else None


def split_events(
    customer_id: str,
    new_id: str,
    moved: Iterable[str],
    *,
    actor: str,
    at: datetime,
    reason: str,
    identifiers: Sequence[str] = (),
) -> tuple[PutHistory, PutHistory]:
    """The ``split`` events of records moved from ``customer_id`` to ``new_id``: one on each."""
    keys = tuple(sorted(moved))
    return tuple(  # type: ignore[return-value]
        PutHistory(
            _event(
                customer_id=cid,
                event_id=event_id_for(cid, "split", at, other, *keys),
                at=at,
                kind="split",
                actor=actor,
                reason=reason,
                source_keys=keys,
                customers=(other,),
                identifiers=tuple(identifiers),
            )
        )
        for cid, other in ((customer_id, new_id), (new_id, customer_id))
    )


def change_history(
    records: Sequence[SourceRecord],
    stored: Collection[str],
    survivor: str,
    customers: Collection[str],
    records_of: Mapping[str, Iterable[str]],
    owner_of: Mapping[str, str],
    hashes: Mapping[str, str],
    *,
    actor: str,
    at: datetime,
) -> list[PutHistory]:
    """The events of one planned change: ``records`` written to ``survivor`` (``stored``: the keys
    its customers held before), and a merge event for each of ``customers`` other than the
    survivor (``records_of``: the source keys each held)."""
    events = [
        record_event(
            survivor,
            record,
            hashes[record.key],
            existed=record.key in stored,
            joined_by=() if record.key in stored else joining_keys((record,), owner_of, customers),
            actor=actor,
            at=at,
        )
        for record in records
    ]
    for absorbed in sorted(set(customers) - {survivor}):
        joined = joining_keys(records, owner_of, (survivor, absorbed))
        handed = [key for key in joined if owner_of.get(key) == absorbed]
        events.append(
            merge_event(
                survivor, absorbed, records_of[absorbed], joined, actor=actor, at=at, handed_over=handed
            )
        )
    return events


def _event(**fields: Any) -> HistoryEvent:
    """The event, validated; without its reason if the reason happens to contain an id it names (a
    source id such as ``email``): the model refuses that, and a change must never fail for its
    wording."""
    keys = (*fields.get("identifiers", ()), *fields.get("source_keys", ()))
    if quotes_identifier(str(fields.get("reason", "")), keys):
        fields = {**fields, "reason": ""}
    return HistoryEvent.model_validate(fields)


def joining_keys(
    records: Iterable[SourceRecord], owner_of: Mapping[str, str], customers: Iterable[str]
) -> list[str]:
    """The identifier keys of ``records`` owned by one of ``customers``: what joined the records to
    them (a record's own source id excepted: it says which record an update is, not who it is)."""
    wanted = set(customers)
    if not wanted:  # a new customer: nothing it joined (the common case, kept cheap)
        return []
    found: set[str] = set()
    for record in records:
        own = f"source#{record.key}"
        found.update(i.key for i in record.identifiers if i.key != own and owner_of.get(i.key) in wanted)
    return sorted(found)


def join_reason(keys: Iterable[str]) -> str:
    """``a shared email and phone``, ``an owner link``: the kinds of the keys, never their values."""
    kinds = sorted({key.partition("#")[0] for key in keys})
    words = [k for k in kinds if k != "source"]
    parts = [f"a shared {' and '.join(words)}"] if words else []
    if "source" in kinds:
        parts.append("an owner link")
    return " and ".join(parts) or "shared identifiers"


def inherit_merged(store: object, changesets: Iterable[Changeset]) -> None:
    """After ``changesets`` committed: each survivor inherits the history of the customers it
    absorbed (their tombstones say which). Idempotent. A crash before this leaves the absorbed
    events where they were, under the absorbed id, which the survivor's merge event names."""
    if not isinstance(store, InheritsHistory):
        return
    for changeset in changesets:
        for op in changeset.operations:
            if isinstance(op, Tombstone):
                store.inherit_history(op.customer_id, op.merged_into)


__all__ = [
    "InheritsHistory",
    "change_history",
    "inherit_merged",
    "join_reason",
    "joining_keys",
    "merge_event",
    "merge_event_id",
    "record_event",
    "removal_event",
    "split_events",
    "survivor_of_merge_event",
]
