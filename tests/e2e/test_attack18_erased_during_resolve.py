"""attack18: ``profilesync privacy erase`` run in another terminal while ``profilesync resolve`` reads a
file holding her records, both on the embedded default store of one folder.

attack11 made ``resolve`` honour the erasures kept in the embedded store of ``--state-dir``: a person
erased *before* the run is dropped and counted (tests/e2e/test_attack11_erased_then_resolved.py).
``resolve`` on the embedded default resolves into a store of its own, new every run
(profilesync/resolve_cli.py), and writes that store out as ``--out`` once every line is read. Her
erasure answered ``"ok": true`` while the run was reading; the output file the run wrote *after* that
answer is asked here for her. Nothing an erasure does can reach the run's own store, so only the run
can: the output is written after her erasure and must not hold her (docs/privacy.md: "an erased
person stays erased"; the suppression entries are kept "so that no tool's next pull, and no push,
brings the person back").

The erasure is a ``profilesync`` command in another process (one per module runs them:
tests/cli_process.py), run when the run has ingested the batch holding her records (the run's own
batching: ``--batch-size 10``, each person's lines kept together), or its first batch when her lines
are the file's last.

A second gap: a run that starts where no embedded store exists yet (nobody erased or synced in that
folder) reads no erasures at all (``_erasures`` answers None), so an erasure landing during the run
makes the store and her suppression entries, and her lines read *after* it are resolved all the same.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from profilesync.cli import main
from tests.e2e.erased_during_resolve import (
    HER,
    erase_after_batches,
    eraser,  # noqa: F401 (the other process of the erasures, one for this module too)
    erasing_in,
    given_a_state_store,
    holds,
)

pytestmark = pytest.mark.slow

TRACES = ("philippa", "quennell")


def _lines(at: int = 5) -> list[dict[str, object]]:
    others = [
        {
            "source": "crm",
            "id": f"p{n}",
            "updated_at": "2026-01-05T10:00:00Z",
            "email": f"person{n}@example.com",
        }
        for n in range(40)
    ]
    hers = [
        {
            "source": "crm",
            "id": "phil",
            "updated_at": "2026-01-05T10:00:00Z",
            "email": HER,
            "first_name": "Philippa",
            "last_name": "Quennell",
        },
        {"source": "shop", "id": "9", "updated_at": "2026-01-06T10:00:00Z", "email": HER.upper()},
    ]
    return others[:at] + hers + others[at:]


def test_her_erasure_while_a_resolve_reads_her_lines_leaves_her_out_of_the_file_it_writes_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a folder whose embedded store exists (someone else was erased there before)
    given_a_state_store(tmp_path, monkeypatch, capsys)
    source = tmp_path / "people.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in _lines()), encoding="utf-8")
    # AND her erasure in another process, started once the run has ingested the batch holding her
    answers = erase_after_batches(monkeypatch, erasing_in(tmp_path), ["--email", HER], when=holds(HER))
    # WHEN the file is resolved on the embedded default, ten lines a batch
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    # THEN her erasure ran during the run and answered that she is erased ...
    assert [a["ok"] for a in answers] == [True], answers
    # ... the 40 others are profiles, and neither file the run wrote after that answer holds her
    written = Path("out.jsonl").read_text(encoding="utf-8")
    assert sum(1 for line in written.splitlines() if "person" in line) == 40
    quarantine = Path("out.quarantine.jsonl")
    text = (written + (quarantine.read_text(encoding="utf-8") if quarantine.exists() else "")).lower()
    assert [t for t in TRACES if t in text] == []


def _none_of_hers_in_the_batch_before_it(batch: Sequence[Any]) -> bool:
    """Erase after the first batch, which must hold none of her lines (they are the file's last)."""
    assert not holds(HER)(batch), "her lines were read before her erasure"
    return True


@pytest.mark.parametrize("store_before", [True, pytest.param(False, id="no-store-yet")], ids=str)
def test_lines_read_after_her_erasure_are_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], store_before: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROFILESYNC_AUDIT_SALT", raising=False)
    # GIVEN a folder whose embedded store exists (someone else erased there), or where nothing was
    # synced or erased yet; and a file whose last lines are hers
    if store_before:
        assert main(["privacy", "erase", "--email", "someone.else@example.com", "--requested-by", "dpo"]) == 0
        capsys.readouterr()
    source = tmp_path / "people.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in _lines(at=40)), encoding="utf-8")
    # AND her erasure in another process, made once the run has ingested its first batch (none of hers)
    answers = erase_after_batches(
        monkeypatch, erasing_in(tmp_path), ["--email", HER], when=_none_of_hers_in_the_batch_before_it
    )
    # WHEN the file is resolved on the embedded default, ten lines a batch
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN her erasure answered before her lines were read, the output holds the 40 others only, and
    # the summary counts her two records as erased
    assert [a["ok"] for a in answers] == [True], answers
    written = Path("out.jsonl").read_text(encoding="utf-8")
    assert sum(1 for line in written.splitlines() if "person" in line) == 40
    assert [t for t in TRACES if t in written.lower()] == []
    assert any(line.split()[:3] == ["erased,", "dropped", "2"] for line in printed.splitlines()), printed
