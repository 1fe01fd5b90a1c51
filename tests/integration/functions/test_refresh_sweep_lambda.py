"""A full refresh through the pull and merge handlers (moto) retires the records the tool no longer
lists (functions._refresh_sweep), within the guard, and only when it completed in one invocation."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from core.storage.ident_keys import ident_of
from functions import merge, pull
from tests.integration.functions.conftest import SPEC, Env, FakeContext, make_env

ROWS = [{"id": i, "email": f"person{i}@example.com", "first_name": f"P{i}"} for i in range(1, 9)]


def _env(monkeypatch: pytest.MonkeyPatch) -> Env:
    env = make_env(monkeypatch, [dict(r) for r in ROWS])
    env.tool.spec = dataclasses.replace(SPEC, refresh_lists=frozenset({"contact"}))  # type: ignore[misc]
    pull.handler({"connector": "fake"}, FakeContext())
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    return env


def _sources(env: Env) -> set[str]:
    return {
        "IDENT#" + ident_of(i)  # the identifier, not its keyed hash (core.storage.ident_keys)
        for i in env.items()
        if "~retired" not in json.dumps(i)
        and i["PK"]["S"].startswith("IDENT#")
        and ident_of(i).startswith("source#")
    }


def _run(env: Env, event: dict[str, Any], context: FakeContext | None = None) -> dict[str, Any]:
    answer = pull.handler({"connector": "fake", **event}, context or FakeContext())
    messages = env.receive()
    if messages:
        assert merge.handler(env.sqs_event(messages), FakeContext()) == {"batchItemFailures": []}
    return answer


def test_a_full_refresh_in_lambda_retires_the_record_the_tool_no_longer_lists(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 8 records pulled and merged, and one since deleted inside the tool (no tombstone)
    env = _env(monkeypatch)
    env.tool.rows = [r for r in env.tool.rows if r["id"] != 3]
    # WHEN a scheduled (incremental) pull runs, then a full refresh
    assert _run(env, {})["sweep"] is None
    assert "IDENT#source#fake:contact:3" in _sources(env)
    answer = _run(env, {"full_refresh": True})
    # THEN the refresh names it unlisted, and merge retires it: her values leave the table
    assert answer["sweep"] == {"listed": 7, "stored": 8, "unlisted": 1, "swept": 1}
    assert "IDENT#source#fake:contact:3" not in _sources(env)
    assert "person3@example.com" not in json.dumps(env.items())
    assert "person4@example.com" in json.dumps(env.items())


def test_an_empty_answer_in_lambda_trips_the_guard_unless_the_event_allows_it(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 8 records pulled and merged, and a tool that then answers an empty list
    env = _env(monkeypatch)
    env.tool.rows = []
    # WHEN a full refresh runs
    answer = _run(env, {"full_refresh": True})
    # THEN nothing is retired, and the guard says why
    assert answer["sweep"]["swept"] == 0
    assert "listed no record" in answer["sweep"]["refused"]
    assert len(_sources(env)) == 8
    # AND with the explicit flag in the event they are
    answer = _run(env, {"full_refresh": True, "allow_mass_retirement": True})
    assert answer["sweep"]["swept"] == 8
    assert _sources(env) == set()


def test_a_refresh_handed_to_a_continuation_sweeps_nothing(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 8 records stored, 2 of them since deleted inside the tool
    env = _env(monkeypatch)
    env.tool.rows = [dict(r) for r in ROWS[:6]]
    # WHEN a full refresh runs out of time after its first page (a continuation goes on)
    answer = _run(env, {"full_refresh": True}, FakeContext(remaining_ms=1))
    # THEN it swept nothing: it had not listed the tool's records
    assert answer["status"] == "continued"
    assert answer["sweep"] is None
    assert len(_sources(env)) == 8
