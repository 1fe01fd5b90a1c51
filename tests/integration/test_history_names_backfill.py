"""Histories written before the index of names (core.governance.history_names): ``profilesync
privacy index-histories`` writes their index items once, after the upgrade, and an erasure then
finds them. Without it the old limit holds for them (docs/privacy.md, "Scope"): a value that has
left its customer stays named in that customer's history."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from core.pipeline import IngestSettings, ingest
from core.retirement import SourceDeletion, retire_records
from core.testing.records import T0, make_record
from profilesync.cli import main
from profilesync.stores import open_stores, store_path

TABLE = "profilesync-dev-profiles"


def _written_before_the_index(state: Path) -> None:
    """Cyd's work address joins her HubSpot customer through her shop record, which is split off
    (the contact dropped the address) and retired; then every index item is deleted, as a store
    written before the index has none."""
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(state, TABLE)) as stores:
        settings = IngestSettings(sleep=lambda _: None)
        work = "cyd.work@example.com"
        ingest([make_record("hubspot", "cydx0", email=work)], stores.profiles, settings)
        ingest(
            [
                make_record("hubspot", "cydx0", email="cyd.home@example.com", day=1),
                make_record("shop", "cydx1", email=work, day=1),
            ],
            stores.profiles,
            settings,
        )
        deletion = SourceDeletion(
            source="shop", object_type="contact", source_id="cydx1", deleted_at=T0 + timedelta(days=2)
        )
        retire_records([deletion], stores.profiles, stores.erasure, settings)
        assert stores.database is not None
        with stores.database.writing() as conn:
            conn.execute("DELETE FROM items WHERE pk LIKE 'NAMED#%'")


def _rows_naming(state: Path, text: str) -> list[str]:
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(state, TABLE)) as stores:
        assert stores.database is not None
        with stores.database.reading() as conn:
            rows = conn.execute("SELECT pk, sk, data FROM items").fetchall()
    return [f"{pk} {sk}" for pk, sk, data in rows if text in f"{pk} {sk} {data}"]


def _erase(state: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    argv = ["privacy", "erase", "--email", "cyd.work@example.com", "--requested-by", "dpo"]
    assert main([*argv, "--state-dir", str(state)]) == 0
    answer: dict[str, object] = json.loads(capsys.readouterr().out)
    return answer


@pytest.fixture(autouse=True)
def _salt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "secrets.json"
    empty.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("PROFILESYNC_SECRETS_FILE", str(empty))
    monkeypatch.delenv("PROFILESYNC_AUDIT_SALT", raising=False)


def test_histories_indexed_after_the_upgrade_lose_the_erased_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    _written_before_the_index(state)
    # WHEN the histories are indexed once
    assert main(["privacy", "index-histories", "--state-dir", str(state)]) == 0
    indexed = json.loads(capsys.readouterr().out)
    assert indexed == {"ok": True, "customers": 1, "events": indexed["events"]}
    assert indexed["events"] >= 3  # the contact's arrival and change, the shop record's, the split
    # THEN erasing Cyd by her work address takes it (and the retired shop record) out of them
    _erase(state, capsys)
    assert _rows_naming(state, "cyd.work") == []
    assert _rows_naming(state, "cydx1") == []
    # AND indexing again changes nothing
    assert main(["privacy", "index-histories", "--state-dir", str(state)]) == 0
    assert json.loads(capsys.readouterr().out)["customers"] == 1


def test_without_the_index_the_old_limit_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    _written_before_the_index(state)
    _erase(state, capsys)
    assert [r for r in _rows_naming(state, "cyd.work") if "HISTORY#" in r]
