"""The markers that lead from an address's folded spelling to the customers holding it in the spelling
of before the upgrade that folds it: the backfill of a store written before this version.

Before that upgrade (core/normalise/_email.py), ``ottoline<U+FE0F>@example.org`` was a key of its own; a
record stored then keeps it until its tool's record is pulled again, while a record pulled after it
holds ``ottoline@example.org``: two customers of one person. The old key leads to the folded one
(core.mailbox.folded_email_key), but the folded key keeps nothing of the spelling it came from, so an
erasure by the id of her folded record found nothing leading to the other. Every writer now marks a
customer given an email key stored so under its folded spelling too (``IDENT#<folded key>`` /
``HOLDER#<customer>``, core.mailbox.marker_keys, as for a mailbox's other spellings); her erasure
reads the markers under her values (core.person_scope), and the customer one names is one of her
split-off customers when it holds nothing else that is not hers (core.scope_splinters).

A customer stored before this version has no such marker: ``backfill`` writes them, reading every
live profile once (``profilesync privacy index-refused`` runs it; on DynamoDB a Scan of the table).
The markers are idempotent puts: running it twice, or while merges write theirs, writes the same items.
An erasure between the read and a marker's write finds no marker to delete, and the marker holds her
address in its key: so once a chunk is written, the old keys are read again, and the marker of a
customer that no longer owns its old key (erased, or merged away, since the read) is deleted. An
erasure after that re-read deletes the marker itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.mailbox import folded_email_key
from core.ports import Changeset, ProfileStore, PutHolder

if TYPE_CHECKING:
    from core.privacy_store import ErasureStore


def backfill(profiles: ProfileStore, erasure: ErasureStore) -> int:
    """Mark every live customer holding an email key stored before the upgrade that folds it under
    its folded spelling; returns the markers written. The markers of customers erased since the
    read are deleted after their write, through ``erasure`` (the same table's)."""
    read: dict[tuple[str, str], set[str]] = {}  # (folded key, customer): the old keys it was read with
    for profile in profiles.iter_profiles():
        for identifier in profile.identifiers:
            if (folded := folded_email_key(identifier.key)) is not None:
                read.setdefault((folded, profile.customer_id), set()).add(identifier.key)
    markers = sorted(read)
    step = max(1, profiles.max_items_per_commit)
    for start in range(0, len(markers), step):
        chunk = markers[start : start + step]
        ops = tuple(PutHolder(key, customer) for key, customer in chunk)
        # unconditional puts: nothing can make the commit fail (a failure would be a store error)
        failed = profiles.commit([Changeset(label=f"spellings#{start}", operations=ops)])
        if failed:  # pragma: no cover - a PutHolder carries no condition
            raise RuntimeError("the spelling markers could not be written: run the command again")
        _forget_gone(profiles, erasure, {marker: read[marker] for marker in chunk})
    return len(markers)


def _forget_gone(
    profiles: ProfileStore, erasure: ErasureStore, chunk: dict[tuple[str, str], set[str]]
) -> None:
    """Delete the markers of ``chunk`` whose customer owns none of the old keys it was read with."""
    from core.privacy_store import DeleteItem, ItemKey

    owners = profiles.get_owners(sorted({old for olds in chunk.values() for old in olds}))

    def holds(customer: str, olds: set[str]) -> bool:
        return any((owner := owners.get(old)) is not None and owner.customer_id == customer for old in olds)

    gone = [
        DeleteItem(ItemKey(f"IDENT#{key}", f"HOLDER#{customer}"))
        for (key, customer), olds in chunk.items()
        if not holds(customer, olds)
    ]
    if gone:
        erasure.apply(gone)


__all__ = ["backfill"]
