"""left28 (fix20b's leftover): a Shopify full refresh whose customers' export a run left half read
is read again from its first line by the run that resumes it, once, so that run lists every customer
and sweeps (connectors/shopify/_pull.py ``refresh_began``, ``BulkPosition.reread``).

Before, the resuming run went on from the line the last one stopped at: it listed a part of the
customers, so ``refresh_began`` said nothing and the refresh swept nothing (a customer deleted at the
shop stayed). Read again once only: an export too large for one run still ends, as before.
"""

from __future__ import annotations

import json

from connectors.shopify import make_sandbox
from connectors.shopify._cursor import STREAMS
from profilesync.testing.specs import GraphQLSchema

from .conftest import SchemaCheckedTransport, connect


def _customers(pages: list) -> set[str]:  # type: ignore[type-arg]
    return {r["id"].rsplit("/", 1)[-1] for p in pages if p.object_type == "customer" for r in p.records}


def test_an_export_left_half_read_is_read_again_from_its_first_line_once(
    schema: GraphQLSchema, waits: list[float]
) -> None:
    # GIVEN a full refresh by bulk operation of 334 customers, cut short after its first 250
    sandbox = make_sandbox(people=600, seed=7, rate_scale=1000.0)
    connector = connect(sandbox, SchemaCheckedTransport(sandbox, schema), waits, bulk_threshold="1")
    everyone = {key.split(":", 1)[1] for key in sandbox.record_keys() if key.startswith("customer:")}
    pages = connector.pull(None)
    first = next(p for p in pages if p.records)
    assert first.cursor is not None
    assert json.loads(first.cursor)[STREAMS[0]]["bulk"]["offset"] == 250
    # WHEN a run resumes it THEN it says when the listing began (so it marks and sweeps), and it
    # delivers every customer, from the export's first line (before: the last 84 only)
    assert connector.refresh_began(first.cursor) is not None
    resumed = list(connector.pull(first.cursor))
    assert _customers(resumed) == everyone
    # AND a resumed run cut short in its turn after 250 lines: the next goes on from there, without
    # reading the export a third time from its first line (nor sweeping)
    again = next(p for p in connector.pull(first.cursor) if p.records).cursor
    assert again is not None
    assert json.loads(again)[STREAMS[0]]["bulk"]["offset"] == 250
    assert connector.refresh_began(again) is None
    rest = list(connector.pull(again))
    assert len(_customers(rest)) == len(everyone) - 250 == 84
