"""``pull_into_store`` with tombstones among a page's drafts: the page's records go in first, then
the deletions are retired; a tombstone naming no record is quarantined with its reason; the counts
add up; without an erasure store the deletions are counted as ignored, and nothing is retired."""

from __future__ import annotations

import json

from core.pipeline import IngestSettings
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from tests.integration.functions.conftest import ListConnector

SETTINGS = IngestSettings(sleep=lambda _: None)


def _rows() -> list[dict[str, object]]:
    return [
        {"id": 1, "email": "ann@example.com", "phone": "+14155550100"},
        {"id": 2, "email": "ann@example.com"},
        {"id": 3, "email": "bo@example.com"},
        # one page later: record 1 deleted at the tool, and a tombstone that names no record
        {"id": 1, "deleted": True, "updated_at": "2026-02-01T00:00:00Z"},
        {"id": "", "deleted": True, "updated_at": "2026-02-01T00:00:00Z"},
    ]


def test_a_page_of_tombstones_retires_and_quarantines_and_the_counts_add_up() -> None:
    # GIVEN a tool whose pages hold two people's records, then two tombstones
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    connector = ListConnector(_rows(), page_size=3)
    # WHEN it is pulled into the store
    report = pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
    # THEN record 1 left Ann's profile, the unnamed tombstone is quarantined with its reason, and
    # pulled = normalised + quarantined + suppressed + deletions
    assert report.retired is not None
    assert (report.retired.received, report.retired.retired) == (1, 1)
    assert (report.pulled, report.normalised, report.quarantined) == (5, 3, 1)
    assert report.pulled == report.normalised + report.quarantined + report.suppressed_quarantined + 1
    sources = sorted(sorted(s.key for s in p.sources) for p in store.iter_profiles())
    assert sources == [["fake:contact:2"], ["fake:contact:3"]]
    assert [reason.split(":")[0] for reason in report.quarantine_reasons] == [
        "a deleted record without a source id"
    ]
    assert json.loads(report.as_json())["retired"]["retired"] == 1
    # AND Ann's profile is among the customers to push (her profile changed)
    ann = store.get_owners(["source#fake:contact:2"])["source#fake:contact:2"].customer_id
    assert ann in report.ingest.customers


def test_without_an_erasure_store_the_deletions_are_counted_as_ignored() -> None:
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    report = pull_into_store(ListConnector(_rows(), page_size=3), store, state, settings=SETTINGS)
    assert report.retired is not None
    assert (report.retired.received, report.retired.ignored, report.retired.retired) == (1, 1, 0)
    assert len([p for p in store.iter_profiles() if any(s.key == "fake:contact:1" for s in p.sources)]) == 1
