"""``resolve`` on batches that keep each person's records together: later batches stay on the fast path.

A record whose person an earlier batch founded goes through the per-group planner
(``core.pipeline.ingest``, about 1.4 times the work); read in file order, a shuffled file sends more
of its records there with every batch, so the work per record grew with the file (issue 12). Read
by ``connectors.jsonl.batched``, no record of the population needs the planner, at any batch count,
and the people are the same. The worker (profilesync.parallel_normalise) sends the same batches.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import core.batch_ingest
import profilesync.parallel_normalise as parallel
from connectors.jsonl import read_jsonl
from connectors.jsonl.batched import BatchEnd, read_jsonl_batched
from core.normalise import NormaliseOptions, normalise_record
from core.pipeline import IngestResult, IngestSettings
from core.ports import ProfileStore
from core.schema import Quarantined, SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.population import population
from profilesync.cli import main
from profilesync.parallel_normalise import NormalisingWorker
from profilesync.resolve import resolve, write_profiles


@pytest.fixture(scope="module")
def people_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("people") / "people.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for _, flat in population(700, seed=8):
            handle.write(json.dumps(flat, ensure_ascii=False) + "\n")
    return path


def _planned_records(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many records each batch sent to the per-group planner (filled as batches run)."""
    sent: list[int] = []
    real = core.batch_ingest.ingest

    def counting(records: list[SourceRecord], store: ProfileStore, settings: IngestSettings) -> IngestResult:
        sent.append(len(records))
        return real(records, store, settings)

    monkeypatch.setattr(core.batch_ingest, "ingest", counting)
    return sent


def _content(store: InMemoryProfileStore, tmp_path: Path, name: str) -> list[dict[str, object]]:
    path = tmp_path / name
    with path.open("w", encoding="utf-8") as handle:
        write_profiles(store.iter_profiles(), handle)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    kept = [{k: v for k, v in p.items() if k not in ("customer_id", "version")} for p in lines]
    return sorted(kept, key=lambda p: json.dumps(p["sources"]))


def test_no_record_falls_to_the_planner_and_the_people_are_the_same(
    people_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 700 people's shuffled records, resolved in batches of 100 in file order: later batches
    # send records to the planner (what made the work per record grow with the file)
    in_file_order = _planned_records(monkeypatch)
    plain = InMemoryProfileStore()
    read = resolve(read_jsonl(people_file), plain, batch_size=100)
    assert sum(in_file_order) > read.normalised // 4

    # WHEN the same file is read in batches that keep each person's records together
    by_person = _planned_records(monkeypatch)
    store = InMemoryProfileStore()
    report = resolve(read_jsonl_batched(people_file, 100), store, batch_size=100)

    # THEN no record goes to the planner, and the people, their
    # content and the report's counts are those of the file-order run
    assert sum(by_person) == 0
    assert report.read == read.read
    assert report.normalised == read.normalised
    assert report.quarantine_reasons == read.quarantine_reasons
    assert report.ingest.new_customers == len(list(store.iter_profiles())) == len(list(plain.iter_profiles()))
    assert _content(store, tmp_path, "by-person.jsonl") == _content(plain, tmp_path, "file-order.jsonl")


def test_the_worker_sends_the_same_batches(people_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the worker reading by person, in small chunks (a batch end may fall anywhere in one)
    options = NormaliseOptions(default_region="GB")
    sent = list(NormalisingWorker(people_file, options, chunk_size=7, ahead=2, batch_size=90))

    # WHEN this process reads the same batches
    expected = [
        item if isinstance(item, Quarantined | BatchEnd) else normalise_record(item, options)
        for item in read_jsonl_batched(people_file, 90)
    ]

    # THEN the outcomes and the batch ends are the same, in the same order
    assert sum(isinstance(item, BatchEnd) for item in sent) > 10
    assert len(sent) == len(expected)
    for got, want in zip(sent, expected, strict=True):
        assert type(got) is type(want)
        assert got == want


@pytest.mark.parametrize("worker", [True, False])
def test_profilesync_resolve_reads_by_person_with_and_without_the_worker(
    people_file: Path,
    tmp_path: Path,
    worker: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN the command, with the worker or without it
    monkeypatch.setattr(parallel, "MIN_BYTES", 0 if worker else 1 << 40)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)
    sent = _planned_records(monkeypatch)

    # WHEN it resolves the file in batches of 120
    out = tmp_path / "profiles.jsonl"
    assert main(["resolve", str(people_file), "--out", str(out), "--batch-size", "120", "--quiet"]) == 0
    capsys.readouterr()

    # THEN no record went to the planner (with the worker, batches run in this process too) and
    # the output is the in-memory job's on the same batches
    assert sum(sent) == 0
    store = InMemoryProfileStore()
    resolve(read_jsonl_batched(people_file, 120), store, batch_size=120)
    reference = tmp_path / "memory.jsonl"
    with reference.open("w", encoding="utf-8") as handle:
        write_profiles(store.iter_profiles(), handle)
    assert out.read_bytes() == reference.read_bytes()
