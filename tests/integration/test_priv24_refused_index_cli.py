"""priv24: ``profilesync privacy index-refused`` indexes the refused values of a store written before
the index (core.privacy_refused_index.backfill) and marks it complete; the erasure then finds her
record under the household's customer by the index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.pipeline import ingest
from core.storage.refused_index import refused_index
from profilesync.cli import main
from profilesync.stores import open_stores, store_path
from tests.integration.identity_attack_records import ingest_settings
from tests.integration.store_port.test_household_refused_orders_on_every_store import HER, OLU
from tests.integration.store_port.test_refused_candidates_on_every_store import _hers

TABLE = "profilesync-dev-profiles"


def test_the_backfill_command_marks_the_index_complete_and_the_erasure_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "priv24-salt")
    path = store_path(tmp_path, TABLE)
    # GIVEN a store written before the index: her record under the household's customer, no entry
    with open_stores(endpoint_url=None, table=TABLE, path=path) as opened:
        ingest([OLU, _hers()], opened.profiles, ingest_settings())
        index = refused_index(opened.profiles)
        assert index is not None
        assert not index.complete()
    where = ("--state-dir", str(tmp_path))
    # WHEN the backfill command runs
    assert main(["privacy", "index-refused", *where]) == 0
    answer = json.loads(capsys.readouterr().out)
    # THEN her record's refused address is indexed and the index is complete
    assert answer == {"ok": True, "entries": 1, "complete": True, "spelling_markers": 0}
    # AND her erasure finds her record by it, with no pass over the store's records
    with open_stores(endpoint_url=None, table=TABLE, path=path) as opened:
        profiles = type(opened.profiles)

    def no_pass(self: object) -> list[str]:
        raise AssertionError("the erasure passed over every record: the index was not read")

    monkeypatch.setattr(profiles, "customers_with_refused_values", no_pass)
    assert main(["privacy", "erase", "--email", HER, *where]) == 0
    # (no customer holds her address: her record under the household's goes, the answer not_found)
    assert json.loads(capsys.readouterr().out)["deleted"]["refused_retired"] == 1
    with open_stores(endpoint_url=None, table=TABLE, path=path) as opened:
        held = {ref.id for p in opened.profiles.iter_profiles() for ref in p.sources}
    assert held == {OLU.source_id}
