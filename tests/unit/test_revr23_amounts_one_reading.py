"""revR23: a text total with one separator and three digits after it, read in its currency.

rob23's promise (docs/connectors.md, ``core.normalise.parse_amount``): totals are read exactly or
refused with a reason, never guessed; grouping is removed only where it cannot be a decimal
separator. Since rob23 reads ``"1.234,50"`` (a shop whose locale groups with points), ``"1.234"``
from that shop is 1,234; from another it is 1.234. In a currency with no minor units (JPY, KRW)
1.234 is no amount at all, and rounding it to 1 guessed a thousandth of the sale. A comma and three
digits is grouping where the currency has fewer than three minor units; in KWD ``"1,234"`` is 1.234
(a decimal comma) or 1,234. Both are refused with the reason. (``"1.234"`` EUR stays 1.234, rounded
to 1.23: a shop set to three decimals writes such totals, and refusing would drop them all.)

Red on main (5d6f051): ``"1.234"`` JPY became 1 yen, ``"1,234"`` KWD 1234.000 (a thousand times
1.234), and the WooCommerce order of ``"1.234"`` JPY was kept at 1 yen. Kept: what only one reading
allows.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.woocommerce._mapping import order_draft as woo_order
from core.errors import NormalisationError
from core.normalise import normalise_money, normalise_record
from core.schema import SourceRecord
from tests.unit.test_rob23_amounts_and_trait_names import _woo

AMBIGUOUS = [
    ("1.234", "JPY"),
    ("-9.999", "KRW"),
    ("1,234", "KWD"),
    ("999,000", "BHD"),
]
ONE_READING = [
    ("1.234", "KWD", Decimal("1.234")),  # three minor units: a decimal point
    ("1,234", "USD", Decimal("1234.00")),  # "1,234" cannot be 1.234 dollars written exactly
    ("1,234", "JPY", Decimal("1234")),
    ("1,234.000", "KWD", Decimal("1234.000")),  # both separators: each can only be one thing
    ("1.234,5", "KWD", Decimal("1234.500")),
    ("1,234,567", "KWD", Decimal("1234567.000")),  # two commas: grouping
    ("12.345", "USD", Decimal("12.34")),  # (a shop set to three decimals: rounded, as documented)
    ("1.5", "JPY", Decimal("2")),  # one or two digits after a point: a fraction, rounded
    ("1234.567", "EUR", Decimal("1234.57")),  # four digits before the point: not grouping
]


@pytest.mark.parametrize(("written", "currency"), AMBIGUOUS)
def test_one_separator_and_three_digits_the_currency_does_not_settle_is_refused(
    written: str, currency: str
) -> None:
    with pytest.raises(NormalisationError) as refused:
        normalise_money(written, currency)
    assert refused.value.field == "amount"
    assert written in refused.value.reason
    assert currency in refused.value.reason


@pytest.mark.parametrize(("written", "currency", "amount"), ONE_READING)
def test_what_only_one_reading_allows_is_read(written: str, currency: str, amount: Decimal) -> None:
    assert normalise_money(written, currency) == (amount, currency)


def test_an_order_of_such_a_total_is_dropped_with_its_reason() -> None:
    order = {**_woo("1.234"), "currency": "JPY"}
    record = normalise_record(woo_order(order))
    # the person is kept; the order is dropped and noted, saying what was wrong with it
    assert isinstance(record, SourceRecord)
    assert record.orders == ()
    [dropped] = record.dropped
    assert dropped.field == "orders[0]"
    assert "1.234" in dropped.reason
