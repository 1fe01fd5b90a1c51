"""``profilesync status``, ``config check`` and ``connectors list --json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.hubspot import HubSpotSandbox
from connectors.shopify import make_sandbox as shopify_sandbox
from core.config import parse_config
from core.ports import SyncState
from profilesync import status
from profilesync.cli import main
from profilesync.local import LocalRuntime

T0 = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)


def test_status_shows_each_instance_s_last_run_lag_and_the_stack_s_queues() -> None:
    # GIVEN two instances, one never pulled yet, on the local runtime (the deployed handlers)
    config = parse_config(
        "connectors:\n"
        "  shopify-eu: {vendor: shopify, options: {shop: acme-eu}, rate_budget: [5000, 2000]}\n"
        "  hubspot: {schedule: 'off', freshness: 1h, rate_budget: [19, 190]}\n",
        "p.yaml",
    )
    sandboxes = {
        "shopify-eu": shopify_sandbox(people=20, seed=4, shop="acme-eu", rate_scale=50.0),
        "hubspot": HubSpotSandbox(people=20, seed=4, rate_limit_per_10s=190),
    }
    with LocalRuntime(sandboxes, config=config) as rt:
        rt.dispatch(T0)  # starts shopify-eu only: hubspot is not scheduled
        notes: list[str] = []
        depth = status.sqs_queue_depth(rt.sqs, "local", notes)
        later = datetime.now(UTC) + timedelta(hours=2)
        before = status.gather(
            config, rt.wiring.sync_state, now=later, leases=rt.wiring.leases, queue_depth=depth
        )
        rt.settle()
        after = status.gather(config, rt.wiring.sync_state, now=later, queue_depth=depth)
    rows = {row.instance: row for row in before.instances}
    # THEN the pulled instance has its last run, counts, cursor and a lag two hours old (stale: > 45 min)
    eu = rows["shopify-eu"]
    assert eu.last_run is not None
    assert eu.pulled == len(sandboxes["shopify-eu"].record_keys())  # a full first pull
    assert eu.cursor
    assert 7100 < (eu.lag_seconds or 0) < 7300
    assert eu.freshness_seconds == 45 * 60
    assert eu.stale is True
    assert eu.running is False
    # AND the one never pulled has nothing, and is stale against its own freshness
    assert (rows["hubspot"].last_run, rows["hubspot"].lag_seconds, rows["hubspot"].stale) == (
        None,
        None,
        True,
    )
    # AND the queues are read by their stack names: the pull's messages wait until merge drains them
    assert (before.queues["ingest backlog"] or 0) > 0
    assert after.queues["ingest backlog"] == 0
    assert after.queues["push batches parked"] == 0
    assert notes == []
    text = "\n".join(status.lines(before))
    assert "shopify-eu" in text
    assert "STALE" in text
    assert "ingest backlog" in text


def test_status_reads_the_local_store_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.storage.sqlite_database import SQLiteDatabase
    from core.storage.sqlite_sync import SQLiteSyncStateStore

    # GIVEN the local store `profilesync sync` keeps, holding one connector's state
    finished = datetime.now(UTC) - timedelta(minutes=5)
    report = {
        "pulled": 42,
        "quarantined": 1,
        "finished_at": finished.isoformat(),
        "last_success_at": finished.isoformat(),
    }
    with SQLiteDatabase(tmp_path / "profilesync-dev-profiles.sqlite3") as database:
        SQLiteSyncStateStore(database).put_sync_state(
            SyncState("hubspot", "cursor-123", 0, finished, json.dumps(report))
        )
    # WHEN status runs with no configuration document (it lists what has a state)
    assert (
        main(["status", "--state-dir", str(tmp_path), "--json", "--config", str(tmp_path / "none.yaml")]) == 2
    )
    assert "no such configuration document" in capsys.readouterr().err
    empty = tmp_path / "empty.yaml"
    empty.write_text("connectors: {}\n")
    assert main(["status", "--state-dir", str(tmp_path), "--json", "--config", str(empty)]) == 0
    shown = json.loads(capsys.readouterr().out)
    # THEN hubspot's state is shown, with its lag
    [row] = shown["instances"]
    assert (row["instance"], row["pulled"], row["cursor"]) == ("hubspot", 42, "cursor-123")
    assert 290 <= row["lag_seconds"] <= 400
    assert row["schedule"] == "not configured"


def test_config_check_validates_vendors_and_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "profilesync.yaml"
    good.write_text("connectors:\n  shopify-eu: {vendor: shopify, options: {shop: acme-eu}}\n  hubspot: {}\n")
    assert main(["config", "check", str(good), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["instances"]
    assert [(r["instance"], r["vendor"], r["secret"]) for r in rows] == [
        ("hubspot", "hubspot", "hubspot"),
        ("shopify-eu", "shopify", "shopify-eu"),
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("connectors:\n  crm: {vendor: nosuch}\n  shop: {vendor: shopify, options: {store: x}}\n")
    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "connectors.crm: no connector named 'nosuch'" in err
    assert "shopify has no option 'store'" in err


def test_connectors_list_json_names_every_builtin_with_its_credentials(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["connectors", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert {"hubspot", "mailchimp", "shopify", "klaviyo", "stripe"} <= set(rows)
    assert rows["hubspot"]["credentials"] == {"hubspot_token": "PROFILESYNC_HUBSPOT_TOKEN"}
    assert rows["mailchimp"]["options"].keys() >= {"list_id"}
    assert rows["shopify"]["origin"] == "builtin"


def test_sync_runs_an_instance_of_the_document_under_its_own_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a document in the working directory declaring a second Shopify store
    (tmp_path / "profilesync.yaml").write_text("connectors:\n  shopify-us: {vendor: shopify}\n")
    monkeypatch.chdir(tmp_path)
    # WHEN it syncs against the vendor's sandbox
    assert main(["sync", "--connector", "shopify-us", "--sandbox"]) == 0
    out = capsys.readouterr().out
    # THEN the run is the instance's (its records, cursor and pushes kept under shopify-us)
    assert "from shopify-us (full refresh)" in out
    assert "to shopify-us in" in out
