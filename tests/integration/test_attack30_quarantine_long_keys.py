"""attack30: two quarantined records of one page whose record keys share their first 900 bytes are one
item on DynamoDB: the first is lost.

A record whose key is over 1,000 bytes is quarantined for it (core/normalise/_record.py: "record
key is N bytes, over the 1,000 a stored key holds"), so quarantined records are the ones with the
longest keys. core/storage/dynamodb_sync_state.py ``put_quarantined`` (line 160) cuts the key to 900
bytes in the sort key ``<at>#<key>``; ``core.quarantine.distinct_times`` (which moves a repeated
``(connector, key, time)`` on by a microsecond) compares the keys whole, before the cut; and
``core.storage.dynamodb_batch.batch_put`` keeps "the last entry per key". Two records of one page
(one time) whose ids differ after their first 900 bytes (ids that are long URLs, or a blob, a
broken export's) are then one item: the first is gone, though the run counted and reported it. The
SQLite store keeps the whole key and both (the control).

Fix idea: cut before ``distinct_times`` compares (give it the stored key), or end a cut key with a
hash of the whole one (first 830 bytes, ``#``, 64 hex digits).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from core.ports import QuarantineEntry
from core.storage.dynamodb_sync_state import DynamoDBSyncStateStore
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: Two ids of one broken export, each a long URL: the same first 1,000 characters, then 1 and 2.
LONG = "https://shop.example/customers/export?" + "segment=all&" * 80


def _entries() -> list[QuarantineEntry]:
    return [
        QuarantineEntry(
            connector="files",
            key=f"files:contact:{LONG}{n}",
            reason="record key is 1,021 bytes, over the 1,000 a stored key holds",
            raw=f'{{"id": "{LONG}{n}"}}',
            at=AT,
            subjects=(),
        )
        for n in (1, 2)
    ]


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    model_aws_semantics()
    with mock_aws():
        client = dynamodb_client()
        create_table(client, "attack30-quarantine")
        yield DynamoDBSyncStateStore(client, "attack30-quarantine")


def test_control_the_sqlite_store_keeps_both(tmp_path: Path) -> None:
    from profilesync.stores import open_stores

    with open_stores(endpoint_url=None, table="attack30", path=tmp_path / "store.sqlite3") as stores:
        stores.sync_state.put_quarantined(_entries())
        assert len(stores.sync_state.quarantined("files")) == 2


def test_two_quarantined_records_whose_keys_differ_past_900_bytes_are_both_kept(dynamodb: Any) -> None:
    # GIVEN two records of one page quarantined for their long ids, the same first 900 bytes
    assert len(LONG.encode()) > 900
    # WHEN the page's quarantine is written
    dynamodb.put_quarantined(_entries())
    # THEN both are kept, each to be mended
    assert len(dynamodb.quarantined("files")) == 2
