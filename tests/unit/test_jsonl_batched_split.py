"""Planning batches in two halves, the second read apart (by the caller), plans what one pass plans.

``profilesync.parallel_normalise`` has the caller read the linking values of the second half of the
file (``link_part``) while the worker reads the first; the worker's plan
(``plan_batches(..., split=...)``) must be the plan of one pass over the whole file, line for line,
whatever the lines (linked, junk, a BOM, a carriage return, a line too long) and wherever the file
is cut.
"""

from __future__ import annotations

import codecs
import json
import pickle
import tracemalloc
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import connectors.jsonl.batched as batched
import profilesync.parallel_plan as parallel_plan
from bench.resolve_scaling import generate
from connectors.jsonl.batched import BatchEnd, Split, half_way, link_part, plan_batches, read_jsonl_batched
from core.normalise import NormaliseOptions, normalise_record
from core.schema import Quarantined
from profilesync.parallel_normalise import NormalisingWorker
from tests.unit.test_parallel_normalise import assert_worker_ends_with_its_killed_caller

_EMAILS = st.sampled_from(["a@x.co", "B@x.co", "b@x.co ", "c@x.co", "", "not-an-email"])
_PHONES = st.sampled_from(["+44 20 3000 0001", "020 3000 0001", "+1 201 200 0002", "12", ""])
_RECORD = st.fixed_dictionaries(
    {"source": st.sampled_from(["crm", "shop"]), "id": st.sampled_from([f"r{i}" for i in range(60)])},
    optional={
        "email": st.one_of(_EMAILS, st.lists(_EMAILS, max_size=2)),
        "phone": _PHONES,
        "owner_id": st.sampled_from(["r1", "r2", ""]),
    },
).map(lambda d: json.dumps(d).encode() + b"\n")
_ODD = st.sampled_from(
    [
        b"\n",
        b"{\n",
        b"[]\n",
        b'{"id": [1]}\n',
        b'{"id": "r1", "x": "\r"}\n',
        b'{"id": "r2"}\r\n',
        b"\xff\xfe\n",
    ]
)
_LONG = st.just(b'{"id": "r3", "pad": "' + b"x" * 250 + b'"}\n')  # over the patched limit


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(_RECORD, min_size=1, max_size=40),
    odd=st.lists(st.tuples(st.one_of(_ODD, _LONG), st.floats(0, 1)), max_size=2),
    head=st.sampled_from([b"", b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE]),
    last_newline=st.booleans(),
    cut=st.one_of(st.just(0.0), st.floats(0, 1)),
    batch_size=st.integers(1, 12),
)
def test_a_plan_made_in_two_halves_is_the_plan_of_one_pass(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    records: list[bytes],
    odd: list[tuple[bytes, float]],
    head: bytes,
    last_newline: bool,
    cut: float,
    batch_size: int,
) -> None:
    # GIVEN any file of linked records with a few junk or odd lines, and any line start to cut it at
    monkeypatch.setattr(batched, "MAX_LINE_CHARS", 200)
    lines = list(records)
    for line, where in odd:
        lines.insert(round(where * len(lines)), line)
    content = head + b"".join(lines)
    if not last_newline:
        content = content.rstrip(b"\n")
    source = tmp_path / "any.jsonl"
    source.write_bytes(content)
    starts = [0] + [i + 1 for i, byte in enumerate(content) if byte == ord("\n")]
    begin = starts[round(cut * (len(starts) - 1))]

    # WHEN the second part's values are read apart and handed to the plan of the first
    part = link_part(source, begin)
    split = plan_batches(source, batch_size, split=(begin, lambda: part))

    # THEN it is the plan of one pass, or None (file order) exactly when that is
    whole = plan_batches(source, batch_size)
    assert split == whole


def test_the_population_planned_in_two_halves_is_the_plan_of_one_pass(tmp_path: Path) -> None:
    # GIVEN the shuffled population (people across three tools, 2% malformed), cut half way
    population_file = tmp_path / "records.jsonl"
    generate(population_file, 3000, seed=5)
    begin = half_way(population_file)
    assert 0 < begin < population_file.stat().st_size

    # WHEN its second half is linked apart THEN the plan is the one pass's, and it orders lines
    part = link_part(population_file, begin)
    whole = plan_batches(population_file, 300)
    assert whole is not None
    assert whole.batches > 3
    assert plan_batches(population_file, 300, split=(begin, lambda: part)) == whole


