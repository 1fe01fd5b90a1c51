"""Salesforce's ``batch_size`` option: ``Sforce-Query-Options: batchSize=200..2000`` asks a query for
fewer records a batch (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/
headers_queryoptions.htm); the connector always asked for 2,000."""

from __future__ import annotations

import dataclasses

import pytest

from connectors.salesforce import PLUGIN
from connectors.salesforce._declaration import QUERY_BATCH
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


@pytest.mark.parametrize("size", ["150", "2001", "many", "²"])
def test_a_batch_salesforce_does_not_take_is_refused(size: str) -> None:
    settings = make_sandbox(people=2).settings()
    with pytest.raises(ConnectorConfigError, match="batch_size"):
        PLUGIN.build(dataclasses.replace(settings, options={"batch_size": size}))


def test_the_default_walk_crosses_a_page_edge_of_2000_records() -> None:
    # GIVEN an org holding one record more than a default batch of Contacts
    sandbox = make_sandbox(people=1, seed=3)
    sandbox.add_records(QUERY_BATCH + 1 - len([k for k in sandbox.record_keys() if k.startswith("contact:")]))
    contacts = {k for k in sandbox.record_keys() if k.startswith("contact:")}
    assert len(contacts) == QUERY_BATCH + 1
    with PLUGIN.build(sandbox.settings()) as connector:
        # WHEN it is pulled with the default options (no batch_size: the declaration's batchSize=2000)
        assert connector.spec.page_size == QUERY_BATCH
        walk = connector.pull(None)
        pages = [[r["Id"] for r in page.records] for page in walk if page.object_type == "contact"]
    # THEN the Contacts came in a full batch of 2,000 and one after it (the nextRecordsUrl followed
    # past the edge), each once
    assert [len(page) for page in pages] == [QUERY_BATCH, 1]
    assert sorted(f"contact:{key}" for page in pages for key in page) == sorted(contacts)
