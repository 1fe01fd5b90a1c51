"""Survivorship, computed traits and consent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from core.merge import MergeRules, SurvivorshipRule, build_profile, profile_hash
from core.schema import ConsentState, Order
from tests.conftest import make_record


def _order(oid: str, total: str, currency: str = "GBP", day: int = 1, status: str = "paid") -> Order:
    return Order(
        id=oid,
        total=Decimal(total),
        currency=currency,
        created_at=datetime(2026, 1, day, tzinfo=UTC),
        status=status,
    )  # type: ignore[arg-type]


def test_most_recent_non_empty_value_wins_and_names_its_source() -> None:
    old = make_record("crm", "1", email="a@x.com", day=1, traits={"first_name": "Ann", "city": "Leeds"})
    new = make_record("shop", "1", email="a@x.com", day=5, traits={"first_name": "Anne", "city": ""})
    profile = build_profile("cus_1", [new, old])
    assert profile.traits["first_name"].value == "Anne"
    assert profile.traits["first_name"].source == "shop:contact:1"
    assert profile.traits["city"].value == "Leeds"  # the empty newer value does not erase it


def test_source_priority_and_first_seen_rules() -> None:
    rules = MergeRules(
        per_trait={
            "last_name": SurvivorshipRule("source_priority", ("crm", "shop")),
            "company": SurvivorshipRule("first_seen"),
        }
    )
    crm = make_record("crm", "1", day=1, traits={"last_name": "Lee", "company": "Acme"})
    shop = make_record("shop", "1", day=9, traits={"last_name": "LEE-SMITH", "company": "Globex"})
    profile = build_profile("cus_1", [shop, crm], rules)
    assert profile.traits["last_name"].value == "Lee"
    assert profile.traits["last_name"].source == "crm:contact:1"
    assert profile.traits["company"].value == "Acme"


def test_computed_traits_per_currency_excluding_refunds() -> None:
    shop = make_record(
        "shop",
        "1",
        orders=[
            _order("o1", "10.00", day=3),
            _order("o2", "20.01", day=7),
            _order("o3", "99.00", status="refunded"),
            _order("o4", "5.50", "USD", day=2),
        ],
    )
    computed = build_profile("cus_1", [shop]).computed
    assert computed.lifetime_value == {"GBP": Decimal("30.01"), "USD": Decimal("5.50")}
    assert computed.order_count == 3
    assert computed.average_order_value == {"GBP": Decimal("15.00"), "USD": Decimal("5.50")}
    assert computed.first_order_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert computed.last_order_at == datetime(2026, 1, 7, tzinfo=UTC)
    assert computed.segment == "repeat"
    assert build_profile("cus_1", [make_record("crm", "1")]).computed.segment == "prospect"
    vip = make_record("shop", "2", orders=[_order("o9", "1500.00")])
    assert build_profile("cus_1", [vip]).computed.segment == "vip"


def test_the_same_order_in_two_snapshots_counts_once() -> None:
    a = make_record("shop", "1", orders=[_order("o1", "10.00")])
    b = make_record("shop", "2", orders=[_order("o1", "10.00")])
    assert build_profile("cus_1", [a, b]).computed.order_count == 1


def test_consent_most_recent_explicit_change_wins_and_opt_out_wins_ties() -> None:
    t1, t2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    a = make_record("crm", "1", consent={"email": ConsentState(granted=True, changed_at=t2)})
    b = make_record(
        "email",
        "1",
        consent={
            "email": ConsentState(granted=False, changed_at=t1),
            "sms": ConsentState(granted=True, changed_at=t1),
        },
    )
    c = make_record("shop", "1", consent={"sms": ConsentState(granted=False, changed_at=t1)})
    consent = build_profile("cus_1", [a, b, c]).consent
    assert consent["email"].granted is True
    assert consent["email"].source == "crm:contact:1"
    assert consent["sms"].granted is False


def test_profile_is_independent_of_record_order() -> None:
    records = [
        make_record("crm", str(i), email="a@x.com", day=i % 3, traits={"city": f"c{i}"}) for i in range(6)
    ]
    forward = build_profile("cus_1", records)
    backward = build_profile("cus_1", list(reversed(records)))
    assert forward == backward
    assert profile_hash(forward) == profile_hash(backward)
