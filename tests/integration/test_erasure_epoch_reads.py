"""How often the erasure epoch is read: once per entry point, not once per nested ingest (revA22
finding 6). A pull page read it twice (core.sync, then core.pipeline.ingest) and a batch
``ingest_isolating`` bisects 2n-1 times; each read is a strongly consistent GetItem on DynamoDB."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from connectors import hubspot
from connectors._http import RetryPolicy
from core import pipeline
from core.errors import RecordRejectedError
from core.ingest_settings import IngestSettings
from core.isolation import ingest_isolating
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck
from core.sync import pull_into_store
from core.testing.records import make_record


def _counted(store: InMemoryProfileStore) -> tuple[InMemorySuppressionStore, list[int]]:
    suppression = InMemorySuppressionStore(store)
    reads: list[int] = []
    original = suppression.erasure_epoch

    def counted() -> int:
        reads.append(1)
        return original()

    suppression.erasure_epoch = counted  # type: ignore[method-assign]
    return suppression, reads


def test_a_pull_reads_the_epoch_once_a_page() -> None:
    # GIVEN the HubSpot sandbox (its pages as the vendor's API pages them) and a counted epoch
    sandbox = hubspot.PLUGIN.sandbox(people=230, seed=11)
    retry = RetryPolicy(max_attempts=10, backoff_floor=0.01, backoff_cap=0.1, sleep=lambda _: None)
    connector = hubspot.PLUGIN.build(dataclasses.replace(sandbox.settings(), retry=retry))
    store = InMemoryProfileStore()
    suppression, reads = _counted(store)
    pages: list[int] = []
    # WHEN a pull runs
    pull_into_store(
        connector,
        store,
        InMemorySyncStateStore(),
        settings=IngestSettings(sleep=lambda _: None),
        suppression=SuppressionCheck(suppression, "s" * 32),
        progress=lambda _: pages.append(1),
    )
    # THEN one read a page (before: two, one of them by ingest)
    assert len(pages) > 1
    assert len(reads) == len(pages)


def test_a_batch_bisected_to_its_records_reads_the_epoch_once(monkeypatch: pytest.MonkeyPatch) -> None:
    store = InMemoryProfileStore()
    suppression, reads = _counted(store)

    def refuse(*_: Any) -> Any:
        raise RecordRejectedError("customer too large for one item")

    monkeypatch.setattr(pipeline, "_ingest", refuse)
    records = [make_record("crm", str(i)) for i in range(40)]
    settings = IngestSettings(sleep=lambda _: None, suppression=SuppressionCheck(suppression, "s" * 32))
    _, bad = ingest_isolating(records, store, settings)
    assert len(bad) == 40  # every record tried alone: 79 ingests
    assert len(reads) == 1  # before: 79


def test_ingest_alone_still_reads_it() -> None:
    store = InMemoryProfileStore()
    suppression, reads = _counted(store)
    settings = IngestSettings(sleep=lambda _: None, suppression=SuppressionCheck(suppression, "s" * 32))
    pipeline.ingest([make_record("crm", "1")], store, settings)
    pipeline.ingest([make_record("crm", "2")], store, settings)
    assert len(reads) == 2
