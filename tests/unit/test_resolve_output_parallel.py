"""``resolve --out`` from the embedded store writes the same bytes in one process or in two.

``profilesync.resolve_output.write_store`` writes the customers below ``SPLIT`` itself while a second
process writes the rest into an unnamed file, then appends it. The file must be the one a single
writer gives, in customer id order, whatever side of the split the customers fall on; the second
process's failure must fail the command, not leave a short file behind as a success.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import profilesync.resolve_output as output
from connectors.jsonl import draft_from_flat
from core.normalise import normalise_record
from core.pipeline import ingest
from core.schema import SourceRecord
from core.testing.population import population
from profilesync.cli import main
from profilesync.stores import open_stores
from tests.hypothesis_profiles import examples
from tests.unit.test_parallel_normalise import _population


def _store(path: Path, people: int, seed: int) -> Path:
    records = [normalise_record(draft_from_flat(flat)) for _, flat in population(people, seed=seed)]
    with open_stores(endpoint_url=None, table="t", path=path) as stores:
        ingest([r for r in records if isinstance(r, SourceRecord)], stores.profiles)
    return path


def _single(store: Path) -> str:
    """The lines as the store's own reader gives the documents, written by one process."""
    out = io.StringIO()
    with open_stores(endpoint_url=None, table="t", path=store, read_only=True) as stores:
        output.write_documents(stores.profiles.profile_documents(), out)
    return out.getvalue()


def _recording_popen(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The commands of the second processes started from now on."""
    started: list[list[str]] = []
    popen = subprocess.Popen

    def recorded(args: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        started.append(args)
        return popen(args, **kwargs)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(output.subprocess, "Popen", recorded)
    return started


@pytest.mark.parametrize(("people", "seed"), [(150, 1), (3, 2), (1, 7)])
def test_two_processes_write_what_one_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, people: int, seed: int
) -> None:
    # GIVEN a store of a population (customers on both sides of the split, or only a few)
    store = _store(tmp_path / "store.sqlite3", people, seed)
    expected = _single(store)
    ids = [json.loads(line)["customer_id"] for line in expected.splitlines()]
    if people > 100:
        assert min(ids) < output.SPLIT[9:] < max(ids)  # both processes have customers to write
    monkeypatch.setattr(output, "PARALLEL_MIN_PROFILES", 1)
    started = _recording_popen(monkeypatch)
    # WHEN written in two processes, and in one
    counts, files = [], []
    for parallel in (True, False):
        path = tmp_path / f"out-{parallel}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            counts.append(output.write_store(store, out, parallel=parallel))
        files.append(path.read_text(encoding="utf-8"))
    # THEN both files are the store's lines in customer id order, and the counts are theirs
    assert len(started) == 1
    assert files == [expected, expected]
    assert counts == [len(ids), len(ids)]
    assert ids == sorted(ids)


def test_a_failing_second_process_fails_the_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a store large enough for two processes, and a second process that fails at once
    store = _store(tmp_path / "store.sqlite3", 40, 3)
    monkeypatch.setattr(output, "PARALLEL_MIN_PROFILES", 1)
    monkeypatch.setattr(sys, "executable", "/bin/false")
    # WHEN the profiles are written THEN the write fails, saying which process
    with (
        (tmp_path / "out.jsonl").open("w", encoding="utf-8") as out,
        pytest.raises(OSError, match="second half"),
    ):
        output.write_store(store, out)


def test_resolve_writes_the_same_file_with_a_second_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a population file, resolved with the output in two processes and in one
    source = tmp_path / "records.jsonl"
    _population(source, 600, seed=4)
    digests = []
    monkeypatch.setattr("profilesync.parallel_normalise.usable_cores", lambda: 2)
    started = _recording_popen(monkeypatch)
    for least in (1, 10**9):
        monkeypatch.setattr(output, "PARALLEL_MIN_PROFILES", least)
        out = tmp_path / f"{least}" / "profiles.jsonl"
        assert main(["resolve", str(source), "--out", str(out), "--quiet"]) == 0
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
        # and the unnamed part and the run's store are gone
        assert sorted(p.name for p in out.parent.iterdir()) == ["profiles.jsonl", "profiles.quarantine.jsonl"]
    # THEN the files are the same, the first written by two processes
    assert digests[0] == digests[1]
    assert len(started) == 1


def _containers(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(st.characters(exclude_categories=("Cs",))),
    _containers,
    max_leaves=20,
)


@settings(max_examples=examples(ci=60, deep=300), deadline=None)
@given(value=st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_the_line_encoder_is_json_dumps(value: dict[str, object]) -> None:
    # GIVEN any JSON object (nan and infinities included) WHEN encoded as a line THEN it is json.dumps's text
    assert output._encode_line(value) == json.dumps(value, ensure_ascii=False)


def test_without_an_interpreter_to_start_one_process_writes_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a Python that cannot start another (no executable where sys.executable says)
    store = _store(tmp_path / "store.sqlite3", 40, 3)
    expected = _single(store)
    monkeypatch.setattr(output, "PARALLEL_MIN_PROFILES", 1)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    # WHEN the profiles are written THEN this process writes them all
    path = tmp_path / "out.jsonl"
    with path.open("w", encoding="utf-8") as out:
        assert output.write_store(store, out) == len(expected.splitlines())
    assert path.read_text(encoding="utf-8") == expected


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(
        st.sampled_from(["k", "j", "kz", "jzzz", "7", "a", "z", "k2", "", "kk"])
        | st.text("2jkz7a", max_size=4),
        unique=True,
        max_size=12,
    ),
    per_page=st.integers(1, 4),
)
def test_the_two_halves_are_every_profile_once_in_order(ids: list[str], per_page: int) -> None:
    # GIVEN profiles whose ids fall on, next to and either side of the split, read a few per page
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE items (pk TEXT, sk TEXT, data TEXT, PRIMARY KEY (pk, sk))")
    rows = [(f"CUSTOMER#cus_{i}", "PROFILE", json.dumps({"id": i})) for i in ids]
    rows += [(f"CUSTOMER#cus_{i}", "SOURCE#x", json.dumps({"not": i})) for i in ids]  # not profiles
    rows += [("CUSTOMER#cus_gone", "PROFILE", None)]  # merged away: no data
    connection.executemany("INSERT INTO items VALUES (?, ?, ?)", rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(output, "_PER_PAGE", per_page)
        # WHEN read as the two processes read them
        lower = list(output.store_documents(connection, "", output.SPLIT))
        upper = list(output.store_documents(connection, output.SPLIT, None))
    # THEN together they are every profile once, in key order, each on its side of the split
    assert [d["id"] for d in lower + upper] == sorted(ids, key=lambda i: f"CUSTOMER#cus_{i}")
    assert all(f"CUSTOMER#cus_{d['id']}" < output.SPLIT for d in lower)
    assert all(f"CUSTOMER#cus_{d['id']}" >= output.SPLIT for d in upper)
