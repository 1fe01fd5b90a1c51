"""The person's split-off customers: what an erasure by her address takes with her.

Past an identifier's guardrail (core.identity: more records on one address than
``max_records_per_identifier``), the records that come later found customers of their own, holding
the address beside its owner (``HOLDER#`` markers). Those customers are the person's own when they
hold nothing that is not hers: every email, phone or other value their records carry is one of the
erased customer's values (or another spelling of one of her mailboxes, core.mailbox: one inbox), and
every first or last name one her records carry. A customer holding a
value or a name of its own (another phone, another first name) may be someone else sharing the
address (a family inbox, a company's), and is left as before: the value is shared, unlinked from the
person, never deleted from them (core.person_scope).

A nameless customer whose only value is the person's address cannot be told from her by anything
stored; the request comes from whoever controls that address, so what is known of it only through
that address is erased with her (docs/privacy.md states it, limit included).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from core.mailbox import canonical_spelling, folded_email_key, mailbox_key
from core.ports import CustomerState, ProfileStore, ReadsProfiles
from core.privacy_store import ErasureStore
from core.schema import Profile, SourceRecord

#: The traits that name a person: a split-off customer must carry none the person's records do not.
NAME_TRAITS = ("first_name", "last_name")


def own_splinters(
    profiles: ProfileStore,
    erasure: ErasureStore,
    state: CustomerState,
    values: Sequence[str],
    mine: Collection[str],
) -> list[CustomerState]:
    """The live customers outside ``mine`` (the person's customer ``state`` and those merged into
    it) that hold one of the person's ``values`` (identifier keys, source ids aside) or a spelling of
    one of her mailboxes, no value beside them, and no name her records do not carry."""
    if not values:
        return []
    mailboxes = {m for k in values if (m := mailbox_key(k)) is not None}
    owners = profiles.get_owners([*values, *(canonical_spelling(m) for m in sorted(mailboxes))])
    markers = erasure.holders([*values, *sorted(mailboxes)])
    candidates = {o.customer_id for o in owners.values()}.union(*markers.values()) - set(mine)
    allowed = set(values)
    live: set[str] = set()
    for cid, keys in live_identifiers(profiles, candidates).values():
        own = {k for k in keys if not k.startswith("source#")}
        if cid not in mine and own and all(_hers(k, allowed, mailboxes) for k in own):
            live.add(cid)
    names = _names(state.snapshots.values())
    found = profiles.get_customers(sorted(live))
    return [found[c] for c in sorted(found) if _names(found[c].snapshots.values()) <= names]


def _hers(key: str, values: Collection[str], mailboxes: Collection[str]) -> bool:
    """Whether ``key`` is one of the person's ``values``: itself, a spelling of one of her
    ``mailboxes``, or an address stored before the upgrade that folds it to one of hers
    (core.mailbox.folded_email_key: one address in two spellings)."""
    return key in values or mailbox_key(key) in mailboxes or folded_email_key(key) in values


def widest_holder(profiles: ProfileStore, erasure: ErasureStore, key: str) -> CustomerState | None:
    """Of the live customers holding the identifier ``key`` now (its owner's and those its holder
    markers name, each followed to the live customer it leads to), the one whose values and names
    are the widest: the only one of them the others can be split off from (``own_splinters``
    takes a customer holding nothing she does not). None when no live customer holds it. Whether
    the others are hers is for her scope to say (``core.person_scope``): when two hold values or
    names the other does not, they are two people, whichever is returned."""
    owner = profiles.get_owners([key]).get(key)
    candidates = set(erasure.holders([key]).get(key, set()))
    if owner is not None:
        candidates.add(owner.customer_id)
    holding = {cid for cid, keys in live_identifiers(profiles, candidates).values() if key in keys}
    found = profiles.get_customers(sorted(holding))
    if not found:
        return None

    def width(state: CustomerState) -> tuple[int, int, str]:
        values = {i.key for i in state.profile.identifiers} if state.profile is not None else set()
        named = _names(state.snapshots.values())
        return (len({k for k in values if not k.startswith("source#")}), len(named), state.customer_id)

    return max(found.values(), key=width)


def _names(records: Iterable[SourceRecord]) -> set[tuple[str, str]]:
    """The names the records carry (first and last, case-folded): a split-off customer named
    otherwise is someone else sharing the address (a colleague on a company's, a twin on a family's)."""
    return {
        (trait, str(value).strip().casefold())
        for record in records
        for trait in NAME_TRAITS
        if (value := record.traits.get(trait)) not in (None, "")
    }


def live_identifiers(
    profiles: ProfileStore, customer_ids: Collection[str]
) -> dict[str, tuple[str, set[str]]]:
    """For each id, the live customer it leads to (following merges) and the keys it holds.

    The ids are read together, one batch per step along their merge chains (a person past her
    guardrail has dozens of split-off customers, each scope asking about all of them)."""
    out: dict[str, tuple[str, set[str]]] = {}
    at = {start: start for start in customer_ids}  # where each start's walk is now
    seen: dict[str, set[str]] = {start: set() for start in at}
    read: dict[str, tuple[str | None, Profile | None]] = {}
    while at:
        _read_items(profiles, sorted({c for c in at.values() if c not in read}), read)
        for start, cid in list(at.items()):
            seen[start].add(cid)
            merged_into, profile = read[cid]
            if merged_into and merged_into not in seen[start]:
                at[start] = merged_into
                continue
            if not merged_into and profile is not None:
                out[start] = (cid, {i.key for i in profile.identifiers})
            del at[start]
    return out


def _read_items(
    profiles: ProfileStore, ids: Sequence[str], into: dict[str, tuple[str | None, Profile | None]]
) -> None:
    """Where each of ``ids`` was merged to and its profile, in one read (both None: no item)."""
    if not ids:
        return
    if isinstance(profiles, ReadsProfiles):
        items = profiles.get_profiles(ids)
        into.update({c: (i.merged_into, i.profile) if (i := items.get(c)) else (None, None) for c in ids})
    else:
        states = profiles.get_customers(ids)
        into.update({c: (s.merged_into, s.profile) if (s := states.get(c)) else (None, None) for c in ids})


__all__ = ["live_identifiers", "own_splinters", "widest_holder"]
