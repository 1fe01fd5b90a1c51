"""attack23: profilesync.yaml values YAML 1.1 silently reads as other numbers.

core/documents.py reads the document with ``yaml.SafeLoader``, which resolves plain scalars by YAML
1.1's implicit types: ``0123`` is octal (83), ``1:30`` is sexagesimal (90), ``NO`` is false.
core/config.py then takes the resolved value as if it were what the operator wrote:
``ConnectorInstance._option_texts`` promises "a number or boolean written unquoted is read as its
text", but a Mailchimp ``list_id: 01234567`` (list ids are hexadecimal characters, digits only
now and then) becomes ``"342391"``, another list (``0400`` becomes ``"256"``); and a
``freshness: 1:30`` (an hour and a half, as people write it) becomes 90 seconds, so the freshness
alarm fires after every pull's pause. None of these is an error: the document loads without a word.
(``region: NO`` is already refused by name, since False is no region: the control below.)

Fixed: core/documents.py reads only decimal integers without a leading zero and decimal floats as
numbers (YAML 1.2 core, less octal and hexadecimal); the rest stays the text written.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.config import parse_config
from core.errors import ConfigurationError


def _instance(body: str) -> object:
    document = f"connectors:\n  mailchimp:\n{body}"
    return parse_config(document, "profilesync.yaml").connectors["mailchimp"]


@pytest.mark.parametrize("written", ["01234567", "0400"])
def test_an_unquoted_list_id_of_digits_is_read_as_written(written: str) -> None:
    # GIVEN a Mailchimp list id of digits alone, written unquoted
    instance = _instance(f"    options:\n      list_id: {written}\n")
    # THEN the connector reads the id written, not another list's
    assert instance.options["list_id"] == written  # type: ignore[attr-defined]


def test_a_freshness_written_as_hours_and_minutes_is_not_ninety_seconds() -> None:
    # GIVEN a freshness written as an hour and a half
    try:
        instance = _instance("    freshness: 1:30\n")
    except ConfigurationError:
        return  # refused by name: the operator writes 90m
    # THEN it is not read as 90 seconds
    assert instance.freshness != timedelta(seconds=90)  # type: ignore[attr-defined]


def test_control_an_unquoted_number_option_and_a_region_no() -> None:
    # a plain number is its text, as documented (a fix must keep it)
    assert _instance("    options:\n      walk_limit: 1000\n").options == {"walk_limit": "1000"}  # type: ignore[attr-defined]
    # and Norway's code unquoted is not read as false silently: YAML 1.2 reads it as the text NO
    # (attack30; before, it was refused by name as False)
    assert _instance("    region: NO\n").region == "NO"  # type: ignore[attr-defined]
