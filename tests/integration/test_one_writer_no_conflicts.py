"""One writer does not conflict with itself on DynamoDB (moto): a fixed history of the link graph's
personas (tests/integration/test_link_graph_promises.py), shuffled and delivered in batches of 1, 7
and 500, needs no retry, quarantines nothing, and no index transaction cancels a write that could go.

A retry (``IngestResult.retries``) is counted only for a lost race: a read made inconsistent by a
writer (``ConflictError`` in the plan), a commit's or a touch's condition lost, a merge step refused.
With one writer, every condition is built from what this writer read or wrote last, so none may be
lost; a count above zero here is a read-your-own-write gap in the pipeline or a store. The index's
removals from retired rules' keys (``bp:``) fail their conditions on a table filed since, and
cancel their own transaction only (docs/architecture.md, "DynamoDB layout").
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.integration.identity_attack_records import Flat, flat, resolve_lines
from tests.integration.test_erasure_attacks import dynamodb_stores
from tests.integration.test_link_graph_promises import PERSONAS


def _history() -> list[Flat]:
    """Eleven tools, two or three versions each: mostly Ann (a version may become her namesake or
    the vague record), the namesake who moves, the Parkers and their household record: 27 versions."""
    plan = [
        ["ann", "ann", "namesake"],
        ["ann", "vague"],
        ["ann", "ann", "ann"],
        ["namesake", "moved"],
        ["ann", "ann"],
        ["vague", "ann", "ann"],
        ["tom", "tom"],
        ["sue", "household", "sue"],
        ["household", "household"],
        ["ann", "moved", "namesake"],
        ["ann", "ann"],
    ]
    versions: list[Flat] = []
    for tool, personas in enumerate(plan):
        for n, persona in enumerate(personas):
            fields = dict(PERSONAS[persona])
            fields.setdefault("email", f"t{tool}.{persona}@example.org")
            versions.append(flat(f"tool{tool:02d}", "1", day=n * 5 + tool % 4, **fields))
    return versions


@pytest.mark.parametrize("batch", [1, 7, 500])
def test_one_writer_delivering_a_shuffled_history_never_retries(batch: int) -> None:
    versions = _history()
    assert len(versions) == 27
    random.Random(21).shuffle(versions)
    with dynamodb_stores() as stores:
        store = stores.profiles
        cancelled: list[list[str]] = []

        def count(parsed: dict[str, Any], **_: Any) -> None:
            if parsed.get("Error", {}).get("Code") == "TransactionCanceledException":
                cancelled.append([r.get("Code", "") for r in parsed.get("CancellationReasons", [])])

        store._client.meta.events.register("after-call.dynamodb.TransactWriteItems", count)
        # WHEN one writer resolves every version, shuffled, in batches of `batch`
        report, quarantined = resolve_lines(versions, store, batch_size=batch)
        # THEN nothing was retried or set aside, and each cancelled transaction held only the
        # removals whose conditions failed (none of the writes that could go)
        assert (report.ingest.retries, quarantined) == (0, [])
        assert report.ingest.received + report.quarantined == len(versions)
        assert all(set(reasons) == {"ConditionalCheckFailed"} for reasons in cancelled), cancelled
