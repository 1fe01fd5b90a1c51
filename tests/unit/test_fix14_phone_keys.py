"""fix14: the numbers a refused phone value is keyed by (core/quarantine.py ``_phones``).

A match the phone matcher finds right after a ``+`` and a country code is the tail of an international
number written with an odd separator, never a national number of the deployment's region: taken, a
British person's record was keyed by an American's number (his erasure deleted it). The separators
folded to spaces are tested over every Unicode space and format character in
tests/e2e/test_attack14_phone_separators.py; these are the ASCII ones the parser refuses.
"""

from __future__ import annotations

import pytest

from core.normalise import fold_phone_separators, normalise_phone
from core.quarantine import refused_values

AMERICAN = "phone#+12079460417"
BRITISH = "phone#+442079460417"


@pytest.mark.parametrize("separator", ["|", "=", "_", ",", ";", ":", "!", "\\", "/ |"])
def test_a_number_after_a_country_code_and_an_odd_separator_is_no_national_number(separator: str) -> None:
    # GIVEN a British number with a separator the parser refuses after its country code (a US deployment)
    value = f"+44 {separator} 20 7946 0417"
    # WHEN the quarantine reads it THEN it is keyed by no American's number (by nothing, or hers)
    assert AMERICAN not in refused_values("phone", value, "US")


def test_two_numbers_in_one_field_are_both_keyed() -> None:
    # The guard takes nothing a number before it ends: the second number of a list is read on its own
    value = "+44 20 7946 0418, 207-946-0417"
    assert set(refused_values("phone", value, "US")) == {"phone#+442079460418", AMERICAN}


def test_a_number_grouped_with_narrow_no_break_spaces_is_valid_as_it_is() -> None:
    # The normaliser folds them (a record holding it is stored, not quarantined)
    assert normalise_phone("+44\u202f20\u202f7946\u202f0417", "US") == BRITISH[len("phone#") :]
    assert fold_phone_separators("+44\u200f\t20\u00a07946\u20070417") == "+44  20 7946 0417"
    assert fold_phone_separators("+44 20 7946 0417") == "+44 20 7946 0417"
