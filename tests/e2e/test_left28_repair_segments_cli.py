"""left28: ``profilesync repair --segments`` re-segments the embedded store's profiles under the
``segments`` of the document ``--config`` names (a raised euro threshold), dry run first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.pipeline import IngestSettings, ingest
from profilesync.cli import main
from profilesync.stores import open_stores, store_path
from tests.integration.store_port.test_left28_resegment_on_every_store import _buyer

TABLE = "profilesync-dev-profiles"


def _segments(state_dir: Path) -> dict[str, str]:
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(state_dir, TABLE)) as stores:
        return {p.sources[0].id: p.computed.segment for p in stores.profiles.iter_profiles()}


def test_repair_segments_rebuilds_the_profiles_a_raised_threshold_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN Ann (1,200 EUR: vip) and Bob (300 EUR: repeat) stored under the default thresholds
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROFILESYNC_CONFIG", raising=False)
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(tmp_path, TABLE)) as stores:
        records = _buyer("ann", "700.00", "500.00") + _buyer("bob", "100.00", "200.00")
        ingest(records, stores.profiles, IngestSettings(sleep=lambda _: None))
    # AND a document raising the euro threshold to 2,000
    config = tmp_path / "raised.yaml"
    config.write_text("segments:\n  vip_lifetime_value:\n    EUR: 2000\n", encoding="utf-8")
    capsys.readouterr()
    # WHEN the operator runs a dry run THEN it names Ann and changes nothing
    base = ["repair", "--segments", "--config", str(config), "--state-dir", str(tmp_path)]
    assert main([*base, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert ": would re-segment vip -> repeat" in out
    assert "would re-segment 1 of 2 profiles" in out
    assert _segments(tmp_path) == {"ann": "vip", "bob": "repeat"}
    # WHEN it runs THEN Ann is repeat in the store, and a second run finds nothing
    assert main([*base, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [(c["from"], c["to"]) for c in answer["segments"]["changed"]] == [("vip", "repeat")]
    assert _segments(tmp_path) == {"ann": "repeat", "bob": "repeat"}
    assert main(base) == 0
    assert "re-segmented 0 of 2 profiles" in capsys.readouterr().out
