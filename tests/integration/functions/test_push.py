"""functions.push against moto's real table stream, filtered as template.yaml's event source mapping is."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from core.connector import PushRules
from functions import _wiring, merge, pull, push
from functions._wiring import Wiring, WiringError, parse_connectors
from tests.integration.functions.conftest import SPEC, Env, FakeContext, StreamReader


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


def _reconcile(**event: Any) -> dict[str, Any]:
    return push.handler({"action": "reconcile", **event}, FakeContext(function_name="profilesync-test-push"))


def test_reconcile_pushes_every_profile_a_destination_lacks_in_resumable_pages(env: Env) -> None:
    # GIVEN five merged people whose stream records were never pushed (say the stream's 24 h passed)
    pull_and_merge(env)
    assert env.tool.pushed == []
    # WHEN a reconcile is cut after two small pages
    first = _reconcile(items_per_page=4, max_pages=2)
    # THEN it says where to go on from, and has pushed only what those pages held
    assert (first["done"], first["pages"]) == (False, 2)
    assert first["next"] is not None
    assert len(env.tool.pushed_ids()) == first["profiles"] < 5
    # WHEN it is invoked again from that key until it is done
    answers = [first]
    while not answers[-1]["done"]:
        answers.append(_reconcile(start=answers[-1]["next"], items_per_page=4))
        assert len(answers) < 20
    # THEN every live profile was pushed exactly once, and each was remembered
    pushed = env.tool.pushed_ids()
    assert len(pushed) == len(set(pushed)) == 5 == sum(a["profiles"] for a in answers)
    assert set(env.wiring.sync_state.get_pushed("fake", pushed)) == set(pushed)
    # AND a second reconcile, in one go, finds nothing to send
    again = _reconcile()
    assert (again["done"], again["pushed"], again["skipped_unchanged"]) == (True, {"fake": 0}, {"fake": 5})
    assert len(env.tool.pushed_ids()) == 5


def test_reconcile_reports_the_profiles_a_destination_rejects_and_pushes_them_next_time(env: Env) -> None:
    pull_and_merge(env)
    stream = StreamReader(env.dynamodb)
    customers = sorted(
        {r["dynamodb"]["Keys"]["PK"]["S"].removeprefix("CUSTOMER#") for r in stream.event()["Records"]}
    )
    env.tool.reject.add(customers[0])
    # WHEN a reconcile runs while the tool refuses one person
    answer = _reconcile()
    # THEN that person is counted and named, the others were pushed
    assert (answer["done"], answer["failed"], answer["failed_customers"]) == (True, 1, [customers[0]])
    assert answer["pushed"] == {"fake": 4}
    # AND once the tool takes it, the next reconcile pushes that person only
    env.tool.reject.clear()
    before = len(env.tool.pushed_ids())
    assert _reconcile()["pushed"] == {"fake": 1}
    assert env.tool.pushed_ids()[before:] == [customers[0]]


# A refused event publishes no metric, and Powertools warns about that; the refusal is the point here.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_reconcile_stops_while_time_is_left_and_refuses_bad_options(env: Env) -> None:
    pull_and_merge(env)
    # GIVEN less than 10 s left in the invocation THEN it stops after its first page, with the key
    hurried = push.handler(
        {"action": "reconcile", "items_per_page": 3}, FakeContext(remaining_ms=5_000, function_name="push")
    )
    assert (hurried["done"], hurried["pages"]) == (False, 1)
    assert hurried["next"] is not None
    for bad, message in (
        ({"start": "PK"}, '"start" must be the "next" key'),
        ({"max_pages": 0}, "'max_pages' must be a positive whole number"),
        ({"items_per_page": "10"}, "'items_per_page' must be a positive whole number"),
    ):
        with pytest.raises(ValueError, match=message):
            _reconcile(**bad)


@pytest.mark.parametrize(
    ("mode", "skipped"), [("update", "PushSkippedByMode"), ("upsert", "PushSkippedByConsent")]
)
def test_the_push_mode_configured_in_connectors_decides_who_is_pushed(
    env: Env, capsys: pytest.CaptureFixture[str], mode: str, skipped: str
) -> None:
    # GIVEN a tool that holds people only through "customer" records and mails them (email channel),
    # merged people it does not hold (their records are contacts) with no consent, and CONNECTORS
    # setting the instance's push mode
    env.tool.spec = dataclasses.replace(  # type: ignore[misc]
        SPEC, push_rules=PushRules(mode="upsert", channel="email", holder_types=frozenset({"customer"}))
    )
    settings = dataclasses.replace(
        env.wiring.settings, connectors=parse_connectors(f'{{"fake": {{"push_mode": "{mode}"}}}}')
    )
    wiring = Wiring(settings, dynamodb=env.dynamodb, sqs=env.sqs, lambda_client=env.lambda_client)
    _wiring.use(wiring)
    assert wiring.push_mode("fake") == mode
    stream = StreamReader(env.dynamodb)
    pull_and_merge(env)
    capsys.readouterr()
    # WHEN push handles the stream batch
    response = push.handler(stream.event(), FakeContext(function_name="profilesync-test-push"))
    # THEN nobody was sent (update mode creates nobody; upsert needs their email consent), nothing
    # failed, and the metric says why each was skipped
    assert response == {"batchItemFailures": []}
    assert env.tool.pushed_ids() == []
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    # (EMF writes each value as a list of the values recorded)
    assert [m[skipped] for m in metrics if skipped in m] == [[5.0]]


def test_a_push_mode_connectors_does_not_know_is_refused_with_the_choices() -> None:
    with pytest.raises(WiringError, match="push_mode"):
        parse_connectors('{"fake": {"push_mode": "create"}}')
