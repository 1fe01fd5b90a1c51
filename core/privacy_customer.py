"""Deleting one erased customer (core.privacy, step 3): its items in guarded steps until nothing is
left, the customer read again after a lost race (a merge, a split or a large merge in flight), its
records taken out of the identity index first."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from core.errors import ConflictError
from core.identity import IdentityPolicy
from core.ingest_settings import IngestSettings
from core.merge_steps import finish_merges
from core.person_scope import PersonScope, plan_scope, scope_of
from core.ports import ProfileStore
from core.privacy_request import PrivacyStores
from core.privacy_store import ForgetsUnkeyed
from core.schema import SourceRecord
from core.scope_tombstones import retired_tombstones

if TYPE_CHECKING:
    from core.privacy_tools import ErasureReport


def settle_merges(profiles: ProfileStore, scope: PersonScope, sleep: Callable[[float], None]) -> bool:
    """Finish the large merge in flight of the customer ``scope`` found (or take back one an older
    version froze for good, core.merge_undo), before anything is erased: her identifiers may be with
    the other customer of it until then, and the customer found is then somebody else's. Whether
    there was one (the person is then located again)."""
    state = scope.state
    if state is None or not (state.merging_into or state.absorbing):
        return False
    return finish_merges(profiles, state, IngestSettings(sleep=sleep))


def _erase_customer(
    scope: PersonScope,
    stores: PrivacyStores,
    report: ErasureReport,
    policy: IdentityPolicy,
    max_attempts: int,
    sleep: Callable[[float], None],
) -> list[PersonScope]:
    """Delete the customer's items in guarded steps until nothing is left; return the scopes read
    again after a lost race (they may hold record ids a concurrent merge brought)."""
    profiles, erasure = stores.profiles, stores.erasure
    settings = IngestSettings(sleep=sleep)
    customer = scope.customer_id
    assert customer is not None
    # A large merge in flight (a review decision's, or a batch's) is finished first, on the read
    # below: erasing the survivor alone would leave the absorbed customer's records stored.
    busy = scope.state is not None and (scope.state.merging_into or scope.state.absorbing)
    current: PersonScope | None = None if busy else scope
    later: list[PersonScope] = []
    for attempt in range(max_attempts):
        try:
            if current is None:
                state = profiles.get_customers([customer]).get(customer)
                if state is not None and state.merged_into:
                    customer = state.merged_into  # merged away meanwhile: the survivor is the person now
                    continue
                # A large merge in flight: finish it (idempotent) and erase what it leaves.
                if state is not None and finish_merges(profiles, state, settings):
                    continue
                if state is None:
                    items = erasure.customer_items(customer)
                    if not items:
                        return later
                    # Its history goes last: the tombstones of its retired records are still found.
                    tombstones = retired_tombstones(profiles, [customer])
                    current = PersonScope(scope.request, customer, None, items=items, tombstones=tombstones)
                else:
                    current = scope_of(
                        scope.request,
                        state,
                        profiles=profiles,
                        erasure=erasure,
                        sync_state=stores.sync_state,
                        policy=policy,
                        splinters=False,  # the caller erases those of the first read
                    )
                    later.append(current)
            if not current.items:
                return later
            if current.state is not None:
                _forget_in_index(profiles, current.state.snapshots.values(), policy)
            for step in plan_scope(current, erasure.max_items_per_step):
                erasure.apply(step)
                report.steps += 1
                for delete in step:
                    report.counts[delete.key.kind] += 1
            if current.state is not None and isinstance(erasure, ForgetsUnkeyed):
                # Her values' items a previous-release invocation wrote under the value alone, with
                # no keyed twin for a step to find (attack31p): under her customer only.
                held = {i.key for r in current.state.snapshots.values() for i in r.identifiers}
                report.counts["ident"] += erasure.forget_unkeyed(sorted(held), customer)
            # Read once more: an item written while the steps ran is found and deleted too.
            current = None
        except ConflictError:
            report.retries += 1
            current = None
            sleep(random.uniform(0, 0.02 * 2**attempt))
    raise ConflictError(
        f"customer {customer} kept changing while it was erased; send the request again to finish"
    )


def _forget_in_index(profiles: ProfileStore, records: Iterable[SourceRecord], policy: IdentityPolicy) -> None:
    """Take the records out of the identity index (BLOCK# memberships, REVIEW# pairs) before their
    items go: nobody is found through an erased person's name or address. A no-op on a store
    without the index; idempotent, so a retried erasure does it again harmlessly."""
    from core.link_index import LinkIndex

    if isinstance(profiles, LinkIndex):
        from core.link_nodes import forget_records  # the matcher's imports only where it is used

        forget_records(profiles, records, policy)
