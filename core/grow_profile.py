"""A customer's profile updated from the stored one by an add-only batch (core.ingest_grow).

``grown_profile`` gives what ``core.merge.build_profile`` gives over the customer's stored snapshots
with the batch's records put in (new ones added, the versions they replace taken out), without those
snapshots: from the stored profile, the batch's records, the versions they replace and the
snapshots of the stored winners the batch's traits and consent compete with. It returns None
whenever the profile alone cannot decide the result the same way (see each check); the caller then
rebuilds the whole profile.

- identifiers and sources: inserted in key order (a replaced version keeps its identifiers);
- traits and consent: the stored winner against the new candidates, by the rule's own order
  (``core.merge._pick``, the consent rank of ``core.merge._winning_consent``), which is total, so the
  winner of all is the winner of the two sides; a replaced version that won falls back;
- computed traits: the stored totals plus the new paid orders minus the replaced ones, per currency
  (the count per currency is known only when the stored profile holds at most one currency); a
  replaced order at the first or last order time, or whose amount carries the finest precision of
  its currency's total (the total's exponent could coarsen without it), falls back. Orders naming a
  payment (``Order.payment_refs``) reach it only when no record of another type names one
  (core.grow_mark): one purchase is then never two of the orders it adds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, Inexact, localcontext

from core.computed_traits import _NO_ORDERS, _ZERO, _computed
from core.grow_kept import insert_identifiers, insert_refs
from core.merge import MergeRules, _Candidate, _pick
from core.minor_units import minor_units
from core.schema import (
    ComputedTraits,
    ConsentValue,
    Order,
    Profile,
    SourceRecord,
    SourceRef,
    TraitValue,
)
from core.time_bound import ordered_by_read

__all__ = ["grown_profile", "winner_keys"]

#: Digits past which a sum in another order might round (28 in the default context): fall back.
_MAX_DIGITS = 20


def winner_keys(profile: Profile, records: Sequence[SourceRecord]) -> set[str]:
    """The source keys of the stored winners of the traits and consent channels ``records`` carry:
    the snapshots ``grown_profile`` compares the new candidates with."""
    keys: set[str] = set()
    for record in records:
        for name, value in record.traits.items():
            if value and name in profile.traits:
                keys.add(profile.traits[name].source)
        for channel in record.consent:
            if channel in profile.consent:
                keys.add(profile.consent[channel].source)
    return keys


def grown_profile(
    profile: Profile,
    records: Sequence[SourceRecord],
    replaced: Mapping[str, SourceRecord],
    snapshots: Mapping[str, SourceRecord],
    rules: MergeRules,
    version: int,
    minor_units: bool = False,
) -> Profile | None:
    """``build_profile`` of the stored snapshots with ``records`` (sorted by key, each a child whose
    orders are its own) in, ``replaced`` (the stored versions some of them replace, by key) out; or
    None when that cannot be decided from ``profile`` and ``snapshots`` (the stored winners).
    ``minor_units``: every stored amount is known to have at least its currency's minor units (the
    add-only mark, core.grow_mark, says so); unknown, an amount taken out whose exponent is the
    total's falls back, unless the batch brings one as fine."""
    won = {t.source for t in profile.traits.values()} | {c.source for c in profile.consent.values()}
    if any(key in won for key in replaced):
        return None  # the runner-up is not in the profile
    traits = _traits(profile, records, snapshots, rules)
    consent = _consent(profile, records, snapshots)
    computed = _grown_computed(profile.computed, records, replaced.values(), rules, minor_units)
    if traits is None or consent is None or computed is None:
        return None
    identifiers = insert_identifiers(profile.identifiers, [i for r in records for i in r.identifiers])
    sources = insert_refs(
        profile.sources,
        [
            SourceRef.assemble(
                source=r.source, object_type=r.object_type, id=r.source_id, updated_at=r.updated_at
            )
            for r in records
        ],
    )
    return Profile.assemble(
        customer_id=profile.customer_id,
        identifiers=identifiers,
        traits=traits,
        computed=computed,
        consent=consent,
        sources=sources,
        version=version,
    )


def _traits(
    profile: Profile,
    records: Sequence[SourceRecord],
    snapshots: Mapping[str, SourceRecord],
    rules: MergeRules,
) -> dict[str, TraitValue] | None:
    new: dict[str, list[_Candidate]] = {}
    for r in records:
        for name, value in r.traits.items():
            if value:
                new.setdefault(name, []).append((r.key, r, value))
    if not new:
        return profile.traits
    out = dict(profile.traits)
    for name, candidates in new.items():
        stored = profile.traits.get(name)
        if stored is not None:
            snap = snapshots.get(stored.source)
            if snap is None or snap.traits.get(name) != stored.value:
                return None  # the winner's snapshot is not the one the profile names
            candidates = [*candidates, (stored.source, snap, stored.value)]
        key, record, value = (
            candidates[0] if len(candidates) == 1 else _pick(candidates, rules.rule_for(name))
        )
        out[name] = TraitValue.assemble(value=value, source=key, updated_at=record.updated_at)
    return {name: out[name] for name in sorted(out)}


