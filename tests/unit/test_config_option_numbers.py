"""A connector's ``options`` in profilesync.yaml take an unquoted number or boolean as its text
(tie21): ``walk_limit: 1000`` used to be refused with "Input should be a valid string"."""

from __future__ import annotations

import pytest

from connectors.shopify import CREDENTIAL
from connectors.shopify._connector import ShopifyConnector
from core.config import parse_config
from core.connector import ConnectorSettings
from core.errors import ConfigurationError

YAML = """\
version: 1
connectors:
  shopify-eu:
    vendor: shopify
    options: {shop: acme-eu, walk_limit: 1000, bulk_threshold: 2500, ratio: 0.5, sandbox: true, dry: false}
"""


def test_unquoted_numbers_and_booleans_in_options_are_read_as_their_text() -> None:
    # WHEN a YAML document gives options as numbers and booleans, and a JSON document the same
    yaml_options = parse_config(YAML, "profilesync.yaml").connectors["shopify-eu"].options
    json_text = (
        '{"version": 1, "connectors": {"s": {"vendor": "shopify", "options": '
        '{"walk_limit": 1000, "ratio": 0.5, "sandbox": true, "dry": false}}}}'
    )
    json_options = parse_config(json_text, "profilesync.json").connectors["s"].options
    # THEN each is its text, as if quoted (booleans as YAML and JSON spell them)
    expected = {"walk_limit": "1000", "ratio": "0.5", "sandbox": "true", "dry": "false"}
    assert yaml_options == {"shop": "acme-eu", "bulk_threshold": "2500", **expected}
    assert json_options == expected


def test_a_connector_reads_an_unquoted_number_option_as_if_quoted() -> None:
    # GIVEN Shopify's whole-number options written unquoted
    text = "version: 1\nconnectors:\n  shopify: {options: {shop: acme, walk_limit: 50, bulk_threshold: 7}}\n"
    options = parse_config(text, "profilesync.yaml").connectors["shopify"].options
    # WHEN the connector is built from them
    connector = ShopifyConnector(ConnectorSettings(options=options, credentials={CREDENTIAL: "x"}))
    # THEN it has the numbers
    assert (connector.walk_limit, connector.bulk_threshold) == (50, 7)
    connector.close()


@pytest.mark.parametrize("value", ["[1, 2]", "{a: 1}", "null"])
def test_an_option_that_is_not_a_single_value_is_still_refused_by_name(value: str) -> None:
    text = f"version: 1\nconnectors:\n  shopify: {{options: {{shop: acme, walk_limit: {value}}}}}\n"
    with pytest.raises(ConfigurationError, match="walk_limit"):
        parse_config(text, "profilesync.yaml")
