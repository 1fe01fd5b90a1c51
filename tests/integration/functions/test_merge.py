"""functions.merge against moto: what pull queued becomes profiles; a bad message fails alone."""

from __future__ import annotations

import json

import pytest

from functions import merge, pull
from tests.integration.functions.conftest import Env, FakeContext, make_env


def test_merge_turns_the_queued_records_into_profiles(env: Env) -> None:
    # GIVEN a pull of 5 people, and the SQS event Lambda builds from the queued messages
    pull.handler({"connector": "fake"}, FakeContext())
    event = env.sqs_event(env.receive())
    # WHEN merge handles the batch
    response = merge.handler(event, FakeContext(function_name="profilesync-test-merge"))
    # THEN no message failed and every person is one profile
    assert response == {"batchItemFailures": []}
    profiles = list(env.wiring.profiles.iter_profiles())
    assert sorted(i.value for p in profiles for i in p.identifiers if i.kind == "email") == [
        f"p{i}@example.com" for i in range(5)
    ]


def test_a_message_delivered_twice_changes_nothing_the_second_time(env: Env) -> None:
    # GIVEN the merged messages of a pull
    pull.handler({"connector": "fake"}, FakeContext())
    event = env.sqs_event(env.receive())
    merge.handler(event, FakeContext())
    before = env.items()
    # WHEN SQS delivers the same messages again THEN the table is exactly as it was
    assert merge.handler(event, FakeContext()) == {"batchItemFailures": []}
    assert env.items() == before


def test_an_unreadable_message_fails_alone_and_the_others_are_merged(env: Env) -> None:
    # GIVEN a batch with good messages, a body that is not JSON, and one of an unknown version
    pull.handler({"connector": "fake"}, FakeContext())
    env.sqs.send_message(QueueUrl=env.queue_url, MessageBody="not json at all")
    env.sqs.send_message(
        QueueUrl=env.queue_url, MessageBody='{"v": 2, "connector": "fake", "run_id": "r", "records": []}'
    )
    messages = env.receive()
    bad = {m["MessageId"] for m in messages if not m["Body"].startswith('{"v":1')}
    # WHEN merge handles it
    response = merge.handler(env.sqs_event(messages), FakeContext())
    # THEN exactly the two bad messages are reported (they return to the queue), the rest merged
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == bad
    assert len(list(env.wiring.profiles.iter_profiles())) == 5


def test_a_poison_message_reaches_the_dead_letter_queue_after_max_receives(env: Env) -> None:
    # GIVEN a message merge can never read, and the template's redrive policy (maxReceiveCount 5)
    env.sqs.send_message(QueueUrl=env.queue_url, MessageBody='{"records": "nope"}')
    # WHEN Lambda receives it, merge fails it, and it becomes visible again, five times
    for _ in range(5):
        [message] = env.sqs.receive_message(
            QueueUrl=env.queue_url, VisibilityTimeout=0, AttributeNames=["All"]
        )["Messages"]
        # the whole batch failed: reported as failures (not raised), so Lambda retries it all
        response = merge.handler(env.sqs_event([message]), FakeContext())
        assert response["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
    # THEN the next receive finds it in the dead-letter queue, not the ingest queue: never dropped
    assert env.receive() == []
    [parked] = env.receive(env.dlq_url)
    assert parked["Body"] == '{"records": "nope"}'


def test_an_update_that_drops_the_shared_phone_splits_the_customer_and_says_so(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN Ann and Bo, merged because both records carry the same phone
    phone = "+44 20 7946 0018"
    env = make_env(
        monkeypatch,
        [
            {"id": 1, "email": "ann@example.com", "phone": phone},
            {"id": 2, "email": "bo@example.com", "phone": phone},
        ],
    )
    pull.handler({"connector": "fake"}, FakeContext())
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    assert len(list(env.wiring.profiles.iter_profiles())) == 1
    capsys.readouterr()
    # WHEN Ann's record loses the phone, and the next pull and merge run
    env.tool.rows.append({"id": 1, "email": "ann@example.com", "updated_at": "2026-02-01T00:00:00Z"})
    pull.handler({"connector": "fake"}, FakeContext())
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    # THEN they are two customers again, and the merge reports the split in its metrics
    profiles = list(env.wiring.profiles.iter_profiles())
    assert sorted(len(p.sources) for p in profiles) == [1, 1]
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(m.get("Splits") == [1.0] or m.get("Splits") == 1.0 for m in emitted), emitted
