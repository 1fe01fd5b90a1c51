"""The collector settings of ``profilesync resolve`` (core.runtime): a batch is ingested with the
collector off, the thresholds are resolve's while it runs, and both are as they were afterwards."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

import core.batch_ingest
from core.pipeline import IngestResult, IngestSettings
from core.ports import ProfileStore
from core.runtime import RESOLVE_GC_THRESHOLDS, collected_after
from core.schema import SourceRecord
from core.testing.population import population
from profilesync.cli import main


def test_collected_after_runs_the_function_with_the_collector_off_and_turns_it_back_on() -> None:
    seen: list[bool] = []

    @collected_after
    def work(value: int) -> int:
        seen.append(gc.isenabled())
        return value + 1

    assert gc.isenabled()
    assert work(1) == 2
    assert seen == [False]
    assert gc.isenabled()


def test_collected_after_turns_the_collector_back_on_when_the_function_raises() -> None:
    @collected_after
    def failing() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        failing()
    assert gc.isenabled()


def test_collected_after_leaves_a_collector_that_was_off_off() -> None:
    gc.disable()
    try:
        collected_after(lambda: None)()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_resolve_ingests_each_batch_with_the_collector_off_and_restores_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "people.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for _, flat in population(120, seed=3):
            handle.write(json.dumps(flat, ensure_ascii=False) + "\n")
    states: list[tuple[bool, tuple[int, int, int]]] = []
    real = core.batch_ingest.ingest_batch

    def spying(records: list[SourceRecord], store: ProfileStore, settings: IngestSettings) -> IngestResult:
        states.append((gc.isenabled(), gc.get_threshold()))
        return real(records, store, settings)

    monkeypatch.setattr(core.batch_ingest, "ingest_batch", spying)
    before = gc.get_threshold()
    out = tmp_path / "profiles.jsonl"
    assert main(["resolve", str(source), "--out", str(out), "--quiet", "--batch-size", "50"]) == 0
    assert len(states) > 2  # several batches
    assert all(state == (False, RESOLVE_GC_THRESHOLDS) for state in states)
    assert gc.isenabled()
    assert gc.get_threshold() == before
    assert out.read_text(encoding="utf-8").count("\n") > 0
