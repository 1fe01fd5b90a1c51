"""attack3: ``profilesync resolve --endpoint-url`` killed (SIGKILL) part way, then run again, ends
as a clean run of the same file ends: the same people with the same content, each source record in
exactly one profile, nothing doubled; and what the kill left is never half a customer (every
identifier item names a customer whose profile holds it)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from core.testing.population import population
from profilesync.cli import main
from profilesync.embedded import dynamodb_client
from tests.e2e.test_endpoint_url import endpoint  # noqa: F401 (a fixture)
from tests.e2e.test_privacy_cli_attacks import scan

pytestmark = pytest.mark.slow


#: The audit salt of every run on the endpoint (a run's keyed hashes must match the next run's).
SALT = "attack3-kill"


def _argv(url: str, source: Path, out: Path, table: str, batch: int) -> list[str]:
    """``profilesync resolve``'s arguments for ``source`` into ``table`` on the endpoint."""
    argv = ["resolve", str(source), "--out", str(out), "--endpoint-url", url, "--table", table]
    argv += ["--batch-size", str(batch), "--quiet", "--state-dir", str(out.parent / "state")]
    return argv


def _resolve(url: str, source: Path, out: Path, table: str, batch: int) -> subprocess.Popen[bytes]:
    """``profilesync resolve`` in a process of its own (a run to kill, or to run beside another)."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PROFILESYNC_AUDIT_SALT": SALT,
    }
    argv = [str(Path(sys.executable).with_name("profilesync")), *_argv(url, source, out, table, batch)]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def clean_run(source: Path, out: Path, batch: int) -> Path:
    """A clean run of ``source`` in this process, into the embedded store (the reference a run on
    the endpoint is compared with: the three stores keep one semantics, and content without ids is
    the same; a clean run over moto's server took most of a test's time, for nothing it checks)."""
    argv = ["resolve", str(source), "--out", str(out), "--batch-size", str(batch), "--quiet"]
    assert main([*argv, "--state-dir", str(out.parent / f"{out.stem}.state")]) == 0
    return out


def _content(out: Path) -> tuple[Counter[str], set[str]]:
    """Source keys by how many profiles hold them, and each profile's content without its ids."""
    held: Counter[str] = Counter()
    contents: set[str] = set()
    for line in out.read_text(encoding="utf-8").splitlines():
        profile: dict[str, Any] = json.loads(line)
        sources = sorted(f"{s['source']}:{s['object_type']}:{s['id']}" for s in profile["sources"])
        held.update(sources)
        content = {k: v for k, v in profile.items() if k not in ("customer_id", "version")}
        contents.add(json.dumps(content, sort_keys=True))
    return held, contents


@cache
def _client(url: str) -> Any:
    """One client an endpoint: the poll below runs every 50 ms. (A cache made here, not one around
    the product's function: that would carry profilesync.embedded's name into the process, where
    tests/unit/test_privacy_caches.py takes every cache named so for the product's.)"""
    return dynamodb_client(url)


def _profiles(url: str, table: str) -> int:
    """The profiles in ``table`` (counted by the endpoint: polled every 50 ms while the run writes,
    a scan of every item over HTTP competed with the run it waits for)."""
    pages = (
        _client(url)
        .get_paginator("scan")
        .paginate(
            TableName=table,
            Select="COUNT",
            FilterExpression="SK = :p",
            ExpressionAttributeValues={":p": {"S": "PROFILE"}},
        )
    )
    try:
        return sum(page["Count"] for page in pages)
    except ClientError:  # the run has not made its table yet
        return 0


def _half_customers(items: list[dict[str, Any]]) -> list[str]:
    """Identifier items whose customer has no live profile holding the identifier."""
    profiles = {
        i["PK"]["S"].removeprefix("CUSTOMER#"): i
        for i in items
        if i["SK"]["S"] == "PROFILE" and i["PK"]["S"].startswith("CUSTOMER#")
    }
    half = []
    for item in items:
        if not (item["PK"]["S"].startswith("IDENT#") and item["SK"]["S"] == "IDENT"):
            continue
        owner = item["customer_id"]["S"]
        if owner == "~retired":
            continue
        profile = profiles.get(owner)
        if profile is None:
            half.append(f"{item['PK']['S']} -> {owner} (no profile)")
    return half


@pytest.mark.parametrize("seed", [3])
def test_a_killed_resolve_run_again_ends_as_a_clean_run(
    endpoint: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
) -> None:
    # GIVEN 120 people whose records overlap across small batches (merges between batches)
    source = tmp_path / "people.jsonl"
    records = [flat for _, flat in population(120, seed=seed, malformed_share=0.02)]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    # AND a clean run (in this process, into a store of its own)
    clean = clean_run(source, tmp_path / "clean.jsonl", 7)
    # WHEN a run into another table is killed once it has written part of the file
    table = f"killed-{seed}"
    killed = _resolve(endpoint, source, tmp_path / "killed.jsonl", table, 7)
    wanted = random.Random(seed).randint(30, 150)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and killed.poll() is None:
        if _profiles(endpoint, table) >= wanted:
            break
        time.sleep(0.05)
    assert killed.poll() is None, "the run ended before it could be killed"
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    # THEN what it left holds no identifier of a customer that has no profile
    assert _half_customers(scan(endpoint, table)) == []
    # AND run again over the same file (in this process: the CLI's ``main`` on the same arguments and
    # salt; a second interpreter paid the imports again, and nothing kills this run), it ends as the
    # clean run ended
    again = tmp_path / "again.jsonl"
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", SALT)
    assert main(_argv(endpoint, source, again, table, 7)) == 0
    clean_held, clean_contents = _content(clean)
    again_held, again_contents = _content(again)
    assert max(again_held.values()) == 1  # no source record in two profiles
    assert again_held == clean_held
    assert again_contents == clean_contents
