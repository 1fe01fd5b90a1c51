"""An erasure that finds nobody (core.privacy): the person's customer may be one an older version
froze into a survivor its erasure then deleted (core.merge_undo.repair_orphan). That erasure found
the survivor through the identifiers handed to it and deleted their items with it, so no identifier
item leads to her customer any more; it suppressed them too. So when what the request names is
suppressed already, or its identifier item names a customer that is gone, the frozen customers whose
survivor is gone are read for it (``orphans_holding``: the store's list of frozen customers, on
DynamoDB a Scan of the table); never for a value nobody has held."""

from __future__ import annotations

from collections.abc import Callable

from core.identity import IdentityPolicy
from core.ingest_settings import IngestSettings
from core.person_scope import PersonScope, find_scope, scope_of
from core.ports import RETIRED_OWNER
from core.privacy_request import PrivacyStores
from core.schema import Identifier
from core.suppression import keyed_hash


def _may_be_orphaned(stores: PrivacyStores, salt: str, key: str) -> bool:
    """Whether an older erasure may have left the person's customer frozen with no item leading to
    it: the key's item names a customer that is gone, or an earlier erasure suppressed the key
    (without a suppression store, always)."""
    owner = stores.profiles.get_owners([key]).get(key)
    if owner is not None and owner.customer_id != RETIRED_OWNER:
        return not stores.profiles.get_customers([owner.customer_id])
    return stores.suppression is None or bool(stores.suppression.suppressed([keyed_hash(salt, key)]))


def find_orphaned(
    identifier: Identifier,
    stores: PrivacyStores,
    salt: str,
    policy: IdentityPolicy,
    sleep: Callable[[float], None],
) -> tuple[PersonScope, bool] | None:
    """The person's scope when a customer frozen into one that is gone holds what the request names,
    with whether that customer held nothing of hers any more (its profile went with the repair:
    she was found, nothing of hers is stored); None when none does. Each such customer is repaired
    first (``repair_orphan``): rebuilt from its records, its identifiers its own again, it is the
    person's customer, found again as any other."""
    from core.merge_undo import orphans_holding, repair_orphan

    if not _may_be_orphaned(stores, salt, identifier.key):
        return None
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
