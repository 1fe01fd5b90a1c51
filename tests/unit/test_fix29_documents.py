"""fix29: core/documents.py reads a JSON document with a UTF-8 byte order mark as YAML already does,
and refuses a key repeated through nested or anchored merge keys (``<<``) while keeping YAML's
override by the mapping's own key."""

from __future__ import annotations

import pytest
import yaml

from core.config import parse_config
from core.documents import load_json, load_yaml
from core.errors import ConfigurationError

DOCUMENT = '{"segments": {"vip_lifetime_value": {"EUR": 1000}}}'


def test_a_json_config_with_a_byte_order_mark_is_read_as_without_one() -> None:
    config = parse_config("\ufeff" + DOCUMENT, "profilesync.json")
    assert {k: str(v) for k, v in config.segments.vip_lifetime_value.items()} == {"EUR": "1000"}
    assert load_json("\ufeff" + DOCUMENT) == load_yaml("\ufeff" + DOCUMENT)


def test_a_byte_order_mark_inside_a_json_document_is_still_refused() -> None:
    with pytest.raises(ValueError, match="Expecting value"):
        load_json(" \ufeff" + DOCUMENT)


def test_two_anchored_defaults_both_giving_a_currency_are_refused() -> None:
    text = "eu: &eu {EUR: 1000}\nsale: &sale {EUR: 5}\nvip:\n  <<: [*eu, *sale]\n"
    with pytest.raises(yaml.YAMLError, match=r"EUR.*two merged mappings"):
        load_yaml(text)


def test_a_repeat_inside_a_merged_mappings_own_merge_is_refused() -> None:
    with pytest.raises(yaml.YAMLError, match="'EUR' is written twice"):
        load_yaml("vip:\n  <<: {<<: {EUR: 1000, EUR: 5}, JPY: 1}\n")


def test_the_mappings_own_key_settles_two_merged_values_and_distinct_merges_combine() -> None:
    text = "eu: &eu {EUR: 1000}\nsale: &sale {EUR: 5, JPY: 7}\nvip:\n  <<: [*eu, *sale]\n  EUR: 20\n"
    assert load_yaml(text)["vip"] == {"EUR": 20, "JPY": 7}
    assert load_yaml("vip:\n  <<: [{EUR: 1}, {JPY: 2}]\n")["vip"] == {"EUR": 1, "JPY": 2}


def test_a_lower_case_currency_is_told_its_capital_spelling() -> None:
    with pytest.raises(ConfigurationError, match="write 'EUR'"):
        parse_config("segments:\n  vip_lifetime_value:\n    eur: 1000\n", "profilesync.yaml")
