"""left29: a pulled record that is quarantined keeps its numbers as numbers in the store's
quarantine item, on every store (core.sync writes ``raw`` with core.raw_json).

Before, the item's ``raw`` held each Decimal as a string (``json.dumps(..., default=str)``), so a
record read back from the quarantine and fed in again had text where it had numbers. Red on that
code (a number with a fraction is drawn in most examples).
"""

from __future__ import annotations

import itertools
import json
from decimal import Decimal

from hypothesis import HealthCheck, given, settings

from core.pipeline import IngestSettings
from core.sync import pull_into_store
from tests.integration.store_port.conftest import StoreKit
from tests.unit.test_left29_quarantine_numbers import json_documents, same_value
from tests.unit.test_sync import ListConnector

_IDS = itertools.count()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_documents)
def test_a_quarantined_items_raw_reads_back_as_the_record_pulled(kit: StoreKit, value: str) -> None:
    # GIVEN a tool's row holding any JSON value (read with Decimals, as connectors.jsonl reads), with
    # an update time no one can read: quarantined
    record_id = f"r{next(_IDS)}"
    row = json.loads(
        '{"id": "' + record_id + '", "updated_at": "not a time", "payload": ' + value + "}",
        parse_float=Decimal,
    )
    # WHEN it is pulled into the store
    no_sleep = IngestSettings(sleep=lambda _: None)
    pull_into_store(ListConnector([row]), kit.profiles, kit.sync_state, cursor=None, settings=no_sleep)
    # THEN its quarantine item's raw, read back with Decimals, is the row as pulled
    (entry,) = [e for e in kit.quarantined("fake") if e.key.endswith(f":{record_id}")]
    assert same_value(json.loads(entry.raw, parse_float=Decimal), row, ordered=False)
