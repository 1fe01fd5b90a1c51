"""fix21p: ``identity link`` and ``identity train`` leave out the lines of people erased from
``--state-dir``'s store, as ``resolve`` does, and count them (attack20's finding:
tests/e2e/test_attack20_identity_link_after_erasure.py).

Her lines are left out by her suppressed address, and so is a line of hers holding none of her
identifiers that the model links to one of them (her shop account under a private address:
core.suppression_run); a namesake born another day, and everyone else, are linked as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilesync.cli import main

pytestmark = pytest.mark.slow

HER = "philippa.quennell@example.com"
PRIVATE = "pq.private@example.org"
HERS = {
    "first_name": "Philippa",
    "last_name": "Quennell",
    "date_of_birth": "1980-01-02",
    "address": "8 Mill Lane",
    "postcode": "LS1 4AP",
    "city": "Leeds",
}


def _line(source: str, rid: str, **fields: str) -> str:
    return json.dumps({"source": source, "id": rid, "updated_at": "2026-01-01T00:00:00Z", **fields}) + "\n"


def _people(path: Path, others: int = 0) -> Path:
    """Her CRM line, her shop line under a private address (8 Mill Ln), a namesake born another
    day, Bob, and ``others`` more people with a CRM and a shop line each."""
    lines = [
        _line("crm", "1", email=HER, **HERS),
        _line("shop", "2", email=PRIVATE, **{**HERS, "address": "8 Mill Ln"}),
        _line("crm", "4", **{**HERS, "email": "p.quennell@example.net", "date_of_birth": "1991-07-30"}),
        _line("crm", "3", email="bob@example.com", first_name="Bob", last_name="Marsh"),
    ]
    for i in range(others):
        person = {"first_name": f"Ann{i}", "last_name": "Smith", "date_of_birth": f"19{50 + i}-03-04"}
        lines.append(_line("crm", f"c{i}", email=f"ann{i}@example.com", **person))
        lines.append(_line("shop", f"s{i}", email=f"ann{i}@example.com", **person))
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _erase(email: str, *state: str) -> None:
    assert main(["privacy", "erase", "--email", email, "--requested-by", "dpo", *state]) == 0


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROFILESYNC_AUDIT_SALT", raising=False)
    return tmp_path


def _customers(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_link_leaves_out_her_lines_and_the_line_linked_to_them_only_and_counts_them(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN her erasure in the folder's store, and a file of her two lines, a namesake's and Bob's
    source = _people(here / "people.jsonl")
    _erase(HER)
    capsys.readouterr()
    # WHEN the file is linked in that folder
    assert main(["identity", "link", str(source), "--out", "links.jsonl"]) == 0
    # THEN her CRM line and her shop line are left out and counted; the namesake and Bob are there
    printed = capsys.readouterr().out
    assert "erased, dropped          2" in printed, printed
    written = Path("links.jsonl").read_text(encoding="utf-8")
    records = sorted(r for c in _customers(Path("links.jsonl")) for r in c["records"])  # type: ignore[attr-defined]
    assert records == ["crm:contact:3", "crm:contact:4"]
    assert HER not in written
    assert PRIVATE not in written


def test_link_before_her_erasure_and_with_another_state_dir_links_her(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The control: the same file linked before her erasure joins her two lines; erased in another
    folder's store (``--state-dir elsewhere``), the default folder holds no erasure and she is linked."""
    source = _people(here / "people.jsonl")
    assert main(["identity", "link", str(source), "--out", "before.jsonl"]) == 0
    assert ["crm:contact:1", "shop:contact:2"] in [c["records"] for c in _customers(Path("before.jsonl"))]
    _erase(HER, "--state-dir", "elsewhere")
    capsys.readouterr()
    assert main(["identity", "link", str(source), "--out", "here.jsonl"]) == 0
    assert "erased" not in capsys.readouterr().out
    assert "crm:contact:1" in Path("here.jsonl").read_text(encoding="utf-8")
    assert main(["identity", "link", str(source), "--out", "there.jsonl", "--state-dir", "elsewhere"]) == 0
    assert "crm:contact:1" not in Path("there.jsonl").read_text(encoding="utf-8")


def test_train_leaves_out_her_lines_and_counts_them(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN her erasure, and a sample holding her two lines among 20 people
    source = _people(here / "sample.jsonl", others=20)
    _erase(HER)
    capsys.readouterr()
    # WHEN a model is trained on it
    assert main(["identity", "train", str(source), "--out", "model.json", "--tf-min-people", "2"]) == 0
    # THEN her two lines are not used, and the summary says why
    printed = capsys.readouterr().out
    assert "records read            44" in printed, printed
    assert "  used                  42" in printed, printed
    assert "  erased, dropped        2" in printed, printed
    # her surname is held by her and her namesake only: two people, kept at k=2 had she been used
    tables = json.loads(Path("model.json").read_text(encoding="utf-8"))["term_frequencies"]
    assert "quennell" not in tables.get("last_name", {})


def test_train_rejects_a_minimum_of_one_person(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _people(here / "sample.jsonl", others=3)
    assert main(["identity", "train", str(source), "--out", "model.json", "--tf-min-people", "1"]) != 0
    assert "--tf-min-people 1" in capsys.readouterr().err
    assert not Path("model.json").exists()
