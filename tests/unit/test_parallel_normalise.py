"""``profilesync resolve`` normalises in a worker process and writes what it wrote before, byte for byte.

The worker (profilesync.parallel_normalise) reads and normalises the file while the caller ingests;
the stores write profiles from the body their hash serialised (core.content_hash.profile_json) and read a
customer's profile only when asked (core.storage.sqlite). None of it may change a byte of the output:

* the worker's outcomes are the caller's own, in file order, forked or spawned, in any chunking;
* ``resolve`` with the worker, without it, and the plain in-memory path write the same files;
* on a fixed population, those files are the ones ``resolve`` wrote before these optimisations
  (``GOLDEN``, taken from main at 035cd66 with the same population); a deliberate change of merge
  semantics changes them: check the new output, then take the new digests and say so.
* the worker never hangs or outlives its caller: its errors are raised in the caller, its death is
  a ``NormaliseWorkerError``, and leaving the loop early stops it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import profilesync.parallel_normalise as parallel
from connectors.jsonl import read_jsonl
from connectors.jsonl.batched import BatchEnd, read_jsonl_batched
from core.errors import InputError
from core.merge import RECORD_HASH_MEMO, record_hash
from core.normalise import NormaliseOptions, normalise_record
from core.record_json import RECORD_JSON_MEMO
from core.runtime import bulk_gc
from core.schema import Quarantined, SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.population import malformed, people, records_for
from profilesync.cli import main
from profilesync.parallel_normalise import NormaliseWorkerError, NormalisingWorker
from profilesync.resolve import resolve, write_profiles

#: sha256 of ``resolve``'s profiles and quarantine files for ``_population(path, 3000, seed=5)``,
#: as main wrote them before the resolve optimisations (commit 035cd66), then with the default
#: batch of 20,000 records (core.batch_ingest): the same people with the same content, but each
#: founded in one batch (version 1, the id of its smallest source key) where batches of 100 had
#: founded 31 of them twice and merged them (a later version, the smaller of two ids).
GOLDEN = {
    "profiles": "209954478add64ef19b2d7f78f2511a79a5c67c058c6966acab6b2bf7bb051fa",
    "quarantine": "63cb1002f6af527d73dbf5d04142b992d1bebd089737ffed38c20e4403ab7b97",
}


def _population(path: Path, records: int, seed: int) -> None:
    """About ``records`` shuffled records of overlapping people, 2% malformed (as bench/resolve_scaling)."""
    rng = random.Random(seed)
    crowd = people(max(1, round(records / 1.87 / 1.02)), seed)
    lines = [json.dumps(r, ensure_ascii=False) for p in crowd for r in records_for(p, rng)]
    lines += [json.dumps(malformed(rng, i)) for i in range(len(lines) // 50)]
    rng.shuffle(lines)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def population_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("population") / "records.jsonl"
    _population(path, 3000, seed=5)
    return path


@pytest.fixture
def awkward_file(tmp_path: Path) -> Path:
    """Records, malformed records, a line that is not JSON, one that is not UTF-8, blank lines."""
    path = tmp_path / "awkward.jsonl"
    _population(path, 400, seed=3)
    with path.open("ab") as out:
        out.write(b"{not json\n\n")
        out.write(b'{"source": "crm", "id": "x", "email": "caf\xe9@example.com"}\n')
        out.write(
            b'{"source": "crm", "id": "y", "updated_at": "2026-01-01T00:00:00Z", "email": "y@example.com"}\n'
        )
    return path


def _in_process(path: Path, options: NormaliseOptions) -> list[SourceRecord | Quarantined]:
    return [
        item if isinstance(item, Quarantined) else normalise_record(item, options)
        for item in read_jsonl(path)
    ]


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_the_workers_outcomes_are_the_callers_own_in_file_order(
    awkward_file: Path, start: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a worker started either way, sending small chunks through a short queue
    import multiprocessing

    monkeypatch.setattr(parallel, "_context", lambda: multiprocessing.get_context(start))
    options = NormaliseOptions(default_region="GB")
    # WHEN the file is normalised by the worker and in this process
    sent = list(NormalisingWorker(awkward_file, options, chunk_size=7, ahead=2))
    expected = _in_process(awkward_file, options)
    # THEN the outcomes are the same, in the same order, each record with its hash and JSON kept
    assert len(sent) == len(expected) > 400
    assert any(isinstance(item, Quarantined) for item in expected)
    for got, want in zip(sent, expected, strict=True):
        assert type(got) is type(want)
        assert got.model_dump_json() == want.model_dump_json()
        assert got == want
        if isinstance(got, SourceRecord):
            assert got.__dict__[RECORD_HASH_MEMO] == record_hash(want)
            assert got.__dict__[RECORD_JSON_MEMO] == want.model_dump_json()


def _resolve_files(
    source: Path, out: Path, *, worker: bool, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    started: list[NormalisingWorker] = []
    real_start = NormalisingWorker.start

    def start(self: NormalisingWorker) -> None:
        started.append(self)
        real_start(self)

    monkeypatch.setattr(parallel, "MIN_BYTES", 0 if worker else 1 << 40)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)
    monkeypatch.setattr(NormalisingWorker, "start", start)
    assert main(["resolve", str(source), "--out", str(out), "--quiet"]) == 0
    assert bool(started) == worker
    return {"profiles": _digest(out), "quarantine": _digest(out.with_name(out.stem + ".quarantine.jsonl"))}


def test_resolve_writes_the_same_bytes_with_the_worker_without_it_and_as_before(
    population_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the population is resolved with the worker and without it
    with_worker = _resolve_files(
        population_file, tmp_path / "a" / "p.jsonl", worker=True, monkeypatch=monkeypatch
    )
    summary = capsys.readouterr().out.replace(str(tmp_path / "a"), "")
    alone = _resolve_files(population_file, tmp_path / "b" / "p.jsonl", worker=False, monkeypatch=monkeypatch)
    # THEN both write the same files and the same summary, which are the files written before
    assert with_worker == alone
    assert capsys.readouterr().out.replace(str(tmp_path / "b"), "") == summary
    assert with_worker == GOLDEN


def test_the_in_memory_path_writes_the_profiles_resolve_writes(population_file: Path, tmp_path: Path) -> None:
    # GIVEN the plain path: normalised here, the in-memory store, each profile written from its model
    store = InMemoryProfileStore()
    out = tmp_path / "memory.jsonl"
    with bulk_gc(), out.open("w", encoding="utf-8") as handle:
        resolve(read_jsonl(population_file), store)
        write_profiles(store.iter_profiles(), handle)
    # THEN it writes the same profiles as the command (the golden file)
    assert _digest(out) == GOLDEN["profiles"]


@pytest.mark.skipif(sys.platform == "darwin", reason="Queue.qsize is not implemented on macOS")
def test_the_worker_normalises_the_next_batch_while_the_caller_ingests(population_file: Path) -> None:
    # GIVEN a worker reading batches of 1,000 lines in chunks of 50, and a caller that has read
    # one outcome and now works on something else (resolve ingesting a batch reads nothing)
    worker = NormalisingWorker(population_file, batch_size=1000, chunk_size=50, ahead=2)
    with worker:
        items = iter(worker)
        first = next(items)
        # WHEN the caller waits THEN the worker fills the queue with more than a batch (20 chunks
        # of 50), and no more than its bound; a queue of ``ahead`` chunks had stopped it at 2
        queued = 0
        deadline = time.monotonic() + 60
        while queued < 21 and worker.process.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
            queued = worker._messages.qsize()
        assert 21 <= queued <= worker.ahead == 2 + 20
        # and what it sent is what the caller would have read, in order
        rest = [item for item in items if not isinstance(item, BatchEnd)]
    expected = [
        item if isinstance(item, Quarantined) else normalise_record(item, NormaliseOptions())
        for item in read_jsonl_batched(population_file, 1000)
        if not isinstance(item, BatchEnd)
    ]
    assert [first, *rest] == expected


def test_an_error_in_the_worker_is_raised_in_the_caller(tmp_path: Path) -> None:
    # GIVEN a file the reader refuses (UTF-16)
    path = tmp_path / "utf16.jsonl"
    path.write_text('{"source": "crm", "id": "1"}\n', encoding="utf-16")
    with pytest.raises(InputError) as direct:
        list(read_jsonl(path))
    # WHEN the worker reads it THEN the caller gets the same error
    with pytest.raises(InputError) as raised:
        list(NormalisingWorker(path))
    assert str(raised.value) == str(direct.value)


def test_a_worker_that_dies_is_an_error_not_a_hang(population_file: Path) -> None:
    # GIVEN a worker that has sent its first chunk
    worker = NormalisingWorker(population_file, chunk_size=10, ahead=1)
    items = iter(worker)
    next(items)
    # WHEN it is killed
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.join(timeout=10)
    # THEN reading on raises NormaliseWorkerError, saying what to do
    with pytest.raises(NormaliseWorkerError, match="Run the command again"):
        for _ in items:
            pass
    assert not worker.process.is_alive()


def test_leaving_early_stops_the_worker(population_file: Path) -> None:
    # GIVEN a worker with most of the file still to send
    with NormalisingWorker(population_file, chunk_size=10, ahead=1) as worker:
        for _ in worker:
            break
        process = worker.process
    # WHEN the loop and the block are left THEN the worker is gone
    assert not process.is_alive()
    assert process.exitcode is not None


def _state(pid: int) -> str | None:
    """The process's state letter (``Z`` for a zombie nobody reaped), or None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_a_worker_whose_caller_is_killed_ends_by_itself(population_file: Path, tmp_path: Path) -> None:
    # GIVEN a caller (a process of its own) whose worker has filled the queue
    script = tmp_path / "caller.py"
    script.write_text(
        "import sys, time\n"
        "from profilesync.parallel_normalise import NormalisingWorker\n"
        f"worker = NormalisingWorker({str(population_file)!r}, chunk_size=10, ahead=1)\n"
        "items = iter(worker)\n"
        "next(items)\n"
        "print(worker.process.pid, flush=True)\n"
        "time.sleep(120)\n",
        encoding="utf-8",
    )
    # WHEN the caller is killed outright (no clean-up runs) THEN the worker ends by itself
    assert_worker_ends_with_its_killed_caller(script)


def assert_worker_ends_with_its_killed_caller(script: Path, settle: float = 0.0) -> None:
    """Run ``script`` (a caller that prints its worker's pid, then sleeps), let the worker run for
    ``settle`` seconds, kill the caller outright (no clean-up runs), and assert that the worker ends
    by itself within a few seconds."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd()), os.environ.get("PYTHONPATH", "")])}
    caller = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert caller.stdout is not None
        worker_pid = int(caller.stdout.readline())
        time.sleep(settle)
        assert _state(worker_pid) not in (None, "Z")
        caller.kill()
        caller.wait(timeout=10)
        deadline = time.monotonic() + 20
        while _state(worker_pid) not in (None, "Z") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _state(worker_pid) in (None, "Z")
    finally:
        caller.kill()
        caller.wait(timeout=10)
