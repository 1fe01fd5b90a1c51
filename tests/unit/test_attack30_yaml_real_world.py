"""attack30: profilesync.yaml values that YAML 1.1 still reads as something else than what was written.

core/documents.py (attack23's fix) keeps YAML 1.1's octal, hexadecimal and sexagesimal forms as the
text written, but two of its implicit types are left:

* **booleans** ``yes/no/on/off`` (PyYAML's bool resolver, kept by ``_plain_numbers_only``): Norway's
  ISO code ``NO`` is ``False``. ``region: NO`` is refused as "False is not a region ... such as US,
  GB or DE" (the operator wrote an ISO code, the message names another value); a connector instance
  named for its country (``no:``, a Norwegian shop beside ``se:`` and ``dk:``) is refused as
  "connectors.0.[key]: Input should be a valid string", naming neither the key nor why.
* **floats** go through a binary float: an option is "read as its text" (core/config.py
  ``ConnectorInstance.options``' docstring) but ``api_version: 3.10`` becomes ``"3.1"`` (another
  version) without a word; a VIP threshold of 17 significant digits (``999999999999999.99``, under
  the 10**15 limit) is read as 10**15 (core/segment_rules.py ``_exact`` takes ``str(float)`` for the
  text written, true up to 15 digits only).

Fix idea: core/documents.py ``_plain_numbers_only`` (line 112) also replaces the bool resolver with
YAML 1.2's (``true``/``false`` only), and resolves floats to a value that keeps the scalar's text
(a Decimal of it, or a float subclass carrying it) so that config.py's ``_option_text`` and
segment_rules' ``_exact`` read what was written. (attack23's control
``test_control_an_unquoted_number_option_and_a_region_no`` expects ``region: NO`` to be refused: with
that fix it reads Norway, and that control must change with it.)
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from core.config import ProfileSyncConfig, parse_config
from core.errors import ConfigurationError


def _parse(document: str) -> ProfileSyncConfig:
    return parse_config(document, "profilesync.yaml")


def _outcome(document: str) -> ProfileSyncConfig | str:
    """The configuration read, or the refusal's message."""
    try:
        return _parse(document)
    except ConfigurationError as error:
        return str(error)


BOOLEANS = (
    "core/documents.py:112 keeps YAML 1.1's bool resolver (yes/no/on/off): resolve only true/false "
    "(YAML 1.2 core), or refuse such a scalar naming it as written"
)
FLOATS = (
    "core/documents.py:112 resolves a plain float to a binary float, whose text is not the one written: "
    "keep the scalar's text (a Decimal of it) for config.py _option_text and segment_rules._exact"
)


def test_region_no_is_norway_or_refused_by_the_code_written() -> None:
    # GIVEN Norway's code, unquoted, as every other region is written
    config = _outcome("defaults:\n  region: NO\n")
    # THEN it is Norway, or a refusal names what the operator wrote (so that quoting it is the fix)
    if isinstance(config, str):
        assert re.search(r"\bNO\b", config), config
    else:
        assert config.defaults.region == "NO"


def test_an_instance_named_for_norway_loads_or_is_refused_by_its_name() -> None:
    document = "connectors:\n  se:\n    vendor: jsonl\n  no:\n    vendor: jsonl\n"
    config = _outcome(document)
    if isinstance(config, str):
        assert re.search(r"\bno\b", config), config
    else:
        assert sorted(config.connectors) == ["no", "se"]


def test_control_an_instance_named_for_sweden_loads() -> None:
    assert sorted(_parse("connectors:\n  se:\n    vendor: jsonl\n").connectors) == ["se"]


@pytest.mark.parametrize("written", ["3.10", "2.50", "1.0e+5"])
def test_an_unquoted_decimal_option_is_read_as_its_text(written: str) -> None:
    # GIVEN an option written unquoted as a decimal (an API version, a plugin's setting)
    config = _parse(f"connectors:\n  mailchimp:\n    options:\n      api_version: {written}\n")
    # THEN the connector reads the text written, as the options' docstring promises
    assert config.connectors["mailchimp"].options["api_version"] == written


def test_control_an_unquoted_integer_and_short_decimal_option() -> None:
    config = _parse("connectors:\n  mailchimp:\n    options:\n      walk_limit: 1000\n      ratio: 0.5\n")
    assert config.connectors["mailchimp"].options == {"walk_limit": "1000", "ratio": "0.5"}


def test_a_threshold_of_seventeen_digits_is_read_as_written_or_refused() -> None:
    # GIVEN a threshold under the 10**15 limit, to the cent (17 significant digits)
    try:
        config = _parse("segments:\n  vip_lifetime_value:\n    EUR: 999999999999999.99\n")
    except ConfigurationError:
        return  # refused by name: the operator quotes it
    # THEN it is the amount written, not 10**15
    assert config.segments.vip_lifetime_value["EUR"] == Decimal("999999999999999.99")


def test_control_a_threshold_to_the_cent_is_read_as_written() -> None:
    config = _parse("segments:\n  vip_lifetime_value:\n    EUR: 1000.50\n    JPY: 200000\n")
    assert config.segments.vip_lifetime_value == {"EUR": Decimal("1000.50"), "JPY": Decimal("200000")}


def test_a_json_document_s_decimal_option_and_long_threshold_are_read_as_written() -> None:
    # GIVEN the same settings in profilesync.json, numbers unquoted
    document = (
        '{"connectors": {"mailchimp": {"options": {"api_version": 3.10}}}, '
        '"segments": {"vip_lifetime_value": {"EUR": 999999999999999.99}}}'
    )
    config = parse_config(document, "profilesync.json")
    # THEN each is the text and the amount written
    assert config.connectors["mailchimp"].options["api_version"] == "3.10"
    assert config.segments.vip_lifetime_value["EUR"] == Decimal("999999999999999.99")
