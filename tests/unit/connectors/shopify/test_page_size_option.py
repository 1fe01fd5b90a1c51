"""Shopify's ``page_size`` option: the customers and orders a page of a paged walk asks for (1 to
249; orders never more than 99, the 1,000-point query limit), down to pages of 1; the spec's page
size when given; a bulk export's pages, which it leaves at 250."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from connectors.shopify import ShopifySandbox
from tests.unit.connectors.deadline import within

from .conftest import SchemaCheckedTransport, connect
from .test_pull import T, keys, pull


@pytest.mark.parametrize(("page_size", "customers", "orders"), [("1", 1, 1), ("7", 7, 7), ("200", 200, 99)])
def test_the_page_size_option_asks_for_smaller_pages_within_the_cost_limit(
    sandbox: ShopifySandbox,
    transport: SchemaCheckedTransport,
    waits: list[float],
    page_size: str,
    customers: int,
    orders: int,
) -> None:
    # GIVEN a shop, and a connector asked for pages of ``page_size``
    sandbox.add_records(20, at=T)
    reserved: list[float] = []
    with connect(sandbox, transport, waits, page_size=page_size) as connector:
        acquire = connector.limiter.acquire
        connector.limiter.acquire = lambda cost=1.0: reserved.append(cost) or acquire(cost)  # type: ignore[method-assign]
        # WHEN it pulls everything (to the end: a walk that makes no progress is stopped after 60 s)
        with within(60):
            pages, cursor = pull(connector, None)
        assert connector.spec.page_size == int(page_size)
    # THEN every object comes back once, and each page asked for that many (orders never more than
    # the 1,000-point query limit allows), in as many pages as that takes
    got = keys(pages)
    assert Counter(got).most_common(1)[0][1] == 1
    assert set(got) == sandbox.record_keys()
    firsts = {(e.query.split("(")[0].split()[-1], e.variables.get("first")) for e in transport.exchanges}
    assert {f for f in firsts if f[0] != "ProfilesyncCounts"} == {
        ("ProfilesyncCustomers", customers),
        ("ProfilesyncOrders", orders),
    }
    customer_pages = [p for p in pages if p.object_type == "customer" and p.records]
    assert len(customer_pages) == -(-sum(k.startswith("customer:") for k in got) // customers)
    # AND the limiter reserved for each request what the shop computes it costs
    assert reserved == [requested for requested, _ in sandbox.cost_log]
    # AND an incremental pull in such pages, of changes sharing one second, also ends with exactly them
    changed = sandbox.add_records(5, at=T + timedelta(hours=1))
    with connect(sandbox, transport, waits, page_size=page_size) as connector, within(60):
        rest, _ = pull(connector, cursor)
    assert sorted(keys(rest)) == sorted(changed)


@pytest.mark.parametrize("page_size", [None, "7", "249"])
def test_the_page_size_option_given_is_the_spec_s_and_bulk_results_stay_in_pages_of_250(
    sandbox: ShopifySandbox, transport: SchemaCheckedTransport, waits: list[float], page_size: str | None
) -> None:
    # GIVEN a shop above the bulk threshold, and a connector given a page size (249: its default) or not
    sandbox.clock.set(T)
    sandbox.add_records(300, at=T)
    options = {"bulk_threshold": "100", **({} if page_size is None else {"page_size": page_size})}
    with connect(sandbox, transport, waits, **options) as connector:
        # THEN its spec's page size is the option's value when given, the API's largest otherwise
        assert connector.spec.page_size == (250 if page_size is None else int(page_size))
        # WHEN it pulls everything (bulk operations)
        pages, _ = pull(connector, None)
    # THEN each export is handed on in pages of 250 whatever the option (it sizes paged requests only)
    assert "ProfilesyncCustomers" not in transport.operations()
    customers = sum(k.startswith("customer:") for k in sandbox.record_keys())
    assert customers > 250
    sizes = [len(p.records) for p in pages if p.object_type == "customer" and p.records]
    assert sizes == [250] * (customers // 250) + ([customers % 250] if customers % 250 else [])
