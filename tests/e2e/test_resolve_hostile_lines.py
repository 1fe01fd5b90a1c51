"""``profilesync resolve`` with lines nobody here wrote: each bad line is quarantined alone, and the run
goes on with every other line.

A line of JSON nested deeper than Python's recursion limit (``[[[[...]]]]``, a few hundred kilobytes,
well under the line limit) ended the run with exit 1 and nothing written; one line saved in Latin-1
by a spreadsheet in the middle of a UTF-8 export refused the whole file with exit 2, after the lines
before it had been ingested.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from profilesync.cli import main


def _good(i: int) -> bytes:
    record = {"source": "crm", "id": f"p{i}", "updated_at": "2026-01-05", "email": f"p{i}@example.com"}
    return json.dumps(record).encode()


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_a_line_nested_past_the_recursion_limit_is_quarantined_and_the_run_goes_on(tmp_path: Path) -> None:
    # GIVEN good people around two lines nested 100,000 levels deep (an array, and a record's trait)
    deep = b"[" * 100_000 + b"]" * 100_000
    trait = b'{"source": "crm", "id": "deep", "updated_at": "2026-01-05", "email": "deep@example.com", "x": '
    trait += b"[" * 50_000 + b"]" * 50_000 + b"}"
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join([_good(0), deep, _good(1), trait, _good(2)]) + b"\n")
    out = tmp_path / "out.jsonl"
    # WHEN resolved
    code = main(["resolve", str(source), "--out", str(out), "--quiet"])
    # THEN the run succeeds, the good people are profiles and both deep lines are quarantined by line
    assert code == 0
    assert len(_lines(out)) == 3
    quarantined = _lines(tmp_path / "out.quarantine.jsonl")
    assert [q["source_id"] for q in quarantined] == ["line 2", "line 4"]
    assert all("nested" in q["reason"] for q in quarantined)


def test_a_line_that_is_not_utf8_is_quarantined_alone_and_the_rest_is_read(tmp_path: Path) -> None:
    # GIVEN a UTF-8 export with one line saved in Latin-1 (München as M\xfcnchen), then more people
    latin = b'{"source": "crm", "id": "m1", "updated_at": "2026-01-05", "email": "m@example.com", '
    latin += b'"city": "M\xfcnchen"}'
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join([_good(0), latin, _good(1), _good(2)]) + b"\n")
    out = tmp_path / "out.jsonl"
    # WHEN resolved
    code = main(["resolve", str(source), "--out", str(out), "--quiet"])
    # THEN the run succeeds: three profiles, and the Latin-1 line is quarantined with what to do
    assert code == 0
    assert len(_lines(out)) == 3
    [entry] = _lines(tmp_path / "out.quarantine.jsonl")
    assert entry["source_id"] == "line 2"
    assert "not UTF-8" in entry["reason"]
    assert "M\ufffdnchen" in entry["raw"]["line"]
