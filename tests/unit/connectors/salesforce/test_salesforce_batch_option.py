"""Salesforce's ``batch_size`` option: ``Sforce-Query-Options: batchSize=200..2000`` asks a query for
fewer records a batch (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/
headers_queryoptions.htm); the connector always asked for 2,000."""

from __future__ import annotations

import dataclasses

import pytest

from connectors.salesforce import PLUGIN
from connectors.salesforce._sandbox import make_sandbox
from core.errors import ConnectorConfigError


def test_a_walk_asks_for_the_batch_its_option_gives_and_pages_by_it() -> None:
    # GIVEN an org holding more than two batches of 200 records of one object
    sandbox = make_sandbox(people=450, seed=3, batch_size=200)
    with PLUGIN.build(sandbox.settings()) as connector:
        # WHEN it is pulled by an instance whose batch_size is 200
        sizes = [len(page.records) for page in connector.pull(None)]
        assert connector.spec.page_size == 200
    # THEN no page holds more than 200 records, and one object took more than two of them
    assert max(sizes) == 200
    assert len(sizes) >= 3 + 2  # (contacts in three batches or more, and the other objects)


@pytest.mark.parametrize("size", ["150", "2001", "many"])
def test_a_batch_salesforce_does_not_take_is_refused(size: str) -> None:
    settings = make_sandbox(people=2).settings()
    with pytest.raises(ConnectorConfigError, match="batch_size"):
        PLUGIN.build(dataclasses.replace(settings, options={"batch_size": size}))
