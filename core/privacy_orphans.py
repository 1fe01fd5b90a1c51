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
from core.privacy_request import PrivacyStores
from core.schema import Identifier


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
    return scope, True
