"""revF23: the '+country code' guard of the quarantine's number search drops the person's own number.

fix14 stopped the matcher (core/quarantine.py ``_phones``) from reading ``20 7946 0417`` alone in
``+44<thin space>20 7946 0417`` by skipping every match that a ``+`` and a country code precede. The
number then read is nobody's: ``+1 | 212 555 0100`` (an American's number, written with a separator
phonenumbers' parser refuses) or ``+44 | 20 7946 0417`` keyed the quarantined record by nothing, so
her erasure and export by her number no longer found her record (before fix14 the American's was
found). Worse, ``misread_before`` then took every item written before with such a number, correctly
keyed as hers, for a misreading, and shielded it from her erasure. The match is the national part of
the number the country code names: read it with that code.
"""

from __future__ import annotations

import json

import pytest

from core.quarantine import misread_before, refused_values

SOURCE = "hubspot:contact:1"


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("+1 | 212 555 0100", "+12125550100"),
        ("+1 / 212 555 0100", "+12125550100"),
        ("+44 | 20 7946 0417", "+442079460417"),
    ],
)
def test_a_number_after_its_country_code_and_an_odd_separator_is_keyed_as_that_countrys(
    written: str, number: str
) -> None:
    assert refused_values("phone", written, "US") == [f"phone#{number}"]


def test_the_thin_space_number_is_still_never_the_american_tail() -> None:
    # the case fix14 fixed stays fixed: the British number, never +1 207-946-0417
    assert "phone#+12079460417" not in refused_values("phone", "+44\u2009 20 7946 0417", "US")
    assert misread_before(json.dumps({"phone": "+44\u2009 20 7946 0417"}), SOURCE, {"phone#+12079460417"})


def test_an_item_written_before_with_her_own_number_is_not_taken_for_a_misreading() -> None:
    raw = json.dumps({"phone": "+1 | 212 555 0100", "updatedAt": "yesterday"})
    assert not misread_before(raw, SOURCE, {"phone#+12125550100"})
