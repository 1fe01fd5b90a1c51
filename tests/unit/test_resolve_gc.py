"""The collector settings of ``profilesync resolve`` (core.runtime): a batch is ingested with the
collector off, the thresholds are resolve's while it runs, and both are as they were afterwards."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

import core.batch_ingest
import profilesync.resolve
from connectors.jsonl.batched import BATCH_END, BatchEnd
from core.pipeline import IngestResult, IngestSettings
from core.ports import ProfileStore
from core.runtime import RESOLVE_GC_THRESHOLDS, collected_after
from core.schema import SourceRecord
from core.testing.population import population
from profilesync.cli import main
from profilesync.resolve_cli import _received_uncollected


def _people_file(folder: Path, people: int, seed: int) -> Path:
    """A JSON-lines file of a generated population's records."""
    source = folder / "people.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for _, flat in population(people, seed=seed):
            handle.write(json.dumps(flat, ensure_ascii=False) + "\n")
    return source


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


@pytest.mark.parametrize(
    "run",
    [
        lambda: collected_after(lambda: None)(),
        lambda: list(_received_uncollected(["a", BATCH_END, "b"], batch_size=1)),
    ],
    ids=["collected_after", "_received_uncollected"],
)
def test_a_collector_that_was_off_is_left_off(run: Callable[[], object]) -> None:
    gc.disable()
    try:
        run()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_resolve_ingests_each_batch_with_the_collector_off_and_restores_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _people_file(tmp_path, 120, seed=3)
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


def test_resolve_receives_each_batch_with_the_collector_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a file read by person in batches (records that live until their batch is ingested)
    source = _people_file(tmp_path, 120, seed=3)
    arrived: list[bool] = []
    real = profilesync.resolve.resolve

    def spying(drafts: Iterable[Any], store: ProfileStore, **kwargs: Any) -> Any:
        def watched() -> Iterator[Any]:
            for item in drafts:
                if not isinstance(item, BatchEnd):
                    arrived.append(gc.isenabled())
                yield item

        return real(watched(), store, **kwargs)

    monkeypatch.setattr(profilesync.resolve, "resolve", spying)
    out = tmp_path / "profiles.jsonl"
    # WHEN it is resolved
    assert main(["resolve", str(source), "--out", str(out), "--quiet", "--batch-size", "50"]) == 0
    # THEN no young pass walks a record while its batch arrives, and the collector is on afterwards
    assert arrived
    assert not any(arrived)
    assert gc.isenabled()


def test_received_uncollected_turns_the_collector_on_between_batches() -> None:
    # GIVEN two batches, and then records with no batch end for longer than a batch
    items: list[object] = ["a", "b", BATCH_END, "c", BATCH_END, "d", "e", "f", "g"]
    seen: list[tuple[object, bool]] = []
    between: list[bool] = []
    stream = _received_uncollected(items, batch_size=2)
    # WHEN they are consumed
    for item in stream:
        seen.append((item, gc.isenabled()))
        if isinstance(item, BatchEnd):
            between.append(gc.isenabled())  # the batch is ingested here: still off
    # THEN every item arrives with the collector off, it is on again after each batch (checked by
    # the next arrival turning it off: nothing else does), and as it was at the end
    assert [state for _, state in seen] == [False] * len(items)
    assert between == [False, False]
    assert gc.isenabled()


def test_received_uncollected_is_on_again_after_a_batch_and_when_closed_early() -> None:
    stream = _received_uncollected(iter(["a", BATCH_END, "b", "c"]), batch_size=10)
    assert next(stream) == "a"
    assert not gc.isenabled()
    assert next(stream) is BATCH_END
    assert not gc.isenabled()  # the batch is ingested here
    assert next(stream) == "b"
    assert not gc.isenabled()
    stream.close()  # the caller leaves early (an error)
    assert gc.isenabled()


def test_resolve_failing_mid_batch_leaves_the_collector_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a run whose ingest fails in its first batch (the records arrived with the collector off)
    source = _people_file(tmp_path, 40, seed=5)

    def failing(records: list[SourceRecord], store: ProfileStore, settings: IngestSettings) -> IngestResult:
        raise RuntimeError("ingest broke")

    monkeypatch.setattr(core.batch_ingest, "ingest_batch", failing)
    out = tmp_path / "profiles.jsonl"
    # WHEN it ends with the error
    assert main(["resolve", str(source), "--out", str(out), "--quiet", "--batch-size", "10"]) != 0
    # THEN the collector is on again, not left off with the run's records
    assert gc.isenabled()
