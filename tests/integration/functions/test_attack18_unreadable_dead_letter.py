"""attack18: her record in a dead letter that the merge function could not read, then her erasure.

A message reaches the ingest dead-letter queue when merge failed it five times (template.yaml's
``maxReceiveCount``), and the first reason merge fails a message for good is that it cannot read it
(functions/merge.py ``merge_message``: "unreadable ingest message: it is retried and then moved to
the dead-letter queue"; tests/integration/functions/test_merge.py feeds it one "of an unknown
version"). A message written by another version of pull (a deploy that updates pull before merge, or
merge rolled back) is such a message: here her record carries one trait written as a number, which
this version's ``SourceRecord`` (``traits: dict[str, str]``) does not read.

docs/privacy.md: "the erasure takes the person's records out of every message in the ingest
dead-letter queue (a message holding other people's records is put back without the person's)", and
the table of what is held lists the dead-letter queue "14 days, or until erased". core/storage/
sqs_dead_letters.py reads each record of a message with ``SourceRecord.model_validate`` and keeps "an
unreadable record ... in the message, as it was": the messages the queue holds are the very ones
that do not read, so her erasure answers ``erased`` and her record stays there, her address and name
in clear, for the queue's 14 days (and comes back with a redrive once merge reads it).

The same message on its way there: merge's own log line leaves the unreadable input out
(``include_input=False``), but Powertools' batch processor logs each failed record's exception at
DEBUG, and pydantic's text of it quotes the refused value (her mobile number written as a number).
docs/privacy.md: logs carry no identifier "at any log level ... the libraries' lines too".
"""

from __future__ import annotations

import json
import logging

import pytest

from functions import merge, privacy, pull
from tests.integration.functions.conftest import Env, FakeContext, make_env
from tests.integration.functions.test_fix18a_unreadable_dead_letters import with_dead_letter_queue

HER = "ottoline.vasquez-reyes@example.com"
TRACES = ("ottoline", "vasquez")


def _park(env: Env, body: str) -> None:
    """Send ``body`` to the ingest queue and let merge fail it until SQS moves it to the DLQ."""
    env.fail_into_dead_letters(body, merge.handler)


def _parked(env: Env) -> str:
    """Every body in the DLQ, lower case; each message made visible again at once (as the erasure
    leaves the queue)."""
    messages = env.receive(env.dlq_url)
    for m in messages:
        env.sqs.change_message_visibility(
            QueueUrl=env.dlq_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
        )
    return json.dumps([m["Body"] for m in messages]).lower()


def test_her_erasure_takes_her_record_out_of_a_dead_letter_merge_could_not_read(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN her record and Bob's pulled into one ingest message ...
    env = make_env(
        monkeypatch,
        [
            {"id": 1, "email": HER, "first_name": "Ottoline", "last_name": "Vasquez-Reyes"},
            {"id": 2, "email": "bob@example.com", "first_name": "Bob"},
        ],
    )
    env = with_dead_letter_queue(env, monkeypatch)  # as template.yaml deploys the privacy function
    pull.handler({"connector": "fake"}, FakeContext())
    [sent] = env.receive()
    env.sqs.delete_message(QueueUrl=env.queue_url, ReceiptHandle=sent["ReceiptHandle"])
    # ... as another version of pull writes it (her trait a number), parked in the DLQ by merge
    document = json.loads(sent["Body"])
    [hers] = [r for r in document["records"] if r["source_id"] == "1"]
    hers["traits"]["lifetime_value"] = 1250.5
    _park(env, json.dumps(document))
    assert HER in _parked(env)
    # WHEN she is erased through the privacy function
    answer = privacy.handler({"action": "erase", "email": HER, "requested_by": "dpo"}, FakeContext())
    # THEN the erasure says it is done, Bob's record is still parked, and nothing of hers is
    assert answer["ok"] is True, answer
    parked = _parked(env)
    assert "bob@example.com" in parked
    assert [t for t in TRACES if t in parked] == []


def test_merge_logs_no_value_of_hers_at_debug_when_it_cannot_read_her_record(
    aws: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN her record as another version of pull writes it: her mobile number as a JSON number
    env = make_env(monkeypatch, [{"id": 1, "email": HER, "first_name": "Ottoline"}])
    pull.handler({"connector": "fake"}, FakeContext())
    [sent] = env.receive()
    env.sqs.delete_message(QueueUrl=env.queue_url, ReceiptHandle=sent["ReceiptHandle"])
    document = json.loads(sent["Body"])
    document["records"][0]["traits"]["mobile"] = 447700900461
    # WHEN merge fails it five times with every logger at DEBUG (Lambda's application log level)
    caplog.set_level(logging.DEBUG)
    _park(env, json.dumps(document))
    # THEN merge said so, and no line holds her number (nor her address or name)
    lines = [f"{r.name} {r.getMessage()}" for r in caplog.records]
    assert any("unreadable ingest message" in line for line in lines)
    assert [line[:300] for line in lines if "447700900461" in line or HER in line.lower()] == []
