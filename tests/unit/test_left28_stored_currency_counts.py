"""left28 (revR27's note): the primary currency of a profile stored before ``primary_currency``
existed is read back from its totals, averages and order count (core.push ``_stored_winner``).

Before, each currency's paid orders were read as lifetime value over average order value, rounded:
with a tiny average that is off (three orders of 0.05 EUR in all average 0.02, and 0.05 / 0.02 is
2.5, rounded to 2), so a currency of fewer orders could be pushed instead.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.merge import MergeRules, build_profile
from core.push import enriched_traits, primary_currency
from core.schema import Identifier, Order, Profile, SourceRecord

T0 = datetime(2026, 3, 1, tzinfo=UTC)
OWNER = Identifier(kind="source", value="shop:contact:c1")


def _order(number: int, total: Decimal, currency: str) -> SourceRecord:
    at = T0 + timedelta(hours=number)
    return SourceRecord(
        source="shop",
        object_type="order",
        source_id=f"o{number}",
        updated_at=at,
        identifiers=(OWNER, Identifier(kind="source", value=f"shop:order:o{number}")),
        orders=(Order(id=f"o{number}", total=total, currency=currency, created_at=at),),
        level="child",
        owner="shop:contact:c1",
    )


def _stored_before(orders: list[tuple[str, str]]) -> tuple[Profile, Profile]:
    """The profile of ``orders`` (amount, currency), and the same as stored before the field existed."""
    records = [_order(n, Decimal(amount), cur) for n, (amount, cur) in enumerate(orders, 1)]
    built = build_profile("cid", records, MergeRules(), 1)
    old = built.model_copy(update={"computed": built.computed.model_copy(update={"primary_currency": None})})
    return built, old


def test_three_tiny_orders_are_read_back_as_three_not_two() -> None:
    # GIVEN tips of 0.02, 0.02 and 0.01 EUR (0.05 in all, average 0.02) and two 0.05 AUD orders,
    # in a profile stored before primary_currency existed
    built, old = _stored_before(
        [("0.02", "EUR"), ("0.02", "EUR"), ("0.01", "EUR"), ("0.05", "AUD"), ("0.05", "AUD")]
    )
    assert built.computed.average_order_value == {"AUD": Decimal("0.05"), "EUR": Decimal("0.02")}
    assert built.computed.primary_currency == "EUR"
    # THEN the euros are pushed, as for the profile rebuilt now (before: AUD, 0.05 / 0.02 read as 2)
    assert primary_currency(old) == "EUR"
    assert enriched_traits(old)["lifetime_value_currency"] == "EUR"


def test_counts_the_averages_cannot_tell_apart_fall_back_to_the_quotient() -> None:
    # GIVEN 0.05 EUR and 0.05 AUD in five orders: two and three, or three and two, give the same
    # averages (0.025 rounds half-even to 0.02, 0.0167 to 0.02)
    _, old = _stored_before(
        [("0.02", "EUR"), ("0.03", "EUR"), ("0.02", "AUD"), ("0.02", "AUD"), ("0.01", "AUD")]
    )
    # THEN the quotients (2 and 2) decide, the first code of equals
    assert primary_currency(old) == "AUD"


TINY = ["0.01", "0.02", "0.01", "0.03"]
OTHER = ["0.05", "0.07", "1.01", "2", "0.02"]


def test_wherever_the_stored_numbers_allow_one_currency_it_is_the_rebuilt_one() -> None:
    # GIVEN profiles of 1 to 4 orders in GBP and 1 to 8 tips of a cent or a few in USD
    wrong = checked = 0
    for few, many, start in itertools.product(range(1, 5), range(1, 9), range(4)):
        if few == many:
            continue  # equal counts go to the latest order, which a stored profile does not hold
        gbp = [(OTHER[(start + i) % len(OTHER)], "GBP") for i in range(few)]
        usd = [(TINY[(start + i) % len(TINY)], "USD") for i in range(many)]
        built, old = _stored_before(gbp + usd)
        checked += 1
        # WHEN read as stored before THEN the currency of the most orders, as rebuilt now
        wrong += primary_currency(old) != built.computed.primary_currency
    assert checked == 112
    assert wrong == 0  # (before: 4 of the 112 read the other currency)
