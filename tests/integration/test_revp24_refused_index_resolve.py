"""revP24: ``profilesync resolve`` beside an embedded store (someone erased there, or ``sync`` run in
the state dir) reads that store's suppression entries read-only (profilesync.resolve_cli._erasures).

priv24 made ``SuppressionCheck.split`` write the index of refused values into the store its check
reads (core.privacy_refused_index): for ``resolve`` that is the read-only embedded store, not the
run's own file, so any record with a refused email or phone stopped the run ("attempt to write a
readonly database", exit 1). Red before the fix: the check of that store writes no entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilesync.cli import main
from profilesync.stores import open_stores, store_path

TABLE = "profilesync-dev-profiles"


def _items(state_dir: Path) -> list[tuple[str, str]]:
    """The keys of every item of the embedded store in ``state_dir``."""
    with (
        open_stores(endpoint_url=None, table=TABLE, path=store_path(state_dir, TABLE)) as opened,
        opened.database.reading() as conn,
    ):
        return [tuple(row) for row in conn.execute("SELECT pk, sk FROM items ORDER BY pk, sk")]


def test_resolve_beside_an_embedded_store_keeps_a_record_with_a_refused_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "revP24-salt")
    # GIVEN an embedded store in the state dir (as after `profilesync privacy erase` or `sync`)
    before = _items(tmp_path)
    # AND a record whose email normalisation refuses (a name and an address in one field)
    record = {
        "source": "crm",
        "id": "2",
        "updated_at": "2026-01-02T00:00:00Z",
        "phone": "+44 20 7946 0555",
        "email": "Zephyrine Q <zq@example.org>",
    }
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(record) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    # WHEN it is resolved
    code = main(["resolve", str(source), "--out", str(out), "--state-dir", str(tmp_path), "--quiet"])
    # THEN the run succeeds with the record in a profile, and the embedded store is not written
    assert code == 0, capsys.readouterr().err
    (profile,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [s["id"] for s in profile["sources"]] == ["2"]
    assert _items(tmp_path) == before
