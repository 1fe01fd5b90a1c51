"""``profilesync split --event`` end to end on the embedded store ``sync`` keeps: a merge found in the
history (through ``profile show --history --json``) is undone, and both customers are back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.identity import customer_id_for
from core.pipeline import IngestSettings, ingest
from core.storage.sqlite_privacy import SQLiteErasureStore
from core.testing.records import make_record
from profilesync.cli import main
from profilesync.stores import open_stores, store_path

TABLE = "profilesync-dev-profiles"
ANN = make_record("crm", "1", email="ann@example.com", traits={"first_name": "Ann"})
BOB = make_record("shop", "2", email="bob@example.com", traits={"first_name": "Bob"})
SURVIVOR, ABSORBED = sorted((customer_id_for(ANN.key), customer_id_for(BOB.key)))
OWN = {customer_id_for(ANN.key): ANN, customer_id_for(BOB.key): BOB}


def merged_by_an_update() -> list[object]:
    """The survivor's record a day later, holding the absorbed person's email too."""
    mine, theirs = OWN[SURVIVOR], OWN[ABSORBED]
    emails = [i.value for r in (mine, theirs) for i in r.identifiers if i.kind == "email"]
    source, _, source_id = mine.key.partition(":contact:")
    return [make_record(source, source_id, email=emails, day=1, traits=dict(mine.traits))]


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """Ann and Bob synced apart, then merged by an update (as `profilesync sync` would store them)."""
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(tmp_path, TABLE)) as stores:
        quick = IngestSettings(sleep=lambda _: None, actor="run:crm:r1")
        ingest([ANN, BOB], stores.profiles, quick)
        ingest(merged_by_an_update(), stores.profiles, quick)
    return tmp_path


def history(state_dir: Path, customer_id: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert (
        main(["profile", "show", "--id", customer_id, "--history", "--json", "--state-dir", str(state_dir)])
        == 0
    )
    events: list[dict[str, object]] = json.loads(capsys.readouterr().out)["history"]["events"]
    return events


def test_split_from_the_merge_event_in_the_history(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the merge event, as the survivor's history shows it
    [merge] = [e for e in history(state_dir, SURVIVOR, capsys) if e["kind"] == "merge"]
    # WHEN the DPO splits from it
    code = main(
        ["split", "--event", str(merge["event_id"]), "--requested-by", "dpo", "--state-dir", str(state_dir)]
    )
    answer = json.loads(capsys.readouterr().out)
    # THEN the absorbed customer is back under its own id, with its record
    assert code == 0
    assert (answer["restored"], answer["survivor"], answer["moved"]) == (
        ABSORBED,
        SURVIVOR,
        [OWN[ABSORBED].key],
    )
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(state_dir, TABLE)) as stores:
        both = stores.profiles.get_customers([SURVIVOR, ABSORBED])
        assert set(both[ABSORBED].snapshots) == {OWN[ABSORBED].key}
        assert set(both[SURVIVOR].snapshots) == {OWN[SURVIVOR].key}
        [audit] = SQLiteErasureStore(stores.database).audit_records("split")
        assert (audit["requested_by"], audit["outcome"], audit["counts"]) == (
            "dpo",
            "split",
            {"missing": 0, "moved": 1},
        )
    # AND both histories say who split them
    for cid in (SURVIVOR, ABSORBED):
        [split] = [e for e in history(state_dir, cid, capsys) if e["kind"] == "split"]
        assert split["actor"] == "dpo"
    # WHEN the same split is asked again THEN nothing changes, and it says so
    assert main(["split", "--event", str(merge["event_id"]), "--state-dir", str(state_dir)]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["already_split"] is True
    assert "nothing changed" in out.err


def test_split_from_an_event_that_is_no_merge_is_a_usage_error(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [arrival, *_] = [e for e in history(state_dir, SURVIVOR, capsys) if e["kind"] != "merge"]
    assert main(["split", "--event", str(arrival["event_id"]), "--state-dir", str(state_dir)]) == 2
    assert "is not a merge event's id" in capsys.readouterr().err


def test_split_without_a_store_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["split", "--event", f"merge:{SURVIVOR}:0123", "--state-dir", str(tmp_path)]) != 0
    assert "no embedded store" in capsys.readouterr().err
