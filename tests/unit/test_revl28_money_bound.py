"""revL28: core/normalise/_money.py refuses an amount of 10^15 major units *or more* (attack22's fix):
the bound itself is refused, the largest amount below it kept. No test went red with ``>=`` turned
into ``>`` (every test's huge amount was far past the bound).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import NormalisationError
from core.normalise import normalise_money


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("1000000000000000", "JPY"),
        ("1000000000000000.00", "EUR"),
        ("-1000000000000000", "EUR"),
        (10**15, "USD"),
    ],
)
def test_an_amount_of_exactly_ten_to_the_fifteen_is_refused(amount: str | int, currency: str) -> None:
    with pytest.raises(NormalisationError):
        normalise_money(amount, currency)


@pytest.mark.parametrize(
    ("amount", "currency", "kept"),
    [("999999999999999", "JPY", "999999999999999"), ("999999999999999.99", "EUR", "999999999999999.99")],
)
def test_the_largest_amount_below_it_is_kept(amount: str, currency: str, kept: str) -> None:
    assert normalise_money(amount, currency) == (Decimal(kept), currency)
