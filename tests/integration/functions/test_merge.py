"""functions.merge against moto: what pull queued becomes profiles; a bad message fails alone."""

from __future__ import annotations

import json

import pytest

from functions import merge, pull
from functions.events import IngestMessage
from tests.conftest import make_record
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
    # WHEN Lambda receives it, merge fails it, and it becomes visible again, five times
    env.fail_into_dead_letters('{"records": "nope"}', merge.handler)
    # THEN the next receive finds it in the dead-letter queue, not the ingest queue: never dropped
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


def test_a_repeat_buyer_with_12_orders_on_her_email_is_one_profile_through_pull_and_merge(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a customer and 12 orders carrying her email (no owner id), pulled two to a page: on main
    # the Lambda path made 13 profiles (every order counted as a holder of her email)
    orders = [
        {
            "id": f"o{n}",
            "object_type": "order",
            "email": "ann@example.com",
            "orders": [{"id": f"o{n}", "total": "10.00", "currency": "GBP", "created_at": "2026-01-01"}],
        }
        for n in range(12)
    ]
    env = make_env(
        monkeypatch, [{"id": "c1", "object_type": "customer", "email": "ann@example.com"}, *orders]
    )
    # WHEN pull queues them and merge handles every message
    pull.handler({"connector": "fake"}, FakeContext())
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    # THEN she is one profile with all 12 orders in lifetime value
    [profile] = env.wiring.profiles.iter_profiles()
    assert profile.computed.order_count == 12
    assert str(profile.computed.lifetime_value["GBP"]) == "120.00"


def test_a_record_the_store_refuses_is_quarantined_alone_and_its_message_succeeds(env: Env) -> None:
    # GIVEN one message of 34 people and one record whose items DynamoDB refuses (an id of 1,500
    # bytes, over a sort key's 1,024: a record no normaliser of this version makes, as an older
    # pull or a bug could send)
    good = [make_record("fake", f"p{i}", email=f"p{i}@example.com") for i in range(34)]
    poison = make_record("fake", "b" * 1500, email="big@example.com")
    records = [*good[:17], poison, *good[17:]]
    body = IngestMessage(connector="fake", run_id="run-1", records=tuple(records)).model_dump_json()
    env.sqs.send_message(QueueUrl=env.queue_url, MessageBody=body)
    # WHEN merge handles it
    response = merge.handler(env.sqs_event(env.receive()), FakeContext())
    # THEN the message succeeds (main sent all 34 people to the dead-letter queue with it)
    assert response == {"batchItemFailures": []}
    assert len(list(env.wiring.profiles.iter_profiles())) == 34
    # AND the refused record is quarantined with the reason, durably
    [entry] = env.wiring.sync_state.quarantined("fake")
    assert entry.key.startswith("fake:contact:bbbb")
    assert len(entry.key.encode()) <= 900  # cut to fit the quarantine item's sort key
    assert entry.reason.startswith("could not be stored: RecordRejectedError")


def test_a_contact_with_100_extra_emails_is_trimmed_and_its_page_merged(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 34 people and one contact with 101 emails, pulled in one page
    rows = [{"id": i, "email": f"p{i}@example.com"} for i in range(34)]
    rows.append({"id": 99, "email": [f"many{i}@example.com" for i in range(101)]})
    env = make_env(monkeypatch, rows, page_size=40)
    # WHEN pulled and merged
    pull.handler({"connector": "fake"}, FakeContext())
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    # THEN all 35 are profiles, the contact with its first 40 emails
    profiles = list(env.wiring.profiles.iter_profiles())
    assert len(profiles) == 35
    many = next(p for p in profiles if any(s.id == "99" for s in p.sources))
    assert len([i for i in many.identifiers if i.kind == "email"]) == 40


def test_a_record_deleted_at_the_tool_travels_as_a_deletion_and_leaves_the_profile(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN Ann known from two records of the tool (one email), merged into one profile
    env = make_env(
        monkeypatch,
        [
            {"id": 1, "email": "ann@example.com", "phone": "+44 20 7946 0018"},
            {"id": 2, "email": "ann@example.com"},
        ],
    )
    pull.handler({"connector": "fake"}, FakeContext())
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    capsys.readouterr()
    # WHEN the tool reports record 1 deleted, and the next pull and merge run
    env.tool.rows.append({"id": 1, "deleted": True, "updated_at": "2026-02-01T00:00:00Z"})
    outcome = pull.handler({"connector": "fake"}, FakeContext())
    messages = env.receive()
    bodies = [IngestMessage.model_validate_json(m["Body"]) for m in messages]
    assert merge.handler(env.sqs_event(messages), FakeContext()) == {"batchItemFailures": []}
    # THEN the deletion went in a message of its own, holding no personal data, and the profile
    # keeps record 2 only, without the phone only record 1 held
    assert outcome["deletions"] == 1
    assert [(len(b.records), [d.key for d in b.deletions]) for b in bodies if b.deletions] == [
        (0, ["fake:contact:1"])
    ]
    (profile,) = list(env.wiring.profiles.iter_profiles())
    assert [s.key for s in profile.sources] == ["fake:contact:2"]
    assert [i.kind for i in profile.identifiers if i.kind == "phone"] == []
    assert env.wiring.profiles.get_owners(["source#fake:contact:1", "phone#+442079460018"]) == {}
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(m.get("RecordsRetired") in ([1.0], 1.0) for m in emitted), emitted
