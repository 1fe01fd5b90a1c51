"""``profilesync connectors list``, ``sandbox`` and ``sync`` end to end.

The served-sandbox test runs the two commands a user would: ``profilesync sandbox hubspot`` in one
process, and ``profilesync sync --connector hubspot --base-url ...`` twice in another, with the token
in the environment and the embedded store kept in a state directory between runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from profilesync import registry
from profilesync.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "profilesync.cli"]


def test_connectors_list_names_every_builtin_and_verbose_names_the_env_vars(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROFILESYNC_HUBSPOT_TOKEN", "pat-secret-value")
    assert main(["connectors", "list"]) == 0
    short = capsys.readouterr().out
    # every builtin, in name order; plugins installed next to them may be listed too
    names = [line.split()[0] for line in short.splitlines()]
    assert names == sorted(names)
    assert {"hubspot", "klaviyo", "mailchimp", "salesforce", "shopify", "stripe", "woocommerce"} <= set(names)
    assert set(registry.BUILTIN) <= set(names)
    assert main(["connectors", "list", "--verbose"]) == 0
    verbose = capsys.readouterr().out
    assert "PROFILESYNC_HUBSPOT_TOKEN (set)" in verbose
    assert "PROFILESYNC_MAILCHIMP_API_KEY (not set)" in verbose
    assert "PROFILESYNC_SHOPIFY_ACCESS_TOKEN" in verbose
    assert "PROFILESYNC_MAILCHIMP_LIST_ID" in verbose
    assert "PROFILESYNC_WOOCOMMERCE_API_KEY (not set)" in verbose
    assert "PROFILESYNC_WOOCOMMERCE_STORE_URL" in verbose
    assert "PROFILESYNC_SALESFORCE_CLIENT_ID (not set)" in verbose
    assert "PROFILESYNC_SALESFORCE_CLIENT_SECRET (not set)" in verbose
    assert "pat-secret-value" not in verbose


@pytest.mark.parametrize("name", ["hubspot", "mailchimp", "shopify", "salesforce"])
def test_sync_against_the_in_process_sandbox_pulls_merges_and_pushes(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN one connector syncs against its seeded sandbox
    assert main(["sync", "--connector", name, "--sandbox"]) == 0
    out = capsys.readouterr().out
    # THEN the summary adds up: pulled = normalised + quarantined, and every profile was pushed
    pulled = re.search(r"pulled ([\d,]+) records", out)
    split = re.search(r"([\d,]+) normalised, ([\d,]+) quarantined", out)
    pushed = re.search(r"pushed ([\d,]+) of ([\d,]+) profiles .* ([\d,]+) failed\)", out)
    assert pulled, out
    assert split, out
    assert pushed, out
    number = [int(x.replace(",", "")) for x in (*split.groups(), pulled.group(1))]
    assert number[0] + number[1] == number[2] > 0
    assert int(pushed.group(1).replace(",", "")) > 0
    assert pushed.group(3) == "0"


def test_sync_push_mode_from_the_flag_or_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # WHEN HubSpot (upsert by default) syncs in update mode, from the flag and from its variable
    assert main(["sync", "--connector", "hubspot", "--sandbox", "--push-mode", "update"]) == 0
    flag = capsys.readouterr().out
    monkeypatch.setenv("PROFILESYNC_MAILCHIMP_API_KEY", "0123456789abcdef-us21")
    monkeypatch.setenv("PROFILESYNC_MAILCHIMP_PUSH_MODE", "sideways")
    # THEN the summary names the mode and its counts, and a mode that does not exist is refused
    assert re.search(r"update mode: [\d,]+ updated, 0 created", flag), flag
    assert main(["sync", "--connector", "mailchimp", "--state-dir", "/nonexistent"]) == 2
    assert "push mode 'sideways' is not one of update, upsert" in capsys.readouterr().err
    # AND connectors list says each tool's default and what creating asks for
    assert main(["connectors", "list", "--verbose"]) == 0
    verbose = capsys.readouterr().out
    assert "push mode:    upsert by default" in verbose
    assert "upsert creates people only with email consent" in verbose


def test_sync_without_credentials_says_which_variable_to_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PROFILESYNC_HUBSPOT_TOKEN", raising=False)
    secrets = tmp_path / "secrets.json"
    secrets.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("PROFILESYNC_SECRETS_FILE", str(secrets))
    assert main(["sync", "--connector", "hubspot", "--state-dir", str(tmp_path)]) == 2
    assert "PROFILESYNC_HUBSPOT_TOKEN" in capsys.readouterr().err


def test_sync_of_an_unknown_connector_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--connector", "zendesk", "--sandbox"]) == 2
    err = capsys.readouterr().err
    assert "no connector named 'zendesk'" in err
    assert "salesforce" in err
    assert "hubspot" in err


@pytest.fixture
def served_hubspot() -> Iterator[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [*CLI, "sandbox", "hubspot", "--port", "0", "--token", "pat-e2e-token", "--people", "80"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"on (http://127\.0\.0\.1:\d+)", first)
        assert match, first
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_a_served_sandbox_synced_twice_resumes_from_the_saved_cursor(
    served_hubspot: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "PROFILESYNC_HUBSPOT_TOKEN": "pat-e2e-token",
    }
    command = [
        *CLI,
        "sync",
        "--connector",
        "hubspot",
        "--base-url",
        served_hubspot,
        "--state-dir",
        str(tmp_path),
    ]
    # WHEN synced once, then again
    first = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False
    )
    second = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False
    )
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    # THEN the first is a full refresh that pushes everyone, the second an incremental pull of the
    # push's echo that creates nobody and pushes nothing
    assert "(full refresh)" in first.stdout
    assert re.search(r"pushed [1-9][\d,]* of", first.stdout), first.stdout
    assert "(incremental)" in second.stdout
    assert " 0 new customers" in second.stdout
    assert re.search(r"pushed 0 of [\d,]+ profiles to hubspot in 0 calls", second.stdout), second.stdout
    # AND the embedded store (SQLite, owner-only) was kept between the runs
    store = tmp_path / "profilesync-dev-profiles.sqlite3"
    assert store.stat().st_size > 0
    assert store.stat().st_mode & 0o077 == 0
    # AND without a terminal a short run logs no progress, only the summary
    assert "pull hubspot" not in first.stderr


def test_an_older_embedded_state_is_named_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the moto table an older profilesync kept in the state folder, and HubSpot served
    old = tmp_path / "profilesync-dev-profiles.jsonl"
    old.write_text('{"PK": {"S": "SYNC#hubspot"}, "SK": {"S": "STATE"}}\n', encoding="utf-8")
    from connectors.hubspot._sandbox import HubSpotSandbox

    sandbox = HubSpotSandbox(people=20)
    settings = sandbox.settings()
    monkeypatch.setattr(
        "profilesync.syncrun.settings_from_environment", lambda plugin, **_: settings, raising=True
    )
    # WHEN sync runs on that folder
    assert main(["sync", "--connector", "hubspot", "--state-dir", str(tmp_path), "--no-push"]) == 0
    captured = capsys.readouterr()
    # THEN one line says the old file is not read and the run is a full refresh into the new store
    notice = [line for line in captured.err.splitlines() if str(old) in line]
    assert len(notice) == 1
    assert "full refresh" in notice[0]
    assert "(full refresh)" in captured.out
    assert old.exists()
    assert (tmp_path / "profilesync-dev-profiles.sqlite3").exists()
    # AND the next run, which finds its own store, says nothing about it
    assert main(["sync", "--connector", "hubspot", "--state-dir", str(tmp_path), "--no-push"]) == 0
    assert str(old) not in capsys.readouterr().err


def test_connectors_list_verbose_says_how_each_tool_reports_deletions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # WHEN the connectors are listed in full
    assert main(["connectors", "list", "--verbose"]) == 0
    verbose = capsys.readouterr().out
    # THEN those whose pulls see deletions say so among their capabilities, and every builtin says
    # how its vendor reports deletions, or why a pull cannot see them
    capabilities = {
        line.split()[0]: set(line.split("(")[0].split(None, 2)[2].replace(",", " ").split())
        for line in verbose.splitlines()
        if line and not line.startswith(" ")
    }
    for name in ("salesforce", "stripe", "hubspot", "mailchimp"):
        assert "deletions" in capabilities[name]
    for name in ("shopify", "woocommerce", "klaviyo"):
        assert capabilities[name] == {"erase", "pull", "push"}
    described = [line for line in verbose.splitlines() if line.strip().startswith("deletions:")]
    assert len(described) >= 7
    assert any("queryAll" in line for line in described)
    assert any("webhooks alone" in line for line in described)


@pytest.mark.parametrize("configured", [False, True], ids=["plain", "configured-instance"])
def test_sync_sandbox_runs_each_tool_at_the_plan_the_demo_runs_it_at(
    configured: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # (at Shopify's Standard plan, `sync --connector shopify --sandbox` waited 12 s of pacing for
    # 200 people; the demo's higher published plans are what a try-out runs at)
    from connectors.shopify._sandbox import ShopifySandbox
    from profilesync.demo_sandboxes import run_sandbox
    from profilesync.registry import get

    served: list[ShopifySandbox] = []
    settings = ShopifySandbox.settings

    def spy(self: ShopifySandbox, transport: bool = True) -> object:
        served.append(self)
        return settings(self, transport)

    monkeypatch.setattr(ShopifySandbox, "settings", spy)
    name = "shopify"
    if configured:  # the path through a configuration document's instance (ops_cli)
        (tmp_path / "profilesync.yaml").write_text("connectors:\n  shopify-us: {vendor: shopify}\n")
        monkeypatch.chdir(tmp_path)
        name = "shopify-us"
    # WHEN `sync --sandbox` runs
    assert main(["sync", "--connector", name, "--sandbox"]) == 0
    capsys.readouterr()
    # THEN the sandbox it ran against restores 5,000 points a second, as the demo's
    assert [sandbox.bucket.rate for sandbox in served] == [100 * 50]
    # AND HubSpot allows 190 requests per 10 s, as the demo's; a tool the demo does not raise runs
    # at its published limit
    hubspot, stripe = (run_sandbox(get(vendor)) for vendor in ("hubspot", "stripe"))
    assert hubspot.rate_limit_per_10s == 190
    assert stripe.requests_per_second == 25
