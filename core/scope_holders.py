"""Who holds a value the erasure's scope meets (core.person_scope): the live customer that owns an
identifier (following merges), the live customers holding a spelling of a mailbox (core.mailbox),
and which of a customer's values another live customer holds too (its shared values), each checked
against the live customer a marker or an IDENT item leads to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from core.mailbox import canonical_spelling, folded_email_key, mailbox_key
from core.ports import RETIRED_OWNER, CustomerState, ProfileStore, ReadsTombstones
from core.privacy_store import ErasureStore, ItemKey
from core.schema import Identifier
from core.scope_splinters import live_identifiers


def _is_tombstone(profiles: ReadsTombstones, key: str) -> bool:
    found = profiles.get_owners_and_tombstones([key]).get(key)
    return found is not None and found.customer_id == RETIRED_OWNER


def locate(profiles: ProfileStore, identifier: Identifier) -> CustomerState | None:
    """The live customer that owns ``identifier`` (following merges), or None."""
    owner = profiles.get_owners([identifier.key]).get(identifier.key)
    return None if owner is None else _live(profiles, owner.customer_id)


def _live(profiles: ProfileStore, customer_id: str) -> CustomerState | None:
    seen: set[str] = set()
    cid = customer_id
    while cid not in seen:
        seen.add(cid)
        state = profiles.get_customers([cid]).get(cid)
        if state is None or not state.merged_into:
            return state
        cid = state.merged_into
    return None  # a cycle of tombstones cannot be written by the pipeline; treat as nobody


def holding_mailbox(profiles: ProfileStore, erasure: ErasureStore, key: str) -> list[CustomerState]:
    """The live customers holding a spelling of the mailbox of the email ``key`` (core.mailbox): the
    owner of the mailbox's own spelling, and the customers its markers name (``PutHolder`` under
    ``mailbox#...``, written for every other spelling), each checked against its live profile."""
    mailbox = mailbox_key(key)
    if mailbox is None:
        return []
    candidates = set(erasure.holders([mailbox]).get(mailbox, set()))
    own = canonical_spelling(mailbox)
    owner = profiles.get_owners([own]).get(own)
    if owner is not None:
        candidates.add(owner.customer_id)
    found: dict[str, CustomerState] = {}
    for candidate in sorted(candidates):
        state = _live(profiles, candidate)
        if (
            state is not None
            and state.profile is not None
            and any(mailbox_key(i.key) == mailbox for i in state.profile.identifiers)
        ):
            found[state.customer_id] = state
    return [found[c] for c in sorted(found)]


def _own_mailboxes(
    profiles: ProfileStore,
    erasure: ErasureStore,
    customer: str | None,
    exclusive: Sequence[str],
    absorbed: Iterable[str] = (),
) -> list[str]:
    """The mailboxes of the ``exclusive`` emails that no live customer other than ``customer`` holds
    a spelling of (another customer's spelling keeps its mailbox unsuppressed: their records are
    theirs, as a shared value is)."""
    mine = {customer, *absorbed}
    out: set[str] = set()
    for key in exclusive:
        mailbox = mailbox_key(key)
        if (
            mailbox is not None
            and mailbox not in out
            and all(s.customer_id in mine for s in holding_mailbox(profiles, erasure, key))
        ):
            out.add(mailbox)
    return sorted(out)


def _shared(
    profiles: ProfileStore,
    erasure: ErasureStore,
    customer: str | None,
    keys: Sequence[str],
    absorbed: Iterable[str] = (),
) -> set[str]:
    """The keys among ``keys`` that a live customer other than ``customer`` holds too."""
    if not keys:
        return set()
    mine = {customer, *absorbed}
    owners = profiles.get_owners(list(keys))
    markers = erasure.holders(list(keys))
    candidates: dict[str, set[str]] = {}
    for key in keys:
        named = set(markers.get(key, set()))
        owner = owners.get(key)
        if owner is not None:
            named.add(owner.customer_id)
        candidates[key] = named - mine
    held = live_identifiers(profiles, {c for named in candidates.values() for c in named})
    shared: set[str] = set()
    for key, named in candidates.items():
        for candidate in named:
            live = held.get(candidate)
            # A marker may be stale: it counts only if the customer it leads to holds the value now.
            if live is not None and live[0] not in mine and key in live[1]:
                shared.add(key)
                break
    return shared


def stale_markers(profiles: ProfileStore, erasure: ErasureStore, keys: Sequence[str]) -> list[ItemKey]:
    """The holder markers under ``keys`` (values, mailboxes) whose customer does not hold the value
    (or a spelling of the mailbox) any more: left by a record that dropped it. A request naming a
    value nobody holds deletes them, as they hold it in their key (core.privacy)."""
    markers = erasure.holders(list(keys))
    held = live_identifiers(profiles, {c for holders in markers.values() for c in holders})
    stale: list[ItemKey] = []
    for key, holders in sorted(markers.items()):
        for holder in sorted(holders):
            live = held.get(holder)
            now = live[1] if live is not None else set()
            # a marker under a mailbox, or under the folded spelling of a key stored before the
            # upgrade that folds it (core.mailbox.marker_keys), holds while its customer holds a spelling
            if key not in now and key not in {m for k in now for m in (mailbox_key(k), folded_email_key(k))}:
                stale.append(ItemKey(f"IDENT#{key}", f"HOLDER#{holder}"))
    return stale


__all__ = ["holding_mailbox", "locate", "stale_markers"]
