"""``profilesync repair`` on the embedded store an older version left a customer frozen in: the
dry run lists it and changes nothing, the repair takes the merge back, a second run finds nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.merge_undo import find_frozen
from profilesync.cli import main
from profilesync.stores import open_stores, store_path
from tests.integration.identity_attack_records import groups, ingest_settings, resolve_lines
from tests.integration.store_port.test_frozen_merge_repair import old_accept
from tests.integration.test_attack8_review_sizes import _lines

TABLE = "profilesync-dev-profiles"


def _frozen(state_dir: Path) -> list[str]:
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(state_dir, TABLE)) as stores:
        return [f.absorbed for f in find_frozen(stores.profiles, ingest_settings())]


def test_repair_lists_then_repairs_a_customer_an_old_accept_froze(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no configuration document
    settings = ingest_settings()
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(tmp_path, TABLE)) as stores:
        resolve_lines(_lines(32), stores.profiles, settings=settings)
        before = groups(stores.profiles)
        absorbed, survivor = old_accept(stores.profiles, settings)
    capsys.readouterr()
    # WHEN the operator runs a dry run THEN it names the customer and what it would do, changing nothing
    assert main(["repair", "--dry-run", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{absorbed} frozen into {survivor} (8 records): would take the merge back" in out
    assert _frozen(tmp_path) == [absorbed]
    # WHEN it runs THEN the customer is thawed, and a second run finds nothing
    assert main(["repair", "--json", "--state-dir", str(tmp_path)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["frozen"] == [{"absorbed": absorbed, "survivor": survivor, "records": 8, "action": "undo"}]
    assert answer["problems"] == []
    assert _frozen(tmp_path) == []
    assert main(["repair", "--state-dir", str(tmp_path)]) == 0
    assert "no customer is frozen" in capsys.readouterr().out
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(tmp_path, TABLE)) as stores:
        assert groups(stores.profiles) == before
