"""An erasure that finds nobody (core.privacy): the person's customer may be one an older version
froze into a survivor its erasure then deleted (core.merge_undo.repair_orphan). That erasure found
the survivor through the identifiers handed to it and deleted their items with it, so no identifier
item leads to her customer any more; it suppressed them too, unless it ran before suppression
existed (or its suppression was lifted since). So whenever nobody holds what a request names, the
frozen customers whose survivor is gone are read for it (``orphans_holding``: the store's list of
frozen customers). Cost: on DynamoDB one Scan of the table filtered to the frozen profiles
(``FROZEN_SCAN``: it reads every item once, as ``profilesync repair`` does) and one read of each
frozen customer with its survivor (merges in flight are frozen for the seconds their steps take:
normally none); in SQLite one pass over the profile rows; in memory a scan of the marks. Only an
erasure that finds nobody pays it."""

from __future__ import annotations

from collections.abc import Callable

from core.identity import IdentityPolicy
from core.ingest_settings import IngestSettings
from core.person_scope import PersonScope, find_scope, scope_of
from core.ports import ProfileStore
from core.privacy_request import PrivacyStores
from core.schema import Identifier
from core.scope_holders import _shared


def find_orphaned(
    identifier: Identifier,
    stores: PrivacyStores,
    policy: IdentityPolicy,
    sleep: Callable[[float], None],
) -> tuple[PersonScope, bool] | None:
    """The person's scope when a customer frozen into one that is gone holds what the request names,
    with whether that customer held nothing of hers any more (its profile went with the repair:
    she was found, nothing of hers is stored); None when none does. Each such customer is repaired
    first (``repair_orphan``): rebuilt from its records, its identifiers its own again, it is the
    person's customer, found again as any other."""
    from core.merge_undo import orphans_holding, repair_orphan

    profiles = stores.profiles
    orphans = orphans_holding(profiles, identifier.key)
    held = _held(profiles, [cid for cid, _ in orphans])
    for cid, into in orphans:
        repair_orphan(profiles, cid, into, IngestSettings(sleep=sleep))
    if not orphans:
        return None
    erasure, sync_state = stores.erasure, stores.sync_state
    scope = find_scope(identifier, profiles=profiles, erasure=erasure, sync_state=sync_state, policy=policy)
    if scope.found or scope.ambiguous:
        return scope, False
    for cid, _ in orphans:  # rebuilt, but an identifier item of it lost to another writer meanwhile
        state = profiles.get_customers([cid]).get(cid)
        if state is not None and not state.merged_into and not state.merging_into:
            found = scope_of(
                identifier, state, profiles=profiles, erasure=erasure, sync_state=sync_state, policy=policy
            )
            return found, False
    _claim_held(scope, held, stores, policy)
    for cid, into in orphans:
        _delete_tombstone(stores, cid, into)
    return scope, True


def _held(profiles: ProfileStore, cids: list[str]) -> tuple[set[str], set[str]]:
    """The identifier keys and the record ids (``crm:contact:1``) the frozen profiles of ``cids``
    hold, read before their repair: one left with no record becomes a tombstone, which holds none."""
    keys: set[str] = set()
    sources: set[str] = set()
    for state in profiles.get_customers(cids).values() if cids else ():
        if state.profile is not None:
            keys |= {i.key for i in state.profile.identifiers}
            sources |= {ref.key for ref in state.profile.sources}
    return keys, sources


def _claim_held(
    scope: PersonScope, held: tuple[set[str], set[str]], stores: PrivacyStores, policy: IdentityPolicy
) -> None:
    """What her orphans held, into the scope of a request that found nobody left: her record ids
    (suppressed, so the next pull of her records drops them, and used to find her copies) and the
    identifiers nobody else holds (never a blocklisted value, never one another live customer holds)."""
    keys, sources = held
    known = {*scope.exclusive, *scope.shared}
    usable = sorted(k for k in keys - known if not policy.is_blocked(Identifier.from_key(k)))
    shared = _shared(stores.profiles, stores.erasure, None, usable)
    scope.exclusive = sorted({*scope.exclusive, *(k for k in usable if k not in shared)})
    scope.sources = sorted({*scope.sources, *sources})


def _delete_tombstone(stores: PrivacyStores, cid: str, into: str) -> None:
    """Delete every item of an orphan left with no record: the repair made its profile a tombstone
    naming ``into``, a customer that is gone, and its history names her records. Nothing of hers
    is kept in it (its identifiers went with ``into``); the index items of the names its history
    holds go after it (an item may outlive its event, never the other way round)."""
    from core.erasure_plan import plan_erasure
    from core.governance.history_names import IndexesHistoryNames, forget_in_steps, names_in_history

    profiles, erasure = stores.profiles, stores.erasure
    state = profiles.get_customers([cid]).get(cid)
    if state is None or state.snapshots or state.merged_into != into or profiles.get_customers([into]):
        return  # gone already, or not such a tombstone (it names a live customer: a merge's)
    history = getattr(profiles, "history", None)
    named = sorted(names_in_history(history, cid)) if isinstance(history, IndexesHistoryNames) else []
    for step in plan_erasure(cid, state, erasure.customer_items(cid), [], {}, erasure.max_items_per_step):
        erasure.apply(step)
    if named and isinstance(history, IndexesHistoryNames):
        forget_in_steps(history, [(name, cid) for name in named], erasure.max_items_per_step)
