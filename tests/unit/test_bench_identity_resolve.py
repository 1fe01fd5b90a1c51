"""bench.identity_accuracy runs ``profilesync resolve`` for its FEBRL rows and for the demo population
through one pair of helpers (``quietly``, ``resolve_sources``), where each kept its own copy: the
profiles are read back as the (source, id) of the records each holds, and a failing command is
named with the end of what it printed, never swallowed by the redirect that keeps the bench's
output clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.identity_accuracy import quietly, resolve_sources


def _write(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_the_profiles_resolve_writes_come_back_as_the_records_each_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN two tools' records of Ann (one email) and a record of Bob, in batches of one
    at = "2026-01-01T00:00:00Z"
    records = _write(
        tmp_path / "records.jsonl",
        [
            {"source": "crm", "id": "1", "email": "ann@example.com", "updated_at": at},
            {"source": "shop", "id": "a7", "email": "Ann@Example.com", "updated_at": at},
            {"source": "crm", "id": "2", "email": "bob@example.com", "updated_at": at},
        ],
    )
    # WHEN resolved through the bench's helper
    groups = resolve_sources(records, tmp_path / "profiles.jsonl", 1, ["--identity", "exact"])
    # THEN each profile is the (source, id) of its records, and nothing reached the bench's output
    assert sorted(sorted(group) for group in groups) == [[("crm", "1"), ("shop", "a7")], [("crm", "2")]]
    assert capsys.readouterr().out == ""


def test_a_failing_command_is_named_with_what_it_printed(tmp_path: Path) -> None:
    # GIVEN a records file that is not there WHEN the bench resolves it
    # THEN the failure names the command and carries the CLI's own message
    with pytest.raises(RuntimeError, match=r"^resolve failed: .*missing\.jsonl"):
        resolve_sources(tmp_path / "missing.jsonl", tmp_path / "out.jsonl", 10, [])
    with pytest.raises(RuntimeError, match=r"^identity train failed: .*missing\.jsonl"):
        quietly("identity train", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "m.json"))
