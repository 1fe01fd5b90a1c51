"""Connector instances: two stores of one vendor, each with its own secret, options and source name."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.instances import build_instance, check_config, instance_credentials, instance_settings
from connectors.shopify import PLUGIN as SHOPIFY
from connectors.shopify import make_sandbox
from core.config import ConnectorInstance, parse_config
from core.connector import ConnectorPlugin
from core.errors import ConnectorConfigError
from core.schema import Identifier, Profile, SourceRef
from profilesync import registry

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def through(sandbox: Any) -> ConnectorPlugin:
    """The real Shopify plugin, reaching ``sandbox`` in-process."""
    return dataclasses.replace(
        SHOPIFY, build=lambda s: SHOPIFY.build(dataclasses.replace(s, transport=sandbox.transport()))
    )


def test_two_stores_of_one_vendor_keep_apart_their_sources_secrets_and_pushes() -> None:
    # GIVEN two Shopify stores seeded alike (so their customer ids overlap), each its own instance
    eu, us = (make_sandbox(people=30, seed=3, shop=shop) for shop in ("acme-eu", "acme-us"))
    config = parse_config(
        "connectors:\n"
        "  shopify-eu: {vendor: shopify, options: {shop: acme-eu}}\n"
        "  shopify-us: {vendor: shopify, options: {shop: acme-us}, secret: vault/us}\n",
        "p.yaml",
    )
    env = {
        "PROFILESYNC_SHOPIFY_EU": json.dumps({"shopify_access_token": eu.token}),
        "PROFILESYNC_VAULT_US": json.dumps({"SHOPIFY-ACCESS-TOKEN": us.token}),
    }
    built = {}
    for name, sandbox in (("shopify-eu", eu), ("shopify-us", us)):
        instance = config.instance(name)
        settings = instance_settings(name, instance, SHOPIFY, env=env)
        assert settings.options == {"shop": sandbox.shop}
        built[name] = build_instance(name, through(sandbox), settings)
    # WHEN both pull
    drafts = {name: [d for page in c.pull(None) for d in c.to_records(page)] for name, c in built.items()}
    # THEN each record's source is its instance, the cursors and pushes are kept under it, and the
    # same vendor id in both stores stays two records
    assert {d.source for d in drafts["shopify-eu"]} == {"shopify-eu"}
    assert {d.source for d in drafts["shopify-us"]} == {"shopify-us"}
    assert built["shopify-eu"].spec.name == "shopify-eu"
    eu_ids = {(d.object_type, d.source_id) for d in drafts["shopify-eu"]}
    us_ids = {(d.object_type, d.source_id) for d in drafts["shopify-us"]}
    assert eu_ids & us_ids  # the overlap that would have merged strangers under one source name
    # AND a person known to both stores is pushed to each under that store's own customer id
    customer = next(d for d in drafts["shopify-eu"] if d.object_type == "customer" and d.emails)
    other = next(d for d in drafts["shopify-us"] if d.object_type == "customer" and d.emails)
    profile = Profile(
        customer_id="cus_x",
        sources=(
            SourceRef(source="shopify-eu", object_type="customer", id=customer.source_id, updated_at=NOW),
            SourceRef(source="shopify-us", object_type="customer", id=other.source_id, updated_at=NOW),
        ),
        identifiers=(Identifier(kind="email", value=str(customer.emails[0]).strip().lower()),),
    )
    seen: list[Profile] = []
    inner = built["shopify-us"].inner  # type: ignore[attr-defined]
    original = inner.from_profile
    inner.from_profile = lambda p: seen.append(p) or original(p)  # type: ignore[method-assign]
    built["shopify-us"].from_profile(profile)
    # (the connector reads only refs under its vendor's name: exactly its own store's one)
    assert [(r.source, r.id) for r in seen[0].sources if r.source == "shopify"] == [
        ("shopify", other.source_id)
    ]
    # AND an erasure of another instance's source id is answered "not found" without a call
    outcome = built["shopify-us"].erase(
        [Identifier(kind="source", value=f"shopify-eu:customer:{customer.source_id}")]
    )
    assert outcome[0].found is False
    assert outcome[0].identifier.value.startswith("shopify-eu:")
    for connector in built.values():
        connector.close()


def test_an_instance_named_after_its_vendor_is_not_wrapped_and_keeps_per_credential_secrets() -> None:
    sandbox = make_sandbox(people=5, seed=1)
    instance = ConnectorInstance(options={"shop": sandbox.shop})
    env = {"PROFILESYNC_SHOPIFY_ACCESS_TOKEN": sandbox.token, "PROFILESYNC_SECRETS_FILE": "/dev/null"}
    settings = instance_settings("shopify", instance, SHOPIFY, env=env)
    connector = build_instance("shopify", through(sandbox), settings)
    assert type(connector).__name__ == "ShopifyConnector"
    connector.close()


def test_a_missing_or_incomplete_instance_secret_says_what_it_must_hold(tmp_path: Any) -> None:
    empty = {"PROFILESYNC_SECRETS_FILE": str(tmp_path / "none.json")}
    (tmp_path / "none.json").write_text("{}")
    instance = ConnectorInstance(vendor="shopify")
    with pytest.raises(ConnectorConfigError, match=r"'shopify-eu' has no credentials.*shopify_access_token"):
        instance_credentials("shopify-eu", instance, SHOPIFY.spec, empty)
    wrong = {**empty, "PROFILESYNC_SHOPIFY_EU": json.dumps({"token": "x"})}
    with pytest.raises(ConnectorConfigError, match="lacks shopify_access_token"):
        instance_credentials("shopify-eu", instance, SHOPIFY.spec, wrong)
    plain = {**empty, "PROFILESYNC_SHOPIFY_EU": "shpat_plain"}  # one credential: a plain string will do
    assert instance_credentials("shopify-eu", instance, SHOPIFY.spec, plain) == {
        "shopify_access_token": "shpat_plain"
    }


def test_check_config_finds_unknown_vendors_options_and_budgets() -> None:
    config = parse_config(
        "connectors:\n"
        "  a: {vendor: nosuch}\n"
        "  b: {vendor: shopify, options: {store: x}}\n"
        "  c: {vendor: mailchimp, rate_budget: [1, 10]}\n"
        "  hubspot: {}\n",
        "p.yaml",
    )
    problems = check_config(config, registry.get)
    assert len(problems) == 3
    assert problems[0].startswith("connectors.a: no connector named 'nosuch'")
    assert "shopify has no option 'store' (options: shop" in problems[1]
    assert "connectors.c: mailchimp has no shared rate budget" in problems[2]
