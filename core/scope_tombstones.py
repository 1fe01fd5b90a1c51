"""The tombstones of a person's records deleted at their vendor: what an erasure finds of them.

A record retired by core.retirement leaves its ``IDENT#source#<key>`` item as a tombstone (owner
``core.ports.RETIRED_OWNER``), holding the vendor's record id in its key and naming no customer. The
customer it was retired from keeps a ``source_removed`` history event naming the record (written in
the retiring changeset), and a survivor inherits it when that customer is merged into another. So
the erasure's scope (core.person_scope) reads the histories of the customer and of the customers
merged into it, and takes every named record whose item is still a tombstone: it is deleted with the
customer (guarded by that owner) and its record id suppressed. A record re-created at the vendor
since (its item names a customer again) is not a tombstone any more, and is left to whoever holds it.

Limit: a person whose every record was retired has no customer left (nor history), so nothing leads
from their address to their tombstones, which hold the vendors' record ids and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.ports import RETIRED_OWNER, ProfileStore, ReadsTombstones


def retired_tombstones(profiles: ProfileStore, customer_ids: Iterable[str]) -> list[str]:
    """The ``source#`` keys of the tombstones the records retired from ``customer_ids`` left, as
    their ``source_removed`` history events name them (empty for a store without history or
    tombstones)."""
    history = getattr(profiles, "history", None)
    if history is None or not isinstance(profiles, ReadsTombstones):
        return []
    from core.governance.history import MAX_PAGE

    named: set[str] = set()
    for cid in sorted(set(customer_ids)):
        after: str | None = None
        while True:
            page = history.list_history(cid, limit=MAX_PAGE, after=after, newest_first=False)
            for event in page.events:
                if event.kind == "source_removed":
                    named.update(f"source#{key}" for key in event.source_keys)
            if page.next is None:
                break
            after = page.next
    if not named:
        return []
    owners = profiles.get_owners_and_tombstones(sorted(named))
    return sorted(k for k, o in owners.items() if o.customer_id == RETIRED_OWNER)


__all__ = ["retired_tombstones"]
