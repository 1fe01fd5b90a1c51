"""fix21m: amounts of two currencies are never compared.

The primary currency (what every tool is told the lifetime value is in) is the one of the most paid
orders, then of the latest, then the first code; ``vip`` is a currency's lifetime value reaching that
currency's own threshold (``MergeRules.vip_lifetime_value``), a currency without one never ``vip``.
Both hold on the rebuild, the add-only path and a record too large to hold its orders inline, and a
profile stored before the field existed still pushes the currency of the most orders.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.grow_mark import rules_fingerprint
from core.grow_profile import grown_profile
from core.merge import VIP_LIFETIME_VALUE, MergeRules, build_profile, profile_json
from core.push import enriched_traits, primary_currency
from core.schema import ComputedTraits, Identifier, Order, OrderSummary, Profile, SourceRecord

T0 = datetime(2026, 3, 1, tzinfo=UTC)
OWNER = Identifier(kind="source", value="shop:contact:c1")


def _order(number: int, total: str, currency: str, hours: int) -> SourceRecord:
    at = T0 + timedelta(hours=hours)
    order = Order(id=f"o{number}", total=Decimal(total), currency=currency, created_at=at)
    return SourceRecord(
        source="shop",
        object_type="order",
        source_id=f"o{number}",
        updated_at=at,
        identifiers=(OWNER, Identifier(kind="source", value=f"shop:order:o{number}")),
        orders=(order,),
        level="child",
        owner="shop:contact:c1",
    )


DEFAULT = MergeRules()


def _profile(*orders: tuple[str, str, int], rules: MergeRules = DEFAULT) -> Profile:
    records = [_order(n, total, cur, hours) for n, (total, cur, hours) in enumerate(orders, 1)]
    return build_profile("cid", records, rules, 1)


def test_more_orders_win_over_a_larger_number() -> None:
    # GIVEN two orders of 900,000 IDR and three of 20.00 EUR
    profile = _profile(("900000", "IDR", 1), ("900000", "IDR", 2), *(("20.00", "EUR", h) for h in (3, 4, 5)))
    # THEN the euros are pushed (before: 1,800,000 IDR)
    traits = enriched_traits(profile)
    assert (traits["lifetime_value"], traits["lifetime_value_currency"]) == ("60.00", "EUR")
    assert traits["average_order_value"] == "20.00"
    assert profile.computed.primary_currency == "EUR"


def test_equal_counts_go_to_the_currency_of_the_latest_order_then_the_code() -> None:
    # GIVEN two GBP orders and two USD orders, the latest in USD
    later_usd = _profile(("900.00", "GBP", 1), ("900.00", "GBP", 5), ("10.00", "USD", 2), ("10.00", "USD", 6))
    assert primary_currency(later_usd) == "USD"
    # AND the latest in GBP
    later_gbp = _profile(("900.00", "GBP", 1), ("900.00", "GBP", 7), ("10.00", "USD", 2), ("10.00", "USD", 6))
    assert primary_currency(later_gbp) == "GBP"
    # AND both at the same moment: the first code
    same = _profile(("10.00", "USD", 1), ("10.00", "GBP", 1))
    assert primary_currency(same) == "GBP"


def test_a_one_currency_profile_serialises_as_before() -> None:
    # The field is added later and optional: a profile of one currency has no key (its hash stays)
    profile = _profile(("12.50", "GBP", 1), ("7.50", "GBP", 2))
    assert profile.computed.primary_currency is None
    assert "primary_currency" not in json.loads(profile_json(profile))["computed"]
    assert primary_currency(profile) == "GBP"
    two = _profile(("12.50", "GBP", 1), ("1500", "JPY", 2), ("1500", "JPY", 3))
    assert json.loads(profile_json(two))["computed"]["primary_currency"] == "JPY"


def test_a_profile_stored_before_the_field_reads_its_counts_back() -> None:
    # GIVEN a profile stored before primary_currency existed: five orders of 240.00 EUR, three of
    # 15,000 KRW, no primary currency in it
    computed = ComputedTraits(
        lifetime_value={"EUR": Decimal("1200.00"), "KRW": Decimal("45000")},
        order_count=8,
        average_order_value={"EUR": Decimal("240.00"), "KRW": Decimal("15000")},
        segment="vip",
    )
    profile = Profile(customer_id="cid", identifiers=(OWNER,), computed=computed)
    # THEN the counts are lifetime value over average (5 and 3): the euros
    assert primary_currency(profile) == "EUR"


def test_vip_thresholds_are_per_currency() -> None:
    # 1,000 USD is vip by default, 1,000 JPY is not (150,000 JPY is)
    assert _profile(("1000.00", "USD", 1)).computed.segment == "vip"
    assert _profile(("1000", "JPY", 1)).computed.segment == "customer"
    assert _profile(("150000", "JPY", 1)).computed.segment == "vip"
    # a currency without a threshold is never vip on its own (5,000 KWD is about 15,000 EUR)
    assert "KWD" not in VIP_LIFETIME_VALUE
    assert _profile(("5000.000", "KWD", 1)).computed.segment == "customer"
    # ... beside a currency that reaches its own, the person is
    assert _profile(("5000.000", "KWD", 1), ("1000.00", "EUR", 2)).computed.segment == "vip"
    # a threshold set for it counts
    kwd = MergeRules(vip_lifetime_value={**VIP_LIFETIME_VALUE, "KWD": Decimal("300")})
    assert _profile(("5000.000", "KWD", 1), rules=kwd).computed.segment == "vip"
    # one number is the threshold of every currency, as before thresholds were per currency
    one = MergeRules(vip_lifetime_value=Decimal("1000"))
    assert _profile(("1000", "JPY", 1), rules=one).computed.segment == "vip"
    # "*" is every currency without its own
    star = MergeRules(vip_lifetime_value={"*": Decimal("500"), "JPY": Decimal("80000")})
    assert _profile(("600.000", "KWD", 1), rules=star).computed.segment == "vip"
    assert _profile(("600", "JPY", 1), rules=star).computed.segment == "customer"


def test_the_rules_fingerprint_follows_each_currency_threshold() -> None:
    base = MergeRules()
    assert rules_fingerprint(base) == rules_fingerprint(
        MergeRules(vip_lifetime_value=dict(VIP_LIFETIME_VALUE))
    )
    changed = MergeRules(vip_lifetime_value={**VIP_LIFETIME_VALUE, "JPY": Decimal("100000")})
    assert rules_fingerprint(changed) != rules_fingerprint(base)
    added = MergeRules(vip_lifetime_value={**VIP_LIFETIME_VALUE, "KWD": Decimal("300")})
    assert rules_fingerprint(added) != rules_fingerprint(base)
    # equal thresholds written apart, in another order, are one
    a = MergeRules(vip_lifetime_value={"JPY": Decimal("150000"), "USD": Decimal("1000")})
    b = MergeRules(vip_lifetime_value={"USD": Decimal("1E+3"), "JPY": Decimal("150000.0")})
    assert a == b
    assert rules_fingerprint(a) == rules_fingerprint(b)


def test_a_summarised_record_counts_its_orders_per_currency() -> None:
    # GIVEN a record whose older orders are summed up: 40 paid in EUR, and 2 inline in GBP
    # (larger numbers, later)
    record = _order(1, "5000.00", "GBP", 100).model_copy(
        update={
            "orders": (
                Order(
                    id="o1", total=Decimal("5000.00"), currency="GBP", created_at=T0 + timedelta(hours=100)
                ),
                Order(
                    id="o2", total=Decimal("5000.00"), currency="GBP", created_at=T0 + timedelta(hours=101)
                ),
            ),
            "order_summary": OrderSummary(
                orders=40,
                paid={"EUR": 40},
                totals={"EUR": Decimal("400.00")},
                first_paid_at=T0,
                last_paid_at=T0 + timedelta(hours=50),
            ),
        }
    )
    profile = build_profile("cid", [record], MergeRules(), 1)
    assert profile.computed.order_count == 42
    assert primary_currency(profile) == "EUR"


def test_the_add_only_path_gives_the_rebuilds_primary_currency() -> None:
    # GIVEN a stored profile of two GBP orders, WHEN three JPY orders come
    stored = [_order(1, "900.00", "GBP", 1), _order(2, "900.00", "GBP", 2)]
    batch = [_order(n, "1500", "JPY", n) for n in (3, 4, 5)]
    profile = build_profile("cid", stored, MergeRules(), 1)
    grown = grown_profile(profile, batch, {}, {}, MergeRules(), 2, True)
    rebuilt = build_profile("cid", [*stored, *batch], MergeRules(), 2)
    # THEN the grown profile is the rebuild's: yen, the most orders
    assert grown == rebuilt
    assert primary_currency(rebuilt) == "JPY"


def test_the_add_only_path_breaks_a_tie_on_the_stored_currencys_latest_order() -> None:
    # GIVEN two GBP orders stored, the later at hour 10, WHEN two JPY orders of hours 3 and 4 come
    stored = [_order(1, "900.00", "GBP", 1), _order(2, "900.00", "GBP", 10)]
    batch = [_order(n, "1500", "JPY", n) for n in (3, 4)]
    profile = build_profile("cid", stored, MergeRules(), 1)
    grown = grown_profile(profile, batch, {}, {}, MergeRules(), 2, True)
    # THEN two orders each: the pounds, whose latest order is later (as the rebuild says)
    assert grown == build_profile("cid", [*stored, *batch], MergeRules(), 2)
    assert grown is not None
    assert primary_currency(grown) == "GBP"
