"""attack3: two ``profilesync resolve --endpoint-url`` runs into one table at the same time, each with
half of the same people's records (one person's CRM record in one file, her shop record in the
other). One person, one profile: the table ends as one run of both files ends, every source record
in exactly one profile, and no identifier item left naming a customer without a profile."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from core.testing.population import population
from profilesync.cli import main
from tests.e2e.test_endpoint_url import endpoint  # noqa: F401 (a fixture)
from tests.e2e.test_privacy_cli_attacks import scan
from tests.integration.test_attack3_killed_resolve import _content, _half_customers, _resolve, clean_run

pytestmark = pytest.mark.slow


def _groups(out: Path) -> set[frozenset[str]]:
    profiles = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {frozenset(f"{s['source']}:{s['object_type']}:{s['id']}" for s in p["sources"]) for p in profiles}


def test_two_resolve_runs_at_once_over_halves_of_the_same_people_give_one_profile_each(
    endpoint: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN 80 people's records split at random between two files, and both files in one
    records = [flat for _, flat in population(80, seed=21, malformed_share=0)]
    rng = random.Random(21)
    halves: tuple[list[str], list[str]] = ([], [])
    for record in records:
        halves[rng.random() < 0.5].append(json.dumps(record) + "\n")
    first, second, whole = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "whole.jsonl"
    first.write_text("".join(halves[0]), encoding="utf-8")
    second.write_text("".join(halves[1]), encoding="utf-8")
    whole.write_text("".join(halves[0] + halves[1]), encoding="utf-8")
    # AND the whole file resolved alone (in this process, into a store of its own)
    clean_run(whole, tmp_path / "alone.jsonl", 5)
    # WHEN the two halves are resolved at the same time into one table, in small batches
    runs = [_resolve(endpoint, f, tmp_path / f"{f.stem}.out.jsonl", "shared", 5) for f in (first, second)]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err.decode()
    # THEN the table holds what the single run made: the same people, the same content
    final = tmp_path / "final.jsonl"
    # (in this process: unchanged records; it writes the table out)
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "attack3-kill")
    argv = ["resolve", str(first), "--out", str(final), "--endpoint-url", endpoint, "--table", "shared"]
    assert main([*argv, "--batch-size", "5", "--quiet", "--state-dir", str(tmp_path / "state")]) == 0
    assert _groups(final) == _groups(tmp_path / "alone.jsonl")
    held, contents = _content(final)
    assert max(held.values()) == 1
    assert contents == _content(tmp_path / "alone.jsonl")[1]
    assert _half_customers(scan(endpoint, "shared")) == []
