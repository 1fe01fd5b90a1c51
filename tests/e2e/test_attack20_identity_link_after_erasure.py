"""attack20: ``profilesync identity link`` (and ``identity train``) over a file holding a person erased
in the folder's embedded store.

``resolve`` honours the erasures kept in ``--state-dir``: a person erased before the run is dropped
and counted, not resolved back (attack11, tests/e2e/test_attack11_erased_then_resolved.py; the
``--state-dir`` help: "people erased from it ... are not resolved back"). ``identity link`` reads the
same flat JSON lines, joins them into customers and writes each one with its edges, whose reasons
quote the shared value ("shared email ..."); it has no ``--state-dir`` and reads no erasure, so her
customer, her records' keys and her address come out of it as if she had never been erased. The same
file given to ``identity train`` trains on her (tests/e2e/test_attack20_trained_model.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilesync.cli import main

pytestmark = pytest.mark.slow

HER = "philippa.quennell@example.com"


def _lines(path: Path) -> Path:
    her = {"first_name": "Philippa", "last_name": "Quennell", "date_of_birth": "1980-01-02"}
    lines = [
        {"source": "crm", "id": "1", "updated_at": "2026-01-01T00:00:00Z", "email": HER, **her},
        {"source": "shop", "id": "2", "updated_at": "2026-01-01T00:00:00Z", "email": HER, **her},
        {"source": "crm", "id": "3", "updated_at": "2026-01-01T00:00:00Z", "email": "bob@example.com"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def erased_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A folder whose embedded store (``.profilesync/``) holds her erasure, and a file of her lines."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROFILESYNC_AUDIT_SALT", raising=False)
    assert main(["privacy", "erase", "--email", HER, "--requested-by", "dpo"]) == 0
    capsys.readouterr()
    return _lines(tmp_path / "people.jsonl")


def test_resolve_in_that_folder_leaves_her_out(erased_here: Path) -> None:
    """The control: ``resolve`` reads her erasure from the folder's store and drops her lines."""
    assert main(["resolve", str(erased_here), "--out", "out.jsonl", "--quiet"]) == 0
    written = Path("out.jsonl").read_text(encoding="utf-8").lower()
    assert "bob@example.com" in written
    assert "quennell" not in written


def test_identity_link_in_that_folder_leaves_her_out(erased_here: Path) -> None:
    assert main(["identity", "link", str(erased_here), "--out", "links.jsonl"]) == 0
    written = Path("links.jsonl").read_text(encoding="utf-8").lower()
    assert "crm:contact:3" in written  # Bob is linked
    assert HER not in written
    assert "crm:contact:1" not in written
