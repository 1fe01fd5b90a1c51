"""The add-only mark of a PROFILE item (``PutProfile.add_only``, ``CustomerState.add_only``): what
the add-only path (core.ingest_grow) may assume of a customer's records without reading them.

The full plan reads every snapshot of a customer and writes the mark beside the profile it builds
from them; the add-only path plans a batch from the profile item alone, so it can only know what the
mark says. The mark is JSON: the fingerprint of the survivorship rules (``MergeRules``) the profile
was built with, then the record types (``source:object_type``) of the customer that carry an order
of another record. No mark (a profile stored before it, or one written by a merge, a split, an
erasure) means "plan the next batch in full", which writes it.

- A profile built under other rules than the batch's (``IngestSettings.rules``, a library setting)
  is rebuilt: the stored winners were picked under the old ones.
- A batch of a type that carries another record's order (a JSON-lines order record listing two
  orders of a split shipment) is planned in full: the add-only path would count a batch order that
  stored record also carries a second time (records of other types it reads: ``_order_holders``).
- A batch whose orders name a payment (``Order.payment_refs``) is planned in full when the customer's
  records of another type (``source:object_type``), stored (the mark's ``refs:`` entries) or in the
  batch, name payments too: one purchase may be an order of each (a WooCommerce order paid through
  Stripe, and its Stripe charge), which only the full plan counts once (core.purchases). Records of
  one type never hold one purchase twice that counts: a Stripe PaymentIntent succeeds once, so of
  its charges one at most is paid, and only paid orders are added. The add-only path keeps the mark
  it finds, so a paying record whose type the mark does not list yet (a customer's first Stripe
  charge) is planned in full too, which writes its ``refs:`` entry: without it, the charge added
  alone and its shop's order added alone in a later run each took the add-only path, and the
  purchase counted twice.
- A customer with an amount coarser than its currency's minor units (a ``SourceRecord`` built without
  core.normalise: ``5`` GBP; an order's, or a total of its ``OrderSummary``) gets no mark: the
  add-only path takes an amount out of the stored total on the promise that another of the same
  exponent stays (core.grow_profile ``_keeps_exponent``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal

from core.merge import MergeRules
from core.minor_units import minor_units
from core.schema import Order, OrderSummary, SourceRecord

__all__ = ["add_only_mark", "fits_minor_units", "mark_allows", "rules_fingerprint"]

#: The prefix of a mark's entry naming a record type whose stored orders name payments.
_REFS = "refs:"


#: Fingerprints worked out, by the id of the rules (kept alive beside: the id stays theirs). A
#: program runs one set of rules, or a few: every new customer of a batch asks.
_FINGERPRINTS: dict[int, tuple[MergeRules, str]] = {}


def rules_fingerprint(rules: MergeRules) -> str:
    """A short digest of every setting of ``rules`` (equal rules, equal fingerprints)."""
    known = _FINGERPRINTS.get(id(rules))
    if known is not None and known[0] is rules:
        return known[1]
    described = [
        [rules.default.strategy, list(rules.default.priority)],
        sorted([trait, rule.strategy, list(rule.priority)] for trait, rule in rules.per_trait.items()),
        # each currency's threshold as one spelling (1000, 1000.00 and 1E+3 are one), by code
        [[code, format(threshold.normalize(), "f")] for code, threshold in _thresholds(rules)],
    ]
    fingerprint = hashlib.sha256(json.dumps(described).encode()).hexdigest()[:16]
    if len(_FINGERPRINTS) >= 16:
        _FINGERPRINTS.clear()
    _FINGERPRINTS[id(rules)] = (rules, fingerprint)
    return fingerprint


def _thresholds(rules: MergeRules) -> list[tuple[str, Decimal]]:
    """The ``vip`` thresholds by currency code (``MergeRules`` keeps them as a sorted mapping)."""
    thresholds = rules.vip_lifetime_value
    if isinstance(thresholds, Decimal):  # never once made: MergeRules.__post_init__ maps it
        return [("*", thresholds)]
    return sorted(thresholds.items())


def fits_minor_units(orders: Iterable[Order], summary: OrderSummary | None = None) -> bool:
    """Whether every amount has at least its currency's minor units (as normalisation gives them):
    each order's, and each total of ``summary`` (a record's older orders summed up, which the
    lifetime value adds as it adds an order)."""
    if any(_coarse(order.total, order.currency) for order in orders):
        return False
    return summary is None or not any(_coarse(total, cur) for cur, total in summary.totals.items())


def _coarse(amount: Decimal, currency: str) -> bool:
    exponent = amount.as_tuple().exponent
    return not isinstance(exponent, int) or exponent > -minor_units(currency)


def add_only_mark(rules: MergeRules, snapshots: Iterable[SourceRecord]) -> str | None:
    """The mark of a customer whose profile ``rules`` built from ``snapshots`` (all of its records),
    or None when the add-only path must not plan it (an amount coarser than its minor units)."""
    carrying: set[str] = set()
    for snap in snapshots:
        if not fits_minor_units(snap.orders, snap.order_summary):
            return None
        if any(order.id != snap.source_id for order in snap.orders):
            carrying.add(f"{snap.source}:{snap.object_type}")
        if any(order.payment_refs for order in snap.orders):
            carrying.add(f"{_REFS}{snap.source}:{snap.object_type}")
    if not carrying:
        return f'["{rules_fingerprint(rules)}"]'  # json.dumps's, of a hex digest alone
    return json.dumps([rules_fingerprint(rules), *sorted(carrying)], separators=(",", ":"))


def mark_allows(mark: str | None, rules: MergeRules, records: Sequence[SourceRecord]) -> bool:
    """Whether the add-only path may plan ``records`` against a profile item marked ``mark``: built
    under ``rules``, no stored record of their types carrying another record's order, and the
    batch's own amounts in their minor units (so the mark it writes stays true)."""
    if mark is None:
        return False
    fingerprint, *carrying = json.loads(mark)
    if fingerprint != rules_fingerprint(rules):
        return False
    if any(f"{r.source}:{r.object_type}" in carrying for r in records):
        return False
    paying = {f"{r.source}:{r.object_type}" for r in records if any(o.payment_refs for o in r.orders)}
    if paying and len(paying | {c[len(_REFS) :] for c in carrying if c.startswith(_REFS)}) > 1:
        return False  # one purchase may be an order of each type: the full plan counts it once
    if paying and not all(f"{_REFS}{t}" in carrying for t in paying):
        return False  # the first paying record of its type: the full plan writes its refs: entry
    return all(fits_minor_units(r.orders) for r in records)