def test_half_way_is_the_start_of_the_first_line_past_the_middle(tmp_path: Path) -> None:
    # GIVEN files whose middle byte falls inside a line, on a newline, or after the last newline
    cases = {
        b"aaaa\nbbbb\ncccc\n": 10,  # middle byte 7, inside "bbbb": the next line starts at 10
        b"aa\nbb\n": 3,  # middle byte 3 starts a line
        b"aaaaaaaaaa\nb": 11,
        b"aaaaaaaaaaaa": 12,  # no line starts after the middle: the end
        b"": 0,
    }
    for content, expected in cases.items():
        path = tmp_path / "f.jsonl"
        path.write_bytes(content)
        assert half_way(path) == expected, content


def test_half_way_in_a_line_too_long_to_read_holds_a_few_kb_and_gives_the_whole_file(tmp_path: Path) -> None:
    # GIVEN a file whose middle falls in a 20 MB line (over MAX_LINE_CHARS), with or without lines
    # after it
    for tail in (b"", b'\n{"id": "2"}\n'):
        path = tmp_path / "long.jsonl"
        path.write_bytes(b'{"id": "1"}\n' + b"x" * (20 << 20) + tail)

        # WHEN its half way is found THEN it is the end (the plan refuses that line anyway, and
        # reads the whole file in the worker), read without holding the line
        tracemalloc.start()
        try:
            found = half_way(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert found == path.stat().st_size
        assert peak < 2 << 20, peak
        assert plan_batches(path, 1, split=(found, partial(link_part, path, found))) is None


def _outcomes(path: Path, batch_size: int, split: Split | None = None) -> list[object]:
    """What the caller would read without a worker: batches, each record normalised."""
    return [
        item if isinstance(item, Quarantined | BatchEnd) else normalise_record(item, NormaliseOptions())
        for item in read_jsonl_batched(path, batch_size, split=split)
    ]


def test_the_worker_plans_with_the_callers_second_half_and_sends_the_same_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the population, a worker reading it in batches of 300, and a caller whose second half
    # differs from the file's: its last line also holds the first line's values, which joins their
    # groups (a worker that read the half itself would not see that value)
    source = tmp_path / "records.jsonl"
    generate(source, 3000, seed=7)
    half = half_way(source)
    part = link_part(source, half)
    first = link_part(source, 0)
    assert part is not None
    assert first is not None
    joined = (part[0], [*part[1][:-1], part[1][-1] + first[1][0]])
    sent: list[int] = []

    def joining(sending: Any, path: Path, at: int) -> None:
        sent.append(at)
        sending.send_bytes(pickle.dumps(joined))
        sending.close()

    monkeypatch.setattr(parallel_plan, "send_part", joining)
    expected = _outcomes(source, 300, split=(half, lambda: joined))
    assert expected != _outcomes(source, 300)  # the joined value moves the last line's batch

    # WHEN it runs THEN this process sent the second half's values, and the worker planned with
    # them: it sent the batches of that plan, batch ends and all
    got = list(NormalisingWorker(source, batch_size=300))
    assert sent == [half]
    assert got == expected


def test_when_the_caller_cannot_read_its_half_the_worker_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a caller whose thread could not read the second half (it sends "read it")
    source = tmp_path / "records.jsonl"
    generate(source, 3000, seed=8)

    def failed(sending: Any, path: Path, half: int) -> None:
        sending.send_bytes(pickle.dumps(parallel_plan.READ_IT))
        sending.close()

    monkeypatch.setattr(parallel_plan, "send_part", failed)

    # WHEN the worker runs THEN it reads that half itself: the same batches
    assert list(NormalisingWorker(source, batch_size=300)) == _outcomes(source, 300)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_a_worker_waiting_for_the_half_of_a_killed_caller_ends_by_itself(tmp_path: Path) -> None:
    # GIVEN a caller (a process of its own) that never sends its half, and its worker waiting for it
    source = tmp_path / "records.jsonl"
    generate(source, 3000, seed=9)
    script = tmp_path / "caller.py"
    script.write_text(
        "import time\n"
        "import profilesync.parallel_plan as plan\n"
        "from profilesync.parallel_normalise import NormalisingWorker\n"
        "plan.send_part = lambda sending, path, half: time.sleep(120)\n"
        f"worker = NormalisingWorker({str(source)!r}, batch_size=300)\n"
        "worker.start()\n"
        "print(worker.process.pid, flush=True)\n"
        "time.sleep(120)\n",
        encoding="utf-8",
    )
    # WHEN the worker has read its half and waits, and the caller is killed outright THEN the
    # worker ends by itself (it had waited for the half for ever)
    assert_worker_ends_with_its_killed_caller(script, settle=1.0)
