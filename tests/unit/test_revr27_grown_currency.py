"""revR27: the primary currency where a profile keeps no latest order per currency.

``core.grow_profile._grown_computed`` dates each stored currency's latest paid order by the stored
``last_order_at`` (a profile keeps no latest per currency), so it must give way to the rebuild when
an order taken out was paid at that moment and the profile then holds two currencies. No test of
fix21m went red without that guard (revR27: ``if len(ltv) > 1 and any(o.created_at == stored_last
...)`` made ``if False``, tests/unit/test_fix21m_currencies.py all green); this one does. Likewise a
record whose older orders are summed up (``OrderSummary``) dates its currencies' latest by its
``last_paid_at``: left out (``latest[currency] = ...`` made ``pass``), no fix21m test went red.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core.grow_profile import grown_profile
from core.merge import MergeRules, build_profile
from core.push import primary_currency
from core.schema import Order, OrderSummary

from .test_fix21m_currencies import T0, _order


def test_an_order_corrected_into_another_currency_at_the_stored_latest_gives_the_rebuilds_currency() -> None:
    # GIVEN two GBP orders stored, the later at hour 10, WHEN that order comes again corrected into
    # yen (same id, same time): one order each, the yen one the latest
    stored = [_order(1, "900.00", "GBP", 1), _order(2, "900.00", "GBP", 10)]
    corrected = _order(2, "150000", "JPY", 10)
    profile = build_profile("cid", stored, MergeRules(), 1)
    grown = grown_profile(profile, [corrected], {corrected.key: stored[1]}, {}, MergeRules(), 2, True)
    rebuilt = build_profile("cid", [stored[0], corrected], MergeRules(), 2)
    # THEN the rebuild's currency, yen (the latest), whichever path made it: the add-only path, which
    # would read the pounds' latest as hour 10 too (a tie, then the code: GBP), gives way
    assert primary_currency(rebuilt) == "JPY"
    assert grown is None or grown == rebuilt


def test_a_summarys_currency_is_dated_by_its_last_paid_order_in_a_tie() -> None:
    # GIVEN a record with two GBP orders inline (hours 1 and 2) and two older EUR orders summed up,
    # the last paid at hour 50 (a tie in paid orders: the latest breaks it)
    inline = tuple(
        Order(id=f"o{h}", total=Decimal("10.00"), currency="GBP", created_at=T0 + timedelta(hours=h))
        for h in (1, 2)
    )
    summary = OrderSummary(
        orders=2,
        paid={"EUR": 2},
        totals={"EUR": Decimal("20.00")},
        first_paid_at=T0,
        last_paid_at=T0 + timedelta(hours=50),
    )
    record = _order(1, "10.00", "GBP", 1).model_copy(update={"orders": inline, "order_summary": summary})
    # WHEN built THEN the euro, whose last paid order is the latest
    assert primary_currency(build_profile("cid", [record], MergeRules(), 1)) == "EUR"
