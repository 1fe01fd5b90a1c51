"""Data quality per source and run, from the pull and merge functions: kept in the SYNC# report,
published as metrics, and a jump in the quarantine share between runs raises the alarm's metric."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions import merge, pull
from tests.integration.functions.conftest import Env, FakeContext, make_env, people


def rows(start: int, n: int, bad: int) -> list[dict[str, Any]]:
    out = people(n, start)
    for row in out[:bad]:
        row["updated_at"] = "sometime last week"  # quarantined: no usable updated_at
    out[-1]["country"] = "Atlantis"  # kept, with the country dropped
    return out


def emitted(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def metric(lines: list[dict[str, Any]], name: str, dimensions: set[str]) -> list[float]:
    """Values of ``name`` in EMF blobs whose dimensions, besides ``service``, are ``dimensions``.

    (``service`` is on every metric in Lambda; whether the handler module's Metrics carries it here
    depends on whether POWERTOOLS_SERVICE_NAME was set when the module was first imported.)"""
    found: list[float] = []
    for line in lines:
        for directive in line["_aws"]["CloudWatchMetrics"]:
            names = {m["Name"] for m in directive["Metrics"]}
            held = {d for group in directive["Dimensions"] for d in group} - {"service"}
            if name in names and held == dimensions:
                value = line[name]
                found.extend(value if isinstance(value, list) else [value])
    return found


def quality(env: Env) -> dict[str, Any]:
    report = json.loads(env.wiring.sync_state.get_sync_state("fake").report)
    data: dict[str, Any] = report["quality"]
    return data


def test_a_run_reports_its_quality_and_a_jump_raises_the_alarm_metric(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a tool of 100 records, one of them unusable, served 25 per page
    env = make_env(monkeypatch, rows(0, 100, bad=1), page_size=25)
    # WHEN the first run pulls them
    pull.handler({"connector": "fake"}, FakeContext())
    first = quality(env)
    # THEN its report counts pulled, quarantined and dropped by reason, and consent
    assert first["pulled"] == 100
    assert first["quarantined"] == {"updated_at missing or invalid: not an ISO 8601 timestamp": 1}
    assert first["quarantine_share"] == 1.0
    assert first["dropped"] == {"traits.country: not a known country code or name": 1}
    assert (first["people"], first["without_email_consent"]) == (99, 99)
    assert first["jump"] is None
    lines = emitted(capsys)
    assert metric(lines, "QuarantineShare", {"connector"}) == [1.0]
    assert sum(metric(lines, "ValuesDropped", {"connector"})) == 1
    assert metric(lines, "QuarantineShareJump", set()) == []

    # WHEN 100 more records arrive, ten of them unusable (a field renamed at the source, say)
    env.tool.rows.extend(rows(100, 100, bad=10))
    pull.handler({"connector": "fake"}, FakeContext())
    second = quality(env)
    # THEN the share went from 1% to 10%: a jump of 9 points, above the alarm's threshold
    assert (second["quarantine_share"], second["baseline_share"], second["jump"]) == (10.0, 1.0, 9.0)
    assert second["baseline_run"] == first["run_id"]
    lines = emitted(capsys)
    assert metric(lines, "QuarantineShareJump", set()) == [9.0]
    # (the series the alarm watches: namespace ProfileSync, dimension service=profilesync)
    fleet = [
        line
        for line in lines
        if "QuarantineShareJump" in line
        and line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    ]
    assert [(f["service"], f["_aws"]["CloudWatchMetrics"][0]["Namespace"]) for f in fleet] == [
        ("profilesync", "ProfileSync")
    ]
    assert metric(lines, "QuarantineShareJump", {"connector"}) == [9.0]


def test_a_run_cut_into_continuations_is_counted_once(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a run that runs out of time after every page and hands over to a continuation
    env = make_env(monkeypatch, rows(0, 60, bad=3), page_size=20)
    event: dict[str, Any] = {"connector": "fake"}
    for _ in range(10):
        outcome = pull.handler(event, FakeContext(remaining_ms=1))
        if outcome["status"] != "continued":
            break
        event = env.lambda_client.payloads()[-1]
    # THEN the run's quality counts every record once
    assert quality(env)["pulled"] == 60
    assert sum(quality(env)["quarantined"].values()) == 3


def test_identifiers_the_guardrails_refuse_are_counted_per_source(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN two people who both typed a blocklisted address, and have phones of their own
    env = make_env(
        monkeypatch,
        [
            {"id": 1, "email": "test@example.com", "phone": "+44 20 7946 0018"},
            {"id": 2, "email": "test@example.com", "phone": "+44 20 7946 0123"},
        ],
    )
    pull.handler({"connector": "fake"}, FakeContext())
    capsys.readouterr()
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    # THEN the merge counts the refused identifiers under the tool they came from
    assert sum(metric(emitted(capsys), "IdentifiersRefused", {"connector"})) == 2
    assert len(list(env.wiring.profiles.iter_profiles())) == 2