def _consent_rank(key: str, record: SourceRecord, channel: str) -> tuple[datetime, bool, str]:
    """``core.merge._winning_consent``'s rank of ``record``'s decision on ``channel``."""
    state = record.consent[channel]
    at = state.changed_at
    if record.read_at is not None and at > record.read_at:
        at = ordered_by_read(at, record.read_at)
    return (at, not state.granted, key)


def _consent(
    profile: Profile, records: Sequence[SourceRecord], snapshots: Mapping[str, SourceRecord]
) -> dict[str, ConsentValue] | None:
    if not any(r.consent for r in records):
        return profile.consent
    best: dict[str, tuple[tuple[datetime, bool, str], SourceRecord]] = {}
    for channel, value in profile.consent.items():
        snap = snapshots.get(value.source)
        state = snap.consent.get(channel) if snap is not None else None
        if (
            snap is None
            or state is None
            or (state.granted, state.changed_at) != (value.granted, value.changed_at)
        ):
            if any(channel in r.consent for r in records):
                return None  # the winner's snapshot is not the one the profile names
            continue
        best[channel] = (_consent_rank(value.source, snap, channel), snap)
    out = dict(profile.consent)
    for r in records:
        for channel in r.consent:
            rank = _consent_rank(r.key, r, channel)
            current = best.get(channel)
            if current is None or rank > current[0]:
                best[channel] = (rank, r)
                state = r.consent[channel]
                out[channel] = ConsentValue.assemble(
                    granted=state.granted, changed_at=state.changed_at, source=r.key
                )
    return {channel: out[channel] for channel in sorted(out)}


def _paid(records: Iterable[SourceRecord]) -> list[Order]:
    return [o for r in records for o in r.orders if o.status == "paid"]


def _grown_computed(
    stored: ComputedTraits,
    records: Sequence[SourceRecord],
    replaced: Iterable[SourceRecord],
    rules: MergeRules,
    minor_units: bool,
) -> ComputedTraits | None:
    added = _paid(records)
    removed = _paid(replaced)
    if not added and not removed:
        return stored
    if len(stored.lifetime_value) > 1:
        return None  # the count per currency is not in the profile
    ltv = dict(stored.lifetime_value)
    counts = dict.fromkeys(ltv, stored.order_count)
    first, last = stored.first_order_at, stored.last_order_at
    values = [*ltv.values(), *(o.total for o in added), *(o.total for o in removed)]
    if any(len(v.as_tuple().digits) > _MAX_DIGITS for v in values):
        return None
    added_at = {o.created_at for o in added}
    for order in removed:
        total = ltv.get(order.currency)
        if total is None:
            return None  # the profile does not hold the order it should
        if order.created_at in (first, last) and order.created_at not in added_at:
            return None  # another order may share that time, or not
        left = stored.order_count - sum(1 for o in removed if o.currency == order.currency)
        if not _keeps_exponent(order, total, added, left if minor_units else 0):
            return None
    with localcontext() as context:
        context.traps[Inexact] = True
        try:
            for order in removed:
                ltv[order.currency] -= order.total
                counts[order.currency] -= 1
            for order in added:
                currency = order.currency
                if currency in ltv:
                    ltv[currency] += order.total
                    counts[currency] += 1
                else:
                    ltv[currency] = _ZERO + order.total
                    counts[currency] = 1
        except Inexact:
            return None
    for currency in [c for c, n in counts.items() if n <= 0]:
        if counts[currency] < 0:
            return None
        del ltv[currency], counts[currency]
    if not counts:
        return _NO_ORDERS
    # The latest paid order per currency (the primary currency's tie-break): the stored currency's
    # is the stored last, unless a removed order was paid then (an added one at that time kept it).
    stored_last = stored.last_order_at
    if len(ltv) > 1 and any(o.created_at == stored_last for o in removed):
        return None
    latest: dict[str, datetime] = {}
    if stored_last is not None:
        latest.update((currency, stored_last) for currency in stored.lifetime_value if currency in ltv)
    for order in added:
        currency, at = order.currency, order.created_at
        if currency in ltv and (currency not in latest or at > latest[currency]):
            latest[currency] = at
    if added:
        moments = [o.created_at for o in added]
        first = min(moments) if first is None else min(first, *moments)
        last = max(moments) if last is None else max(last, *moments)
    return _computed(ltv, counts, first, last, rules, latest)


def _exponent(value: Decimal) -> int:
    found = value.as_tuple().exponent
    return found if isinstance(found, int) else 0


def _keeps_exponent(order: Order, total: Decimal, added: Sequence[Order], left: int) -> bool:
    """Whether taking ``order`` out of ``total`` (its currency's stored sum, whose exponent is the
    smallest of zero and its orders') leaves the exponent the rebuild's sum has: a sum's exponent is
    the smallest of its terms', so ``x + y - y`` keeps ``y``'s finer one where the rebuild does not.
    ``left``: the paid orders of the currency that stay, when each is known to have at least its
    currency's minor units (0 when not known): normalisation gives every amount of a currency its
    minor units (core.normalise's money), so an order of that exponent leaves another as fine, and
    the total keeps it; a coarser one (``5``, a record built without normalisation) would not."""
    own = _exponent(order.total)
    if own >= 0 or own > _exponent(total):
        return True  # zero or another order gives the stored exponent
    if left > 0 and own == -minor_units(order.currency):
        return True
    return any(o.currency == order.currency and _exponent(o.total) <= own for o in added)
