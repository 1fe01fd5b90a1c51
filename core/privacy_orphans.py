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
from core.ports import CustomerState
from core.privacy_request import PrivacyStores
from core.schema import Identifier
from core.scope_holders import _shared


def find_orphaned(
    identifier: Identifier,
    stores: PrivacyStores,
    policy: IdentityPolicy,
    sleep: Callable[[float], None],
) -> tuple[PersonScope, bool, list[tuple[str, str]]] | None:
    """The person's scope when a customer frozen into one that is gone holds what the request names,
    with whether she was found that way with nothing of hers stored any more, and the frozen
    customers left with no record (each with the gone customer it names) to delete once her
    erasure suppressed what they held (``delete_orphans``); None when none does. Each customer with
    records is repaired first (``repair_orphan``): rebuilt from its records, its identifiers its own
    again, it is the person's customer, found again as any other. One with none is left frozen, so
    that the request sent again after a kill finds it again, until ``delete_orphans``."""
    from core.merge_undo import orphans_holding, repair_orphan

    profiles = stores.profiles
    orphans = orphans_holding(profiles, identifier.key)
    if not orphans:
        return None
    states = profiles.get_customers([cid for cid, _ in orphans])
    empty = [(cid, into) for cid, into in orphans if cid in states and not states[cid].snapshots]
    for cid, into in orphans:
        if (cid, into) not in empty:
            repair_orphan(profiles, cid, into, IngestSettings(sleep=sleep))
    erasure, sync_state = stores.erasure, stores.sync_state
    scope = find_scope(identifier, profiles=profiles, erasure=erasure, sync_state=sync_state, policy=policy)
    if scope.found or scope.ambiguous:
        return scope, False, empty
    for cid, _ in orphans:  # rebuilt, but an identifier item of it lost to another writer meanwhile
        state = profiles.get_customers([cid]).get(cid)
        if state is not None and not state.merged_into and not state.merging_into:
            found = scope_of(
                identifier, state, profiles=profiles, erasure=erasure, sync_state=sync_state, policy=policy
            )
            return found, False, empty
    _claim_held(scope, _held(list(states.values())), stores, policy)
    return scope, True, empty


def delete_orphans(stores: PrivacyStores, orphans: list[tuple[str, str]]) -> None:
    """Delete every item of each frozen customer left with no record (``find_orphaned``): the index
    items of the names its history holds, its history and any other item, its profile last (guarded
    by the version read), so that an erasure killed at any point and sent again finds it again
    (``orphans_holding`` reads the profile) and finishes. Nothing of hers is kept in it (its
    identifiers went with the customer it names); one no longer such a customer is left alone."""
    from core.governance.history_names import IndexesHistoryNames, forget_in_steps, names_in_history
    from core.privacy_store import DeleteItem, ItemKey, apply_in_steps

    profiles, erasure = stores.profiles, stores.erasure
    size = max(1, erasure.max_items_per_step)
    for cid, into in orphans:
        read = profiles.get_customers([cid, into])
        state = read.get(cid)
        if state is None or into in read or state.snapshots or state.merging_into != into:
            continue  # gone already, repaired meanwhile, or it names a live customer
        history = getattr(profiles, "history", None)
        if isinstance(history, IndexesHistoryNames):
            forget_in_steps(history, [(name, cid) for name in sorted(names_in_history(history, cid))], size)
        profile = ItemKey(f"CUSTOMER#{cid}", "PROFILE")
        rest = [DeleteItem(k) for k in erasure.customer_items(cid) if k != profile]
        owners = profiles.get_owners(sorted(state.owned))
        rest += [
            DeleteItem(ItemKey(f"IDENT#{k}", "IDENT"), expected_owner=cid)
            for k, o in owners.items()
            if o.customer_id == cid
        ]
        apply_in_steps(erasure, rest)
        erasure.apply((DeleteItem(profile, expected_version=state.version),))


def _held(states: list[CustomerState]) -> tuple[set[str], set[str]]:
    """The identifier keys and the record ids (``crm:contact:1``) the frozen profiles ``states``
    hold, read before their repair (one repaired with no record holds none)."""
    keys: set[str] = set()
    sources: set[str] = set()
    for state in states:
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


def orphan_targets(scope: PersonScope, tool: str) -> list[Identifier]:
    """The ids of the records at ``tool`` that her orphans named (``scope.sources`` of a request that
    found her only through them: ``_claim_held``), to be erased there as a live customer's are."""
    return [Identifier(kind="source", value=key) for key in scope.sources if key.startswith(f"{tool}:")]
