"""bench.resolve_floors times every stage resolve runs on a record, none at nothing.

Its verdict (is a stage over 4x the peer's CPU alone?) is only as good as its list of stages: a part
the benches it reuses stop timing (renamed in bench.ingest_parts or bench.normalise_worker) must
break it rather than count as zero, and the stages must cover the worker, the crossing, ingest and
the output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import ingest_parts
from bench.resolve_floors import floors, peer_cpu
from bench.resolve_scaling import generate


def test_every_stage_of_resolve_is_timed(tmp_path: Path) -> None:
    source = tmp_path / "records.jsonl"
    generate(source, 600, seed=7)
    stages = floors(source, tmp_path)
    assert {
        "plan of the batches",
        "reading and parsing the lines",
        "normalising",
        "JSON and hash",
        "pickling",
        "unpickling (resolving process)",
        "ingest: split into fresh groups",
        "ingest: SQLite's inserts",
        "ingest: the rest",
        "writing the output",
    } | (  # the profiles apart, or written with the rows by one compiled call a batch (native30g)
        {"ingest: new customers' rows", "ingest: profiles"}
        if "ingest: profiles" in stages
        else {"ingest: new customers' rows and profiles"}
    ) == set(stages)
    timed = {stage: micros for stage, micros in stages.items() if stage != "ingest: the rest"}
    assert all(micros > 0 for micros in timed.values()), timed


def test_a_part_the_ingest_bench_no_longer_times_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "records.jsonl"
    generate(source, 300, seed=7)
    ingest = ingest_parts.ingest

    def without_profiles(*args: object, **kwargs: object) -> object:
        cpu, written = ingest(*args, **kwargs)  # type: ignore[arg-type]
        del cpu["split"]
        return cpu, written

    monkeypatch.setattr("bench.resolve_floors.ingest", without_profiles)
    with pytest.raises(KeyError):
        floors(source, tmp_path)


def test_the_peer_is_timed_in_a_process_of_its_own(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    source = tmp_path / "records.jsonl"
    generate(source, 300, seed=7)
    assert peer_cpu(source, tmp_path) > 0
    assert (tmp_path / "peer.jsonl").read_text().count("\n") > 100


def test_every_stage_has_a_process_and_the_sums_keep_every_microsecond() -> None:
    # GIVEN a microsecond a line for every stage the bench times
    from bench.resolve_floors import PROCESSES, by_process

    stages = dict.fromkeys(PROCESSES, 1.0)
    # WHEN they are added up by process
    sums = by_process(stages)
    # THEN every stage is counted once, shared where two processes share it
    assert sum(sums.values()) == pytest.approx(len(stages))
    assert sums["second writer"] == pytest.approx(0.5)
    # AND a free stage costs its processes nothing, a stage that is none is an error
    freed = by_process(stages, frozenset({"ingest: profiles", "plan of the batches"}))
    assert freed["resolving"] == pytest.approx(sums["resolving"] - 1.5)
    assert freed["worker"] == pytest.approx(sums["worker"] - 0.5)
    with pytest.raises(KeyError):
        by_process(stages, frozenset({"profiles"}))
