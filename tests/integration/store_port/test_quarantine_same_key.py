"""robust4: two malformed records with one key in one page are both quarantined, on every store.

A quarantine entry is kept under ``<at>#<record key>``, and a page's entries share their time: two
rows with no id (or two versions of one bad record) in one page were one item, the second
overwriting the first, on SQLite and DynamoDB (the in-memory list kept both). Found by
tests/integration/test_robust4_store_failure_mid_commit.py's malformed rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from core.pipeline import IngestSettings
from core.ports import QuarantineEntry
from core.sync import pull_into_store
from tests.integration.store_port.conftest import StoreKit
from tests.unit.test_sync import ListConnector

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_entries_with_one_key_and_one_time_are_all_kept(kit: StoreKit) -> None:
    # GIVEN three entries of one record key at one time (a page's three rows with no id)
    entries = [
        QuarantineEntry("crm", "crm:", "no id", json.dumps({"email": f"{n}@x.com"}), AT) for n in range(3)
    ]
    # WHEN they are put, in one call and then once more in another
    kit.sync_state.put_quarantined(entries)
    kit.sync_state.put_quarantined(entries[:1])
    # THEN every one is kept, with its own raw record
    kept = kit.quarantined("crm")
    assert {json.loads(e.raw)["email"] for e in kept} == {"0@x.com", "1@x.com", "2@x.com"}
    assert len(kept) >= 3


def test_a_page_with_two_rows_without_an_id_quarantines_both(kit: StoreKit) -> None:
    rows = [
        {"id": "", "email": "a@example.com"},
        {"id": "", "email": "b@example.com"},
        {"id": "ok", "email": "c@example.com"},
    ]
    pull_into_store(
        ListConnector(rows, page_size=3),
        kit.profiles,
        kit.sync_state,
        settings=IngestSettings(sleep=lambda _: None),
    )
    assert sorted(json.loads(e.raw)["email"] for e in kit.quarantined("fake")) == [
        "a@example.com",
        "b@example.com",
    ]
