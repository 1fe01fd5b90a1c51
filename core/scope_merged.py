"""The customers merged into the one an erasure scopes, and the identifiers it owns
(core.person_scope): found through the ids its records gave them (core.split) and through the merge
events of the history."""

from __future__ import annotations

from collections.abc import Sequence

from core.ports import CustomerState, ProfileStore
from core.privacy_store import ErasureStore, ItemKey
from core.split import SPLIT_SERIES_LENGTH, split_ids


def owned_identifiers(profiles: ProfileStore, customer: str, state: CustomerState | None) -> list[str]:
    """The identifier keys whose IDENT item names ``customer``."""
    if state is None:
        return []
    candidates = set(state.owned)
    for snapshot in state.snapshots.values():
        candidates.update(i.key for i in snapshot.identifiers)
    owners = profiles.get_owners(sorted(candidates))
    return sorted(k for k, o in owners.items() if o.customer_id == customer)


def absorbed_customers(
    profiles: ProfileStore, erasure: ErasureStore, customer: str, state: CustomerState | None
) -> dict[str, tuple[int, list[ItemKey]]]:
    """Customers merged into this one, directly or through others, found through the ids their
    records gave them (deterministic: the founding id, then the series a split gives out in order,
    ``core.split.split_ids``), with their tombstone's version and their items."""
    if state is None:
        return {}
    series = {key: split_ids(key) for key in state.snapshots}
    seen: dict[str, CustomerState] = {}
    todo = sorted(series)
    for n in range(SPLIT_SERIES_LENGTH + 1):
        if not todo:
            break
        ids = {series[key][n]: key for key in todo}
        seen.update(profiles.get_customers(sorted(set(ids) - {customer})))
        # A series is given out in order: look further only past an id that was used.
        todo = sorted(key for cid, key in ids.items() if cid in seen or cid == customer)
    # A customer founded by a record that has left since (split off after the merge) is found
    # through the merge events of the history instead, and so are the ones merged into it.
    asked = {customer, *seen}
    named = _merged_in_history(profiles, [customer]) - asked
    while named:
        asked |= named
        found = profiles.get_customers(sorted(named))
        seen.update(found)
        named = _merged_in_history(profiles, sorted(found)) - asked
    # Merged into this customer, or into one merged into it (A into B, then B into this one).
    into = {customer}
    merged: list[str] = []
    grew = True
    while grew:
        grew = False
        for cid, other in seen.items():
            if cid not in into and other.merged_into in into:
                into.add(cid)
                merged.append(cid)
                grew = True
    return {cid: (seen[cid].version, erasure.customer_items(cid)) for cid in sorted(merged)}


def _merged_in_history(profiles: ProfileStore, customers: Sequence[str]) -> set[str]:
    """The customers the ``merge`` events of these customers' histories name (none on a store
    without history)."""
    history = getattr(profiles, "history", None)
    if history is None or not customers:
        return set()
    from core.governance.history import whole_history

    named: set[str] = set()
    for cid in customers:
        named.update(c for e in whole_history(history, cid) if e.kind == "merge" for c in e.customers)
    return named - set(customers)


__all__ = ["absorbed_customers", "owned_identifiers"]
