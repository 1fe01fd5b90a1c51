"""A child object whose owner changed leaves its old customer before it joins the new one.

A child object (an order, a charge, a subscription) joins its owner's customer through the owner's
``source#`` key (``SourceRecord.owner``). When the shop re-assigns an order to another customer, the
order's new version names the new owner, but its own ``source#`` key is still owned by the old
customer. Resolved as it was, that key joined the two customers into one plan: they were merged,
then split apart again, and the customer that did not keep the merged id came out under a new one,
although nothing of hers changed (tools holding her pushed ``profilesync_customer_id`` then pointed
at a tombstone).

Now the planner detaches such a child first: one conditional changeset per old customer removes the
child's snapshot and the identifiers only it held, and rebuilds that customer's profile; the child
is then planned again, finds its own key free and joins its new owner like any child. Neither
customer's id changes. A crash between the two steps leaves the child in no profile until its record
is ingested again (a retried batch or message): it then attaches as a new child would.

A customer the child is the only record of is left alone: there the child's move is a merge of that
customer into its new owner's (the order of a customer the pull quarantined, say), which resolution
already does.

Pure: plans on what the planner read; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from core.identity import IdentityPolicy
from core.merge import MergeRules, build_profile, profile_hash
from core.ports import Changeset, CustomerState, DeleteIdent, DeleteSource, Operation, PutProfile
from core.schema import SourceRecord


def moved_children(
    records: Iterable[SourceRecord], owner_of: Mapping[str, str], live: Mapping[str, CustomerState]
) -> dict[str, list[SourceRecord]]:
    """The children of ``records`` whose owner link now leads elsewhere than the customer holding
    them, by the (live) customer they leave. ``owner_of`` maps identifier keys to their live owner,
    ``live`` the loaded live customers (every owner of a record's keys among them)."""
    leaving: dict[str, list[SourceRecord]] = {}
    for record in records:
        if record.owner is None:
            continue
        held_by = owner_of.get(f"source#{record.key}")
        if held_by is None or owner_of.get(f"source#{record.owner}") == held_by:
            continue
        customer = live.get(held_by)
        if customer is None or record.key not in customer.snapshots:
            continue  # not what the planner read as stored: leave it to the ordinary plan
        leaving.setdefault(held_by, []).append(record)
    for customer_id in list(leaving):
        if len(leaving[customer_id]) >= len(live[customer_id].snapshots):
            del leaving[customer_id]  # nothing would stay: a merge into the new owner, as before
    return leaving


def detach_changeset(
    state: CustomerState, children: Sequence[SourceRecord], policy: IdentityPolicy, rules: MergeRules
) -> Changeset:
    """Remove ``children``'s snapshots from ``state``'s customer, with the identifier items only they
    held, and rebuild its profile; conditional on the customer's version (a lost race plans again)."""
    customer_id = state.customer_id
    leaving = {child.key for child in children}
    remaining = [snap for key, snap in state.snapshots.items() if key not in leaving]
    staying = {i.key for snap in remaining for i in snap.identifiers if not policy.is_blocked(i)}
    released = sorted(
        {i.key for key in sorted(leaving) for i in state.snapshots[key].identifiers} & state.owned - staying
    )
    ops: list[Operation] = [DeleteSource(customer_id, key) for key in sorted(leaving)]
    ops.extend(DeleteIdent(key, customer_id) for key in released)
    profile = build_profile(customer_id, remaining, rules, state.version + 1)
    ops.append(
        PutProfile(
            customer_id, profile, profile_hash(profile), state.owned - frozenset(released), state.version
        )
    )
    return Changeset(f"detach:{customer_id}", tuple(ops))


__all__ = ["detach_changeset", "moved_children"]
