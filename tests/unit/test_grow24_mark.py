"""grow24: core.grow_mark, the add-only mark a full plan writes on a PROFILE item."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType

import pytest

from core.grow_mark import add_only_mark, fits_minor_units, mark_allows, rules_fingerprint
from core.merge import DEFAULT_RULES, MergeRules, SurvivorshipRule
from core.schema import Identifier, Order, SourceRecord

AT = datetime(2026, 3, 1, tzinfo=UTC)
CHANNEL_FIRST = MergeRules(per_trait=MappingProxyType({"channel": SurvivorshipRule("first_seen")}))


def _record(object_type: str, source_id: str, *orders: tuple[str, str, str]) -> SourceRecord:
    return SourceRecord(
        source="shop",
        object_type=object_type,
        source_id=source_id,
        updated_at=AT,
        identifiers=(Identifier(kind="source", value=f"shop:{object_type}:{source_id}"),),
        orders=tuple(Order(id=i, total=Decimal(t), currency=c, created_at=AT) for i, t, c in orders),
        level="person" if object_type == "contact" else "child",
    )


@pytest.mark.parametrize(
    "other",
    [
        MergeRules(default=SurvivorshipRule("first_seen")),
        MergeRules(default=SurvivorshipRule("source_priority", ("pos",))),
        CHANNEL_FIRST,
        MergeRules(per_trait=MappingProxyType({"channel": SurvivorshipRule("source_priority", ("pos",))})),
        MergeRules(vip_lifetime_value=Decimal("500")),
    ],
)
def test_any_setting_of_the_rules_changes_the_fingerprint(other: MergeRules) -> None:
    assert rules_fingerprint(other) != rules_fingerprint(DEFAULT_RULES)
    # AND equal rules (another object) give the same one
    assert rules_fingerprint(replace(other)) == rules_fingerprint(other)
    assert rules_fingerprint(MergeRules()) == rules_fingerprint(DEFAULT_RULES)


def test_the_mark_names_the_types_carrying_another_records_order() -> None:
    contact = _record("contact", "c1", ("o9", "7.00", "GBP"))
    split = _record("order", "o1", ("o1", "12.50", "GBP"), ("o2", "5.00", "GBP"))
    own = _record("charge", "o3", ("o3", "1.00", "GBP"))
    mark = add_only_mark(DEFAULT_RULES, [contact, split, own])
    # THEN a batch of orders is refused, one of charges taken
    assert mark is not None
    assert not mark_allows(mark, DEFAULT_RULES, [_record("order", "o4", ("o4", "1.00", "GBP"))])
    assert mark_allows(mark, DEFAULT_RULES, [_record("charge", "o4", ("o4", "1.00", "GBP"))])
    # AND under other rules nothing is taken; nor without a mark
    assert not mark_allows(mark, CHANNEL_FIRST, [_record("charge", "o4", ("o4", "1.00", "GBP"))])
    assert not mark_allows(None, DEFAULT_RULES, [_record("charge", "o4", ("o4", "1.00", "GBP"))])


@pytest.mark.parametrize(
    ("total", "currency", "fits"),
    [
        ("5.00", "GBP", True),
        ("5.001", "GBP", True),
        ("5", "GBP", False),
        ("5.0", "GBP", False),
        ("5", "JPY", True),
    ],
)
def test_amounts_coarser_than_their_minor_units_leave_the_customer_unmarked(
    total: str, currency: str, fits: bool
) -> None:
    record = _record("order", "o1", ("o1", total, currency))
    assert fits_minor_units(record.orders) is fits
    assert (add_only_mark(DEFAULT_RULES, [record]) is not None) is fits
    # AND a batch bringing such an amount is not planned add-only (its mark would be wrong)
    assert mark_allows(add_only_mark(DEFAULT_RULES, []), DEFAULT_RULES, [record]) is fits
