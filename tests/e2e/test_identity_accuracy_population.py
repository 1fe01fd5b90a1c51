"""The demo population varied as tools vary one person, through ``profilesync resolve``, scored
against the generator's own truth (core.testing.varied_population; the 3,000-person figure is
bench/identity_accuracy.py's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.testing.varied_population import grouping_accuracy, varied_population
from profilesync.cli import main

PEOPLE = 400


def _resolve(tmp_path: Path, *extra: str) -> list[list[str]]:
    records, out = tmp_path / "records.jsonl", tmp_path / "profiles.jsonl"
    pairs = varied_population(PEOPLE, seed=11, malformed_share=0.02)
    records.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for _, r in pairs), encoding="utf-8")
    args = ["resolve", str(records), "--out", str(out), "-q", "--default-region", "GB", "--batch-size", "37"]
    assert main([*args, *extra]) == 0
    return [
        [f"{s['source']}:{s['id']}" for s in json.loads(line)["sources"]]
        for line in out.read_text(encoding="utf-8").splitlines()
    ]


@pytest.fixture(scope="module")
def person_of() -> dict[str, int]:
    pairs = varied_population(PEOPLE, seed=11, malformed_share=0.02)
    return {f"{r['source']}:{r['id']}": p for p, r in pairs if p is not None}


def test_probabilistic_identity_finds_each_person_once_and_joins_no_two(
    tmp_path: Path, person_of: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN people whose tools hold a work email here, a nickname or an old address there
    # WHEN resolved with the link graph (batches of 37, malformed records among them)
    found = grouping_accuracy(_resolve(tmp_path, "--identity", "probabilistic"), person_of)
    # THEN no profile holds two people, and pairwise F1 is at least 0.99
    assert found.over_merged == 0
    assert found.f1 >= 0.99, found


def test_exact_identifiers_split_the_people_the_variations_hide(
    tmp_path: Path, person_of: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the same records WHEN resolved by exact identifiers
    found = grouping_accuracy(_resolve(tmp_path), person_of)
    # THEN nobody is over-merged, but the variations split people (what the link graph is for)
    assert found.over_merged == 0
    assert found.split > PEOPLE // 10
    assert found.recall < 0.9
