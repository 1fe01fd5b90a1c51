"""Computed traits: lifetime value, order count, first and last order, average order value, segment.

Part of ``Profile = fold(rules, source records)`` (core.merge, which re-exports ``compute_traits``):
a pure function of the *set* of a customer's records, summed in key order so that neither arrival
order nor duplicates change a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from operator import itemgetter
from typing import TYPE_CHECKING

from core.purchases import purchases
from core.schema import ComputedTraits, Order, OrderSummary, SourceRecord

if TYPE_CHECKING:  # core.merge imports this module; the rules are only read here
    from core.merge import MergeRules


def compute_traits(records: Iterable[SourceRecord], rules: MergeRules) -> ComputedTraits:
    """Lifetime value and average order value per currency, order count, first/last order, segment.

    Only paid orders count. An order is identified by its source and id, so the same order carried
    by two snapshots of one tool is counted once; orders of two tools that name one payment
    (``Order.payment_refs``) are one purchase, counted once (core.purchases).
    """
    orders: dict[tuple[str, str], Order] = {}
    summaries: list[tuple[str, OrderSummary]] = []
    for record in records:
        if record.orders:  # most records carry none
            source = record.source
            for order in record.orders:
                orders.setdefault((source, order.id), order)
        if record.order_summary is not None:
            summaries.append((record.key, record.order_summary))
    if not orders and not summaries:  # most customers: nothing to sort or sum
        return _NO_ORDERS
    orders = purchases(orders)
    if summaries:
        return _with_summaries(orders, sorted(summaries, key=itemgetter(0)), rules)
    # Sorted, so that the sums are added in the same order whatever the records' order.
    ordered: Iterable[Order] = orders.values() if len(orders) == 1 else [orders[k] for k in sorted(orders)]
    ltv: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    first: datetime | None = None
    last: datetime | None = None
    for order in ordered:
        if order.status != "paid":
            continue
        currency, at = order.currency, order.created_at
        if currency in ltv:
            ltv[currency] += order.total
            counts[currency] += 1
        else:
            ltv[currency] = _ZERO + order.total  # what sum() from Decimal(0) gives (e.g. -0 -> 0)
            counts[currency] = 1
        if first is None or at < first:
            first = at
        if last is None or at > last:
            last = at
    if first is None:
        return _NO_ORDERS
    # the latest paid order per currency: read only with two currencies or more (rare), so apart
    latest = _NO_LATEST if len(ltv) == 1 else _latest(ordered)
    return _computed(ltv, counts, first, last, rules, latest)


def _latest(orders: Iterable[Order]) -> dict[str, datetime]:
    """The time of the latest paid order of each currency."""
    latest: dict[str, datetime] = {}
    for order in orders:
        if order.status == "paid":
            at, known = order.created_at, latest.get(order.currency)
            if known is None or at > known:
                latest[order.currency] = at
    return latest


def _computed(
    ltv: dict[str, Decimal],
    counts: dict[str, int],
    first: datetime | None,
    last: datetime | None,
    rules: MergeRules,
    latest: Mapping[str, datetime],
) -> ComputedTraits:
    """The computed traits of paid totals, counts and latest paid order per currency (every count
    above zero; ``latest`` is read only with two currencies or more). Amounts of two currencies are
    never compared: ``vip`` is a currency's lifetime value reaching that currency's threshold
    (``MergeRules.vip_threshold``), and the primary currency is the one of the most paid orders,
    then of the latest, then the first code."""
    paid_count = sum(counts.values())
    aov = {
        cur: (total / counts[cur]).quantize(_quantum(total), rounding=ROUND_HALF_EVEN)
        for cur, total in ltv.items()
    }
    primary: str | None = None
    if len(ltv) > 1:
        # max keeps the first of equals: sorted, the first code
        primary = max(sorted(ltv), key=lambda cur: (counts[cur], latest[cur]))
    segment = segment_of(ltv, paid_count, rules)
    return ComputedTraits.assemble(
        lifetime_value=ltv if len(ltv) == 1 else dict(sorted(ltv.items())),
        order_count=paid_count,
        first_order_at=first,
        last_order_at=last,
        average_order_value=aov if len(aov) == 1 else dict(sorted(aov.items())),
        segment=segment,
        primary_currency=primary,
    )


def segment_of(ltv: Mapping[str, Decimal], paid_count: int, rules: MergeRules) -> str:
    """The segment of paid totals per currency and a paid order count under ``rules``: ``prospect``
    with no paid order, ``vip`` when a currency's lifetime value reaches that currency's threshold
    (``MergeRules.vip_threshold``), ``repeat`` from two paid orders, else ``customer``. What a
    profile's ``ComputedTraits`` hold is enough (core.resegment re-segments stored profiles by it)."""
    if not ltv:
        return "prospect"
    vip = rules.vip_threshold  # None: that currency makes nobody vip
    if any((t := vip(cur)) is not None and total >= t for cur, total in ltv.items()):
        return "vip"
    return "repeat" if paid_count >= 2 else "customer"


def _with_summaries(
    orders: Mapping[tuple[str, str], Order], summaries: list[tuple[str, OrderSummary]], rules: MergeRules
) -> ComputedTraits:
    """``compute_traits`` for customers with a record too large to hold its orders inline: the orders
    each such record summed up (``OrderSummary``) are added to the ones listed. Rare, so kept apart
    from the hot path above, which it equals when there is no summary."""
    ltv: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    latest: dict[str, datetime] = {}
    moments: list[datetime] = []
    for key in sorted(orders):
        order = orders[key]
        if order.status == "paid":
            currency, at = order.currency, order.created_at
            ltv[currency] = ltv.get(currency, _ZERO) + order.total
            counts[currency] = counts.get(currency, 0) + 1
            latest[currency] = max(at, latest.get(currency, at))
            moments.append(at)
    for _, summary in summaries:
        # A summary keeps one last paid time, not one per currency: each of its currencies is
        # taken as paid then (only a tie in paid orders between two currencies reads it).
        last_paid = summary.last_paid_at
        for currency, total in sorted(summary.totals.items()):
            paid = summary.paid.get(currency, 0)
            if paid:
                ltv[currency] = ltv.get(currency, _ZERO) + total
                counts[currency] = counts.get(currency, 0) + paid
                if last_paid is not None:
                    latest[currency] = max(last_paid, latest.get(currency, last_paid))
        moments.extend(at for at in (summary.first_paid_at, last_paid) if at is not None)
    if not counts:
        return _NO_ORDERS
    for currency in counts:  # a summary without paid times (never written so): its first moment
        latest.setdefault(currency, min(moments))
    return _computed(ltv, counts, min(moments), max(moments), rules, latest)


_ZERO = Decimal(0)
_NO_LATEST: Mapping[str, datetime] = {}


def _quantum(total: Decimal) -> Decimal:
    """The quantum of an average: the total's own precision, at most whole units."""
    found = total.as_tuple().exponent
    exponent = min(found, 0) if isinstance(found, int) else 0
    quantum = _QUANTA.get(exponent)
    if quantum is None:
        quantum = _QUANTA[exponent] = Decimal(1).scaleb(exponent)
    return quantum


_QUANTA: dict[int, Decimal] = {}


_NO_ORDERS = ComputedTraits()
