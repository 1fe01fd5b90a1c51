"""functions.pull against moto: messages, packing, resends, quarantine, the lease and the handover."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from core.storage.dynamodb_lease import DynamoDBLeaseStore
from functions import pull
from functions.events import IngestMessage
from functions.pull import IngestQueueError
from tests.integration.functions.conftest import TABLE, Env, FakeContext, make_env, people

SQS_LIMIT = 262_144


def queued_records(env: Env) -> list[IngestMessage]:
    return [IngestMessage.model_validate_json(m["Body"]) for m in env.receive()]


def record_ids(messages: list[IngestMessage]) -> list[str]:
    return sorted(r.source_id for m in messages for r in m.records)


class SendLog:
    """Wraps the SQS client: records every SendMessageBatch (and the cursor saved at that moment),
    and can fail chosen entries the way SQS reports them (in ``Failed``, the rest accepted)."""

    def __init__(self, env: Env, fail: list[dict[str, Any]] | None = None) -> None:
        self._sqs = env.sqs
        self._env = env
        self.calls: list[dict[str, Any]] = []
        self.fail = list(fail or [])  # one entry per call to fail: {"SenderFault": bool, "Code": str}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:  # noqa: N803
        cursor = self._env.wiring.sync_state.get_sync_state("fake").cursor
        self.calls.append({"ids": [e["Id"] for e in Entries], "entries": Entries, "cursor": cursor})
        if self.fail:
            failure = self.fail.pop(0)
            first, rest = Entries[0], Entries[1:]
            response = self._sqs.send_message_batch(QueueUrl=QueueUrl, Entries=rest) if rest else {}
            return {
                "Successful": response.get("Successful", []),
                "Failed": [{"Id": first["Id"], "Message": "try again", **failure}],
            }
        result: dict[str, Any] = self._sqs.send_message_batch(QueueUrl=QueueUrl, Entries=Entries)
        return result


def test_pull_queues_every_record_saves_the_cursor_and_releases_the_lease(env: Env) -> None:
    # GIVEN a tool of 5 people served 2 per page
    # WHEN the schedule invokes pull
    outcome = pull.handler({"connector": "fake"}, FakeContext())
    # THEN every record is in the ingest queue, the cursor is after the last page, the lease is free
    assert outcome["status"] == "done"
    assert (outcome["pages"], outcome["pulled"], outcome["queued"]) == (3, 5, 5)
    assert record_ids(queued_records(env)) == ["0", "1", "2", "3", "4"]
    assert env.wiring.sync_state.get_sync_state("fake").cursor == "5"
    assert env.wiring.leases.current("fake") is None
    # AND the next run resumes from the cursor and finds nothing new
    again = pull.handler({"connector": "fake"}, FakeContext())
    assert (again["pulled"], env.tool.pulled_from[-1]) == (0, "5")


def test_records_of_one_page_share_messages_and_carry_the_run(env: Env) -> None:
    # GIVEN a page of 5 small records
    env.tool.page_size = 5
    # WHEN pull runs
    outcome = pull.handler({"connector": "fake"}, FakeContext())
    # THEN they travel in one message that names the connector and the run
    [message] = queued_records(env)
    assert len(message.records) == 5
    assert (message.connector, message.run_id) == ("fake", outcome["run_id"])


def test_bad_records_are_quarantined_with_their_reason_and_the_rest_is_queued(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a tool where one person has no usable identifier
    env = make_env(monkeypatch, [*people(2), {"id": 9, "email": "not an address"}])
    # WHEN pull runs
    outcome = pull.handler({"connector": "fake"}, FakeContext())
    # THEN that record is quarantined with a reason a person can act on, the others are queued
    assert (outcome["queued"], outcome["quarantined"]) == (2, 1)
    [entry] = env.wiring.sync_state.quarantined("fake")
    assert entry.key == "fake:contact:9"
    assert "no usable identifier" in entry.reason
    assert record_ids(queued_records(env)) == ["0", "1"]


def test_big_records_are_packed_under_the_sqs_limit_and_an_oversize_one_is_quarantined(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN one page of 10 records of ~12 KB each (three traits of 4,000 characters, the most one
    # trait holds), and one of ~33 KB; and messages of at most 30 KB, so that these sizes stand for
    # records near the 256 KB of SQS (normalisation now bounds a record well below it)
    limit = 30_000
    rows = people(10, bio="x" * 4000, bio2="x" * 4000, bio3="x" * 4000)
    rows.append({"id": 99, "email": "huge@example.com", **{f"bio{i}": "y" * 4000 for i in range(8)}})
    env = make_env(monkeypatch, rows, page_size=11)
    env.wiring.settings = replace(env.wiring.settings, ingest_message_max_bytes=limit)
    sends = SendLog(env)
    env.wiring._clients["sqs"] = sends
    # WHEN pull runs
    outcome = pull.handler({"connector": "fake"}, FakeContext())
    # THEN every message, and every SendMessageBatch request, stays within 256 KB
    bodies = [e["MessageBody"] for call in sends.calls for e in call["entries"]]
    assert all(len(b.encode()) <= limit for b in bodies)
    assert all(sum(len(e["MessageBody"].encode()) for e in c["entries"]) <= SQS_LIMIT for c in sends.calls)
    assert all(len(c["entries"]) <= 10 for c in sends.calls)
    # AND records share messages (2 of these fit in one), none is lost or doubled
    messages = queued_records(env)
    assert len(messages) == 5
    assert record_ids(messages) == sorted(str(i) for i in range(10))
    # AND the record no message can hold is quarantined, saying why
    assert outcome["quarantined"] == 1
    [entry] = env.wiring.sync_state.quarantined("fake")
    assert entry.key == "fake:contact:99"
    assert "more than one ingest message holds" in entry.reason


def test_a_failed_batch_entry_is_resent_before_the_cursor_moves(env: Env) -> None:
    # GIVEN SQS reporting the first entry of the first request as failed (throttled), once
    env.tool.page_size = 5
    env.wiring.settings = replace(env.wiring.settings, ingest_message_max_bytes=4096)  # 1 record/message
    sends = SendLog(env, fail=[{"SenderFault": False, "Code": "ThrottlingException"}])
    env.wiring._clients["sqs"] = sends
    # WHEN pull runs
    outcome = pull.handler({"connector": "fake"}, FakeContext())
    # THEN the failed entry alone is sent again, while the cursor has not moved yet
    first, second = sends.calls[0], sends.calls[1]
    assert second["ids"] == [first["ids"][0]]
    assert second["entries"][0]["MessageBody"] == first["entries"][0]["MessageBody"]
    assert second["cursor"] is None
    # AND only then the cursor moves; every record arrived exactly once
    assert env.wiring.sync_state.get_sync_state("fake").cursor == "5"
    assert record_ids(queued_records(env)) == ["0", "1", "2", "3", "4"]
    assert outcome["resent"] == 1


def test_a_message_sqs_refuses_for_good_stops_the_pull_without_moving_the_cursor(env: Env) -> None:
    # GIVEN SQS refusing an entry as the sender's fault (retrying cannot help)
    sends = SendLog(env, fail=[{"SenderFault": True, "Code": "InvalidMessageContents"}])
    env.wiring._clients["sqs"] = sends
    # WHEN pull runs THEN it fails loudly, the cursor stays, and the lease is given back
    with pytest.raises(IngestQueueError, match="InvalidMessageContents"):
        pull.handler({"connector": "fake"}, FakeContext())
    assert env.wiring.sync_state.get_sync_state("fake").cursor is None
    assert env.wiring.leases.current("fake") is None


def test_a_second_pull_exits_while_the_lease_is_held(env: Env) -> None:
    # GIVEN another run holding the connector's lease
    assert env.wiring.leases.acquire("fake", "other-run", 600) is not None
    # WHEN the schedule fires again
    outcome = pull.handler({"connector": "fake"}, FakeContext())
    # THEN this pull exits without pulling, sending or moving anything, and the lease stays theirs
    assert outcome["status"] == "skipped"
    assert env.tool.pulled_from == []
    assert env.receive() == []
    assert env.wiring.sync_state.get_sync_state("fake").cursor is None
    held = env.wiring.leases.current("fake")
    assert held is not None
    assert held.owner == "other-run"


def test_an_expired_lease_is_taken_over(env: Env) -> None:
    # GIVEN a lease left by a run that died an hour ago (it expired)
    past = DynamoDBLeaseStore(env.dynamodb, TABLE, clock=lambda: 1_000_000.0)
    assert past.acquire("fake", "dead-run", 600) is not None
    # WHEN the schedule fires THEN the pull runs
    assert pull.handler({"connector": "fake"}, FakeContext())["status"] == "done"


def test_little_time_left_hands_the_rest_to_a_continuation_that_keeps_the_lease(env: Env) -> None:
    # GIVEN a pull invoked with less time left than its margin (2 minutes)
    context = FakeContext(remaining_ms=60_000)
    # WHEN it runs
    outcome = pull.handler({"connector": "fake"}, context)
    # THEN it stops after the first page, with that page queued and its cursor saved
    assert (outcome["status"], outcome["pages"], outcome["cursor"]) == ("continued", 1, "2")
    assert env.wiring.sync_state.get_sync_state("fake").cursor == "2"
    # AND asks Lambda to run this function again, asynchronously, with the same run
    [call] = env.lambda_client.invocations
    assert (call["FunctionName"], call["InvocationType"]) == (context.function_name, "Event")
    follow_up = json.loads(call["Payload"])
    assert follow_up == {"connector": "fake", "run_id": outcome["run_id"], "continuation": True, "hop": 1}
    # AND keeps the lease for it, so the schedule cannot start a competing pull meanwhile
    held = env.wiring.leases.current("fake")
    assert held is not None
    assert held.owner == outcome["run_id"]
    assert pull.handler({"connector": "fake"}, FakeContext())["status"] == "skipped"
    # WHEN the continuation runs with time to spare
    done = pull.handler(follow_up, FakeContext())
    # THEN it resumes at the cursor, finishes, and releases the lease; nothing is missing
    assert (done["status"], done["hop"], env.tool.pulled_from[-1]) == ("done", 1, "2")
    assert env.wiring.sync_state.get_sync_state("fake").cursor == "5"
    assert env.wiring.leases.current("fake") is None
    assert record_ids(queued_records(env)) == ["0", "1", "2", "3", "4"]


def test_a_run_that_chained_too_many_invocations_stops_and_frees_the_lease(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a pull allowed no continuation at all
    monkeypatch.setenv("PULL_MAX_CONTINUATIONS", "0")
    env = make_env(monkeypatch, people(5))
    # WHEN time runs short
    outcome = pull.handler({"connector": "fake"}, FakeContext(remaining_ms=1_000))
    # THEN it stops with the cursor saved, invokes nothing, and the next schedule may resume
    assert (outcome["status"], outcome["cursor"]) == ("stopped", "2")
    assert env.lambda_client.invocations == []
    assert env.wiring.leases.current("fake") is None


def test_a_schedule_for_a_connector_not_configured_says_how_to_fix_it(env: Env) -> None:
    # GIVEN a configuration without "hubspot" WHEN a pull of it is asked for THEN the error names the
    # configured instances and where to add it
    with pytest.raises(
        Exception, match=r"'hubspot' is not configured \(configured: fake\); add it under connectors:"
    ):
        pull.handler({"connector": "hubspot"}, FakeContext())
    assert env.wiring.leases.current("hubspot") is None
