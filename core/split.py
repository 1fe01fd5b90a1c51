"""Splitting a customer whose records no longer hold together (an update removed the identifier
that joined them, a guardrail refuses it now, or the link graph separates them): the groups the
records form on their own, the ids the groups split off get, and the changeset that moves one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from core.errors import ConflictError
from core.governance.changes import split_events
from core.identity import IdentityPolicy, customer_id_for, group_records
from core.ingest_settings import IngestSettings, ResolutionGaveUpError, _back_off
from core.mailbox import marker_keys
from core.merge import build_profile, identifier_holders, profile_hash, record_hash
from core.merge_steps import finish_merges
from core.ports import (
    Changeset,
    CustomerState,
    DeleteSource,
    Operation,
    ProfileStore,
    PutHolder,
    PutIdent,
    PutProfile,
    PutSource,
)
from core.schema import Identifier, SourceRecord


def split_customer(
    store: ProfileStore, customer_id: str, settings: IngestSettings | None = None
) -> list[str]:
    """Split a customer whose source records no longer all share an identifier; return the new ids.

    Merging is by shared identifiers, and a record's update can remove the one that joined two
    people (a family inbox replaced by each person's own address). The customer then holds groups
    of records that resolution would not join if they arrived today. This splits them, one group
    per step, so that the customers are what the current records resolve to: the group holding the
    record that founded ``customer_id`` (or the one with the smallest source key) keeps the id;
    every other group becomes a new customer with the deterministic id of its smallest source key
    (or, if that id was used before, the next unused one of a series), and takes its snapshots and
    identifiers along, source identifiers with their stored hash and watermark. Each step is one
    conditional transaction; a lost race re-reads and plans again, and a group too large to move in
    one transaction raises ValueError (its records stay where they are). ``ingest`` calls this after a
    change to a customer whose records no longer hold together (an update removed the identifier
    that joined them, the guardrails refuse it now, or an earlier split was cut short); called
    directly, it is an unmerge after a change to the guardrails.
    """
    settings = settings or IngestSettings()
    created: list[str] = []
    attempt = 0
    while True:
        try:
            step = _split_step(store, customer_id, settings)
        except ResolutionGaveUpError:
            raise
        except ConflictError:
            # A lost race: the commit's conditions failed, or a read met a write half-way.
            attempt += 1
            if attempt >= settings.max_attempts:
                raise ResolutionGaveUpError(
                    f"splitting {customer_id} kept conflicting; the next change to it resumes it"
                ) from None
            _back_off(settings, attempt)
            continue
        if step is None:
            return created
        if step:
            created.append(step)
        attempt = 0


def _split_step(store: ProfileStore, customer_id: str, settings: IngestSettings) -> str | None:
    """One step of ``split_customer``: the id of the customer split off, "" when a merge in flight was
    finished first, None when the customer holds together (or is gone). A lost race raises
    ConflictError."""
    state = store.get_customers([customer_id]).get(customer_id)
    if state is None or state.merged_into:
        return None
    if finish_merges(store, state, settings):
        return ""  # a merge in flight (or cut short) was finished: what it left is split next
    if settings.linkage is not None:
        from core.link_plan import linked_groups

        groups = linked_groups(store, state, settings)
    else:
        groups = record_groups(list(state.snapshots.values()), settings.policy)
    if len(groups) < 2:
        return None
    keep = next((g for g in groups if any(customer_id_for(r.key) == customer_id for r in g)), groups[0])
    moving = next(g for g in groups if g is not keep)
    new_id = _unused_customer_id(store, moving[0].key, customer_id)
    changeset = split_changeset(store, state, moving, new_id, settings)
    if len(changeset) > store.max_items_per_commit:
        raise ValueError(
            f"cannot split {customer_id}: moving {len(moving)} records to {new_id} takes "
            f"{len(changeset)} writes, more than one transaction holds ({store.max_items_per_commit})"
        )
    if store.commit([changeset]):
        raise ConflictError(f"splitting {new_id} off {customer_id} lost a race")
    return new_id


def _unused_customer_id(store: ProfileStore, source_key: str, splitting: str) -> str:
    """The id of a customer split off ``splitting`` with ``source_key`` as its smallest key: the one
    that record would found (as in a resolution from scratch), unless that id was ever used (say
    the record founded a customer that later merged into ``splitting``); then the first unused one
    of the record's series (``split_ids``). Never an id with history, so nothing pushed under it
    before can be taken for current."""
    for candidate in split_ids(source_key):
        if not store.get_customers([candidate]):
            return candidate
    raise ConflictError(f"cannot split {splitting}: every id for {source_key} is taken")


#: How many ids beyond its founding one a record's series holds (a record split off that often is
#: not a person any more; the split is then refused as a conflict).
SPLIT_SERIES_LENGTH: Final = 32


def split_ids(source_key: str) -> list[str]:
    """The ids a customer founded by, or split off with, ``source_key`` as its smallest key can have,
    in the order they are given out: erasure looks for the customers merged into one through them."""
    series = [customer_id_for(f"{source_key}#split{n}") for n in range(1, SPLIT_SERIES_LENGTH + 1)]
    return [customer_id_for(source_key), *series]


def _mailboxes(keys: Iterable[str]) -> list[str]:
    """The marker keys (core.mailbox.marker_keys) of the emails among ``keys``: the mailbox of one not
    spelt as its mailbox, the folded spelling of one stored before the upgrade that folds it."""
    return sorted({marker for key in keys for marker in marker_keys(key)})


def _hold_together(records: Iterable[SourceRecord], policy: IdentityPolicy) -> bool:
    """Whether the records form one group by shared usable identifiers: what ``record_groups``
    answers with one group, for a customer's own records (each of which holds the keys it has, so
    no guardrail limit applies), without building the groups. Runs for every change to an existing
    customer, so only the keys two records share are checked against the blocklist."""
    key_sets: list[set[str]] = []
    shared: dict[str, Identifier] = {}
    seen: dict[str, Identifier] = {}
    for record in records:
        # Source keys count: a child's owner link (``source#shopify:customer:1``) is shared with the
        # owner record. A record's own source key is in no other record of the customer.
        own = {ident.key: ident for ident in record.identifiers}
        shared.update({key: ident for key, ident in own.items() if key in seen})
        seen.update(own)
        key_sets.append(set(own))
    links = {key for key, ident in shared.items() if not policy.is_blocked(ident)}
    if len(key_sets) == 2:
        return bool(links)
    if not key_sets:
        return False
    # A walk from the last record through the link keys, each key followed once: linear in the
    # keys (a pass over the records per record reached was quadratic on a long chain).
    holders: dict[str, list[int]] = {}
    for index, keys in enumerate(key_sets):
        for key in keys & links:
            holders.setdefault(key, []).append(index)
    reached = {len(key_sets) - 1}
    frontier = [len(key_sets) - 1]
    while frontier:
        for key in key_sets[frontier.pop()] & holders.keys():
            for index in holders.pop(key):
                if index not in reached:
                    reached.add(index)
                    frontier.append(index)
    return len(reached) == len(key_sets)


def record_groups(records: Sequence[SourceRecord], policy: IdentityPolicy) -> list[tuple[SourceRecord, ...]]:
    """The records grouped as resolution groups them on their own: by shared usable identifiers,
    under the guardrails (the records themselves being the holders). Groups and the records in them
    are sorted by source key."""
    ordered = sorted(records, key=lambda r: r.key)
    components, _ = group_records(ordered, {}, identifier_holders(ordered), policy)
    return [c.records for c in components]


def split_changeset(
    store: ProfileStore,
    state: CustomerState,
    moving: tuple[SourceRecord, ...],
    new_id: str,
    settings: IngestSettings,
    *,
    revive: int | None = None,
    reason: str = "its records no longer share a usable identifier",
    identifiers: Sequence[str] = (),
    handed_back: Iterable[str] = (),
) -> Changeset:
    """Move ``moving`` out of ``state``'s customer into the new customer ``new_id``; with ``revive``
    (the version of ``new_id``'s tombstone), into the merged-away customer ``new_id`` again, as a
    split from a merge's history event does (core.governance.unmerge). Both customers get a
    ``split`` event saying ``reason`` (and ``identifiers``, the keys that had joined them).
    ``handed_back``: keys ``new_id`` owned before a merge, which go back to it even when records
    that stay hold them too (``state``'s customer is then marked as holding them)."""
    cid, policy = state.customer_id, settings.policy

    def usable(group: Iterable[SourceRecord]) -> set[str]:
        return {i.key for r in group for i in r.identifiers if not policy.is_blocked(i)}

    moving_keys = {m.key for m in moving}
    remaining = [r for r in state.snapshots.values() if r.key not in moving_keys]
    back = set(handed_back)
    staying = usable(remaining)
    taken = sorted((usable(moving) & state.owned) - (staying - back))
    owners = store.get_owners(taken)
    ops: list[Operation] = []
    for record in moving:
        ops.append(DeleteSource(cid, record.key))
        ops.append(PutSource(new_id, record, record_hash(record)))
    for key in taken:
        owner = owners.get(key)
        if owner is None or owner.customer_id != cid:
            raise ConflictError(f"identifier {key} of {cid} is not owned by it; plan again")
        # Conditional on the time read too: a touch since then is not undone (PutIdent.expected_at).
        ops.append(
            PutIdent(
                key,
                new_id,
                cid,
                owner.record_hash,
                owner.updated_at,
                owner.match,
                owner.updated_at,
                owner.run,
                owner.updated_at is not None,  # and on the run read: a touch of the run alone is kept
                owner.run,
            )
        )
    # Values both groups hold stay with ``cid``: mark that the customer split off holds them too.
    ops.extend(
        PutHolder(key, new_id) for key in sorted(usable(moving) - set(taken)) if not key.startswith("source#")
    )
    ops.extend(PutHolder(key, cid) for key in taken if key in staying)  # handed back, held here too
    # The mailbox markers of the spellings the new customer holds (core.ingest_changeset's
    # ``_mailbox_markers``): how a request naming another spelling of the address finds it.
    ops.extend(PutHolder(mailbox, new_id) for mailbox in _mailboxes(usable(moving)))
    moved = build_profile(new_id, moving, settings.rules, 1 if revive is None else revive + 1)
    ops.append(PutProfile(new_id, moved, profile_hash(moved), frozenset(taken), revive))
    rest = build_profile(cid, remaining, settings.rules, state.version + 1)
    ops.append(PutProfile(cid, rest, profile_hash(rest), state.owned - set(taken), state.version))
    ops.extend(
        split_events(
            cid,
            new_id,
            moving_keys,
            actor=settings.actor,
            at=settings.clock(),
            reason=reason,
            identifiers=identifiers,
        )
    )
    return Changeset(f"split:{cid}:{new_id}", tuple(ops))
