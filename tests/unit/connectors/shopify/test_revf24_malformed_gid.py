"""revF24: a malformed Shopify GID names no record. ``stored_id`` took the last path segment of any
GID of the type, so ``gid://shopify/Customer/191167/5`` (a GID with a segment pasted after it) was
read as customer 5: a privacy erase so named erases another person at Shopify and here, for good."""

from __future__ import annotations

import pytest

from connectors.shopify._mapping import stored_id


@pytest.mark.parametrize(
    "gid",
    [
        "gid://shopify/Customer/191167/5",
        "gid://shopify/Customer/x/5",
        "gid://shopify/Customer/",
    ],
)
def test_a_malformed_gid_is_kept_as_written(gid: str) -> None:
    # GIVEN a GID of the type whose id is not one number WHEN spelt as stored THEN kept: it names nothing
    assert stored_id("customer", gid) == gid


def test_a_well_formed_gid_is_its_number() -> None:
    assert stored_id("customer", "gid://shopify/Customer/191167") == "191167"
    assert stored_id("customer", "gid://shopify/Customer/191167?x=1") == "191167"
    # a query holding a slash is the query's: the id is still the number before it (was "5")
    assert stored_id("customer", "gid://shopify/Customer/191167?a=/5") == "191167"
