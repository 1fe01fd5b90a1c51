"""functions.push against moto's real table stream, filtered as template.yaml's event source mapping is."""

from __future__ import annotations

from functions import merge, pull, push
from tests.integration.functions.conftest import Env, FakeContext, StreamReader


def pull_and_merge(env: Env) -> None:
    pull.handler({"connector": "fake"}, FakeContext())
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}


def test_push_sends_each_changed_profile_once(env: Env) -> None:
    # GIVEN 5 people merged, and the stream batch Lambda would deliver (profile items only)
    stream = StreamReader(env.dynamodb)
    pull_and_merge(env)
    event = stream.event()
    assert event["Records"]
    assert all(r["dynamodb"]["Keys"]["SK"]["S"] == "PROFILE" for r in event["Records"])
    # WHEN push handles it
    response = push.handler(event, FakeContext(function_name="profilesync-test-push"))
    # THEN every profile reached the tool once, in the tool's batch size, and nothing failed
    assert response == {"batchItemFailures": []}
    assert len(env.tool.pushed) == 1
    customers = sorted(env.tool.pushed_ids())
    assert len(customers) == 5
    # AND what was pushed is remembered (PUSHED# items), and those writes do not trigger push again
    assert set(env.wiring.sync_state.get_pushed("fake", customers)) == set(customers)
    assert stream.event()["Records"] == []
    # WHEN the same batch is delivered again (a retry) THEN nothing is sent a second time
    assert push.handler(event, FakeContext()) == {"batchItemFailures": []}
    assert len(env.tool.pushed) == 1


def test_only_the_profiles_that_changed_are_pushed_again(env: Env) -> None:
    # GIVEN everyone pushed once
    stream = StreamReader(env.dynamodb)
    pull_and_merge(env)
    push.handler(stream.event(), FakeContext())
    first = {p.customer_id: p.hash for p in env.tool.pushed[0]}
    # WHEN the tool gains a second record of person 2, with an order, and the next pull and merge run
    order = {"id": "o1", "total": "20.00", "currency": "EUR", "created_at": "2026-01-02T00:00:00Z"}
    env.tool.rows.append({"id": 5, "email": "p2@example.com", "orders": [order]})
    pull_and_merge(env)
    event = stream.event()
    push.handler(event, FakeContext())
    # THEN only that person's profile changed, and only it is pushed again, with its new value
    assert len(event["Records"]) == 1
    assert event["Records"][0]["eventName"] == "MODIFY"
    [again] = env.tool.pushed[1]
    assert again.customer_id in first
    assert again.hash != first[again.customer_id]
    assert again.body["lifetime_value"] == "20.00"


def test_a_profile_the_tool_rejects_fails_its_stream_record_only(env: Env) -> None:
    # GIVEN the tool rejecting one person's payload
    stream = StreamReader(env.dynamodb)
    pull_and_merge(env)
    event = stream.event()
    rejected = event["Records"][0]["dynamodb"]["Keys"]["PK"]["S"].removeprefix("CUSTOMER#")
    env.tool.reject.add(rejected)
    # WHEN push handles the batch
    response = push.handler(event, FakeContext())
    # THEN exactly that record is reported, so Lambda retries (and bisects) from it
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert failed == [event["Records"][0]["dynamodb"]["SequenceNumber"]]
    # AND the others were pushed and remembered; the rejected one was not marked pushed
    pushed = env.wiring.sync_state.get_pushed("fake", env.tool.pushed_ids())
    assert rejected not in pushed
    assert len(pushed) == 4
