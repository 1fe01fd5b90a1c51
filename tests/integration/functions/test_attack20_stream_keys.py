"""attack20: what the table's stream holds of a person after her erasure.

docs/privacy.md's table of what is kept: "the table's stream | keys only (``KEYS_ONLY``): which item
changed, never its content | 24 hours", and template.yaml: "so the stream's 24 hours hold no personal
data". But the keys are content: the identifier items are keyed by the value in clear
(``IDENT#email#ann@example.com``, docs/architecture.md's layout), and DynamoDB Streams puts every
item's key in its change record (``Keys``, whatever the view type). Her ingest wrote those items and
her erasure deleted them: both changes stay readable from the stream (``TRIM_HORIZON``) for 24 hours
after her erasure answered, by anyone with ``dynamodb:GetRecords`` on the stream (the push function's
role, any reader the account adds), and no erasure can delete a stream record.

The stream is read through moto as Lambda reads it (tests/integration/functions/conftest.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions import merge, privacy, pull, push
from tests.integration.functions.conftest import Env, FakeContext, StreamReader, make_env

ROWS = [
    {
        "id": 1,
        "email": "Wilhelmina.Oyelaran@example.com",
        "phone": "+44 20 7946 0018",
        "first_name": "Wilhelmina",
    },
    {"id": 2, "email": "bob@example.com", "first_name": "Bob"},
]
HER_VALUES = ("wilhelmina.oyelaran@example.com", "+442079460018")


@pytest.fixture
def merged(aws: None, monkeypatch: pytest.MonkeyPatch) -> Env:
    env = make_env(monkeypatch, [dict(r) for r in ROWS], page_size=2)
    stream = StreamReader(env.dynamodb)
    pull.handler({"connector": "fake"}, FakeContext())
    for message in env.receive():
        assert merge.handler(env.sqs_event([message]), FakeContext()) == {"batchItemFailures": []}
    assert push.handler(stream.event(), FakeContext()) == {"batchItemFailures": []}
    return env


def _stream_text(env: Env) -> str:
    """Every change record the stream holds now (from its trim horizon: the last 24 hours)."""
    records: list[dict[str, Any]] = StreamReader(env.dynamodb).records()
    assert records, "the stream holds the changes of the last 24 hours"
    return json.dumps(records, default=str).lower()


def test_after_her_erasure_the_stream_holds_none_of_her_identifiers(merged: Env) -> None:
    env = merged
    # Her ingest's identifier items are in the stream (keyed by hash since priv29: before, by value).
    ingested = _stream_text(env)
    assert "ident#" in ingested
    assert [v for v in HER_VALUES if v in ingested] == []
    answer = privacy.handler(
        {"action": "erase", "email": ROWS[0]["email"], "requested_by": "dpo"}, FakeContext()
    )
    assert answer["ok"] is True, answer
    text = _stream_text(env)
    assert "bob@example.com" in text or "customer#" in text
    assert [v for v in HER_VALUES if v in text] == []
