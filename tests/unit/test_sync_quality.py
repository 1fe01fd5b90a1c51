"""pull_into_store (the CLI's sync) keeps each run's data quality in the SYNC# report, with the
guardrail refusals that only an in-process ingest sees, and the baseline for the next run."""

from __future__ import annotations

import json
from typing import Any

from core.pipeline import IngestSettings
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from tests.unit.test_sync import ListConnector

NO_SLEEP = IngestSettings(sleep=lambda _: None)


def quality(state: InMemorySyncStateStore) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(state.get_sync_state("fake").report)["quality"]
    return data


def test_each_run_reports_its_quality_and_carries_the_baseline() -> None:
    rows: list[dict[str, Any]] = [{"id": i, "email": f"p{i}@example.com"} for i in range(60)]
    rows[0]["updated_at"] = "yesterday-ish"
    # Two people who typed a blocklisted address: kept, but the address joins nobody.
    rows += [{"id": 60, "email": "test@example.com"}, {"id": 61, "email": "test@example.com"}]
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    pull_into_store(ListConnector(rows, page_size=25), store, state, settings=NO_SLEEP)
    first = quality(state)
    assert (first["pulled"], sum(first["quarantined"].values()), first["people"]) == (62, 1, 61)
    assert first["refused"] == {"blocklisted value": 2}
    # WHEN the next run pulls 60 more, six of them unusable
    more: list[dict[str, Any]] = [{"id": i, "email": f"p{i}@example.com"} for i in range(100, 160)]
    for row in more[:6]:
        row["updated_at"] = "soon"
    pull_into_store(ListConnector(rows + more, page_size=25), store, state, settings=NO_SLEEP)
    second = quality(state)
    # THEN it is compared with the first run (the cursor resumed after it: 60 records pulled)
    assert second["pulled"] == 60
    assert second["baseline_run"] == first["run_id"]
    assert second["jump"] == round(10.0 - 100 / 62, 3)


def test_the_report_counts_pages_after_the_last_cursor_move() -> None:
    # GIVEN a last page whose cursor equals the one before (nothing new after it)
    class StuckCursor(ListConnector):
        def pull(self, cursor: str | None = None) -> Any:
            for page in super().pull(cursor):
                yield page
            yield type(page)([{"id": 999, "email": "late@example.com"}], page.cursor)

    state = InMemorySyncStateStore()
    rows = [{"id": i, "email": f"p{i}@example.com"} for i in range(4)]
    report = pull_into_store(StuckCursor(rows, page_size=2), InMemoryProfileStore(), state, settings=NO_SLEEP)
    # THEN the saved report has every record the run pulled
    assert report.pulled == 5
    assert quality(state)["pulled"] == 5
    assert json.loads(state.get_sync_state("fake").report)["pulled"] == 5
