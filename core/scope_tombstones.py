"""The tombstones of a person's records deleted at their vendor: what an erasure finds of them.

A record retired by core.retirement leaves its ``IDENT#source#<key>`` item as a tombstone (owner
``core.ports.RETIRED_OWNER``), holding the vendor's record id in its key and naming no customer. The
customer it was retired from keeps a ``source_removed`` history event naming the record (written in
the retiring changeset), and a survivor inherits it when that customer is merged into another. So
the erasure's scope (core.person_scope) reads the histories of the customer and of the customers
merged into it, and takes every named record whose item is still a tombstone: it is deleted with the
customer (guarded by that owner) and its record id suppressed. A record re-created at the vendor
since (its item names a customer again) is not a tombstone any more, and is left to whoever holds it.

The other way round, a request naming a retired record's id finds the customer it was retired from
(``retired_from``): the index of the names histories hold (core.governance.history_names) leads from
the record to the customers whose history names it; followed through merges to the live ones, the
one whose ``source_removed`` event for it has the tombstone's time (the deletion's) is that customer,
or the one it was merged into since. A customer deleted since (erased, or its last record retired)
leaves nothing to follow: the request erases the tombstone and suppresses the id, as before.

Limit: a person whose every record was retired has no customer left (nor history), so nothing leads
from their address to their tombstones, which hold the vendors' record ids and nothing else.
Histories written before the index (core.governance.history_names) are not in it until
``profilesync privacy index-histories`` writes their items: a record retired from them does not lead
to its customer meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.ports import RETIRED_OWNER, CustomerState, ProfileStore, ReadsTombstones


def retired_tombstones(profiles: ProfileStore, customer_ids: Iterable[str]) -> list[str]:
    """The ``source#`` keys of the tombstones the records retired from ``customer_ids`` left, as
    their ``source_removed`` history events name them (empty for a store without history or
    tombstones)."""
    history = getattr(profiles, "history", None)
    if history is None or not isinstance(profiles, ReadsTombstones):
        return []
    from core.governance.history import whole_history

    named: set[str] = set()
    for cid in sorted(set(customer_ids)):
        for event in whole_history(history, cid):
            if event.kind == "source_removed":
                named.update(f"source#{key}" for key in event.source_keys)
    if not named:
        return []
    owners = profiles.get_owners_and_tombstones(sorted(named))
    return sorted(k for k, o in owners.items() if o.customer_id == RETIRED_OWNER)


def retired_from(profiles: ProfileStore, key: str) -> list[CustomerState]:
    """The live customers the record ``key`` (``source#...``, a tombstone) was retired from (see the
    module docstring): one, or none when it is gone since; more only if histories disagree."""
    from core.governance.history import whole_history
    from core.governance.history_names import IndexesHistoryNames
    from core.scope_holders import _live

    history = getattr(profiles, "history", None)
    if not isinstance(history, IndexesHistoryNames) or not isinstance(profiles, ReadsTombstones):
        return []
    tombstone = profiles.get_owners_and_tombstones([key]).get(key)
    if tombstone is None or tombstone.customer_id != RETIRED_OWNER:
        return []
    source_key = key.removeprefix("source#")
    live: dict[str, CustomerState] = {}
    after: str | None = None
    while True:
        page = history.histories_naming(key, after=after)
        for customer in page.customers:
            state = _live(profiles, customer)
            if state is not None and state.profile is not None:
                live.setdefault(state.customer_id, state)
        if page.next is None:
            break
        after = page.next
    found: list[CustomerState] = []
    for cid in sorted(live):
        removals = (e for e in whole_history(history, cid) if e.kind == "source_removed")
        if any(source_key in e.source_keys and e.at == tombstone.updated_at for e in removals):
            found.append(live[cid])
    return found


__all__ = ["retired_from", "retired_tombstones"]
