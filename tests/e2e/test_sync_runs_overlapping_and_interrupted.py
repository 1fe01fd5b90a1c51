"""``profilesync sync`` runs that overlap, are cut short, or skip their push, on one embedded store.

A sync pulls page by page (each page's cursor saved once its records are stored), then pushes the
profiles its pull touched. Attacks, each of which lost pushes or did the work twice before:
* a run that dies after its pull saved cursors and before its push ends: the next run's pull starts
  after those cursors, so without a catch-up those customers are never pushed;
* ``--no-push``, then a sync that pushes; a push that fails for some profiles;
* two runs at once: the second is refused at once with who holds the connector's lease, and a
  holder whose process died on this machine does not block the next run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from connectors.hubspot._sandbox import HubSpotSandbox
from core.connector import PushOutcome
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_lease import SQLiteLeaseStore
from core.storage.sqlite_sync import SQLiteSyncStateStore
from core.sync import push_profiles
from profilesync import syncrun
from profilesync.cli import main
from profilesync.sync_lease import run_owner

STORE = "profilesync-dev-profiles.sqlite3"


@pytest.fixture
def hubspot(monkeypatch: pytest.MonkeyPatch) -> HubSpotSandbox:
    """A HubSpot sandbox of 300 people that `profilesync sync --connector hubspot` talks to."""
    sandbox = HubSpotSandbox(people=300)
    settings = sandbox.settings()
    monkeypatch.setattr(syncrun, "settings_from_environment", lambda plugin, **_: settings)
    return sandbox


def _sync(state: Path, *extra: str) -> list[str]:
    return ["sync", "--connector", "hubspot", "--state-dir", str(state), "--quiet", *extra]


def _unpushed(state: Path) -> list[str]:
    """The live profiles holding a HubSpot record that were never pushed to HubSpot."""
    with SQLiteDatabase(state / STORE, read_only=True) as database:
        profiles = [
            p.customer_id
            for p in SQLiteProfileStore(database).iter_profiles()
            if any(ref.source == "hubspot" for ref in p.sources)
        ]
        pushed = SQLiteSyncStateStore(database).get_pushed("hubspot", profiles)
    assert profiles
    return [cid for cid in profiles if cid not in pushed]


def _pushed_count(out: str) -> int:
    found = re.search(r"pushed ([\d,]+) of", out)
    assert found, out
    return int(found.group(1).replace(",", ""))


def test_a_run_that_dies_between_its_pull_and_its_push_is_caught_up_by_the_next(
    hubspot: HubSpotSandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a first run whose process dies once its pull is stored, before anything is pushed
    real_push = push_profiles

    def die(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt  # what the run sees of a kill, as far as the store is concerned

    monkeypatch.setattr(syncrun, "push_profiles", die)
    assert main(_sync(tmp_path)) == 130
    capsys.readouterr()
    assert len(_unpushed(tmp_path)) > 100
    # WHEN the next run pulls (nothing new: the cursor is past every record) and pushes
    monkeypatch.setattr(syncrun, "push_profiles", real_push)
    assert main(_sync(tmp_path)) == 0
    out = capsys.readouterr().out
    # THEN it pushed every profile the dead run left, and says it caught up
    assert _unpushed(tmp_path) == []
    assert "catching up" in out
    # AND the run after it has nothing left to push
    assert main(_sync(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "catching up" not in out
    assert _pushed_count(out) == 0


def test_profiles_pulled_with_no_push_or_whose_push_failed_are_pushed_by_the_next_run(
    hubspot: HubSpotSandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a run with --no-push
    assert main(_sync(tmp_path, "--no-push")) == 0
    capsys.readouterr()
    before = len(_unpushed(tmp_path))
    assert before > 100
    # WHEN a run whose pushes fail for ten of the profiles follows
    real_push = push_profiles

    def failing_some(connector: Any, profiles: Any, state: Any, **kwargs: Any) -> Any:
        report = real_push(connector, list(profiles)[10:], state, **kwargs)
        report.failed.extend([PushOutcome("cus_x", False, error="HTTP 500")] * 10)
        return report

    monkeypatch.setattr(syncrun, "push_profiles", failing_some)
    assert main(_sync(tmp_path)) == 1  # a failed push fails the run
    capsys.readouterr()
    assert 0 < len(_unpushed(tmp_path)) <= 10
    # THEN the next run pushes the rest
    monkeypatch.setattr(syncrun, "push_profiles", real_push)
    assert main(_sync(tmp_path)) == 0
    assert "catching up" in capsys.readouterr().out
    assert _unpushed(tmp_path) == []


def test_a_second_run_is_refused_while_the_first_holds_the_lease_and_status_shows_it(
    hubspot: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_sync(tmp_path)) == 0
    capsys.readouterr()
    # GIVEN a run on another machine holding HubSpot's lease on this store (a shared folder)
    with SQLiteDatabase(tmp_path / STORE) as database:
        leases = SQLiteLeaseStore(database)
        assert leases.acquire("hubspot", "cli:elsewhere:4242:abcd1234", 300) is not None
    # WHEN another run starts THEN it is refused at once, naming the holder and what to do
    assert main(_sync(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "another sync of 'hubspot' is running" in err
    assert "cli:elsewhere:4242:abcd1234" in err
    # AND status shows the pull running
    empty = tmp_path / "empty.yaml"
    empty.write_text("connectors: {}\n", encoding="utf-8")
    assert main(["status", "--state-dir", str(tmp_path), "--config", str(empty)]) == 0
    assert "(pulling now)" in capsys.readouterr().out
    # AND the lease is left to its holder
    with SQLiteDatabase(tmp_path / STORE) as database:
        held = SQLiteLeaseStore(database).current("hubspot")
    assert held is not None
    assert held.owner == "cli:elsewhere:4242:abcd1234"


def test_the_lease_of_a_run_killed_on_this_machine_does_not_block_the_next_run(
    hubspot: HubSpotSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_sync(tmp_path)) == 0
    capsys.readouterr()
    # GIVEN the lease of a run on this machine whose process is gone (killed: it never released it)
    dead = run_owner().split(":")
    dead[2] = str(2**22 + 12345)  # above Linux's pid_max default: no such process
    owner = ":".join(dead)
    with SQLiteDatabase(tmp_path / STORE) as database:
        assert SQLiteLeaseStore(database).acquire("hubspot", owner, 300) is not None
    # WHEN the next run starts THEN it takes the lease over, runs, and releases it at the end
    assert main(_sync(tmp_path)) == 0
    with SQLiteDatabase(tmp_path / STORE) as database:
        assert SQLiteLeaseStore(database).current("hubspot") is None
