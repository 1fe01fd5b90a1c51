"""left31: DynamoDB's ``suppress`` writes its entries in the same transactions as the epoch's bumps.

A commit past the limit holds the erasure epoch unchanged in place of one guard a hash
(core.ingest_epoch_guard): it reads the epoch, checks its hashes again, and commits only while the
epoch is what it read. That is safe only if no suppression entry can become readable without the
epoch moving at that same moment. Before, ``suppress`` bumped the epoch, wrote the entries by
``BatchWriteItem``, and bumped again: an epoch read between the first bump and the entries' write
stayed the epoch while they landed, and a commit checked before them went through after them.

The test observes the table after every call ``suppress`` makes (what a kill at that point would
leave, and what a commit's read at that point would see): the entries readable change only in a
call that moves the epoch too. Red on the previous code: the ``BatchWriteItem`` made 30 entries
readable at the epoch the first bump had set.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest
from moto import mock_aws

from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.suppression import SuppressionEntry
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table

TABLE = "left31-suppress"
AT = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any]]:
    model_aws_semantics()
    with mock_aws():
        writer = dynamodb_client()
        create_table(writer, TABLE)
        yield writer, dynamodb_client()  # the second one reads, outside the writer's hooks


def _entries() -> list[SuppressionEntry]:
    exact = [SuppressionEntry(f"{n:064x}", "email", "req-1", AT) for n in range(30)]
    prints = json.dumps([{"first_name": "ann", "last_name": "lee"}])
    fuzzy = [SuppressionEntry(f"{n:064x}", "fuzzy", "req-1", AT, prints) for n in range(100, 103)]
    return exact + fuzzy


def test_no_entry_becomes_readable_at_an_epoch_read_before_it(clients: tuple[Any, Any]) -> None:
    writer, reader = clients
    entries = _entries()
    look = DynamoDBSuppressionStore(reader, TABLE)

    def observed() -> tuple[str, frozenset[str]]:
        epoch = look.erasure_epoch()  # first, as a commit past the limit reads it
        return epoch, frozenset(look.suppressed([e.hash for e in entries]))

    seen = [observed()]
    calls: list[str] = []

    def after(event_name: str, **_: Any) -> None:
        calls.append(event_name.rpartition(".")[2])
        seen.append(observed())

    writer.meta.events.register("after-call.dynamodb", after)
    # WHEN an erasure writes 30 exact entries and 3 fuzzy ones
    DynamoDBSuppressionStore(writer, TABLE).suppress(entries)
    # THEN every entry is readable in the end
    assert seen[-1][1] == {e.hash for e in entries}
    # AND after no call did entries become readable while the epoch stayed where it was read before
    for call, (before, now) in zip(calls, pairwise(seen), strict=True):
        if now[1] != before[1]:
            assert now[0] != before[0], f"{call} made entries readable at the epoch read before it"
