"""attack20: her erasure while a message of the ingest dead-letter queue is in flight (received by
someone else, hidden for its visibility timeout).

SQS hides a received message from every other receiver until its visibility timeout passes. The
erasure reads the dead-letter queue by receiving until a receive comes back empty
(core.storage.sqs_dead_letters ``_receive_all``): a message someone else holds at that moment is not
seen, and nothing says so. Who holds one: an operator looking at the queue (docs/privacy.md tells
them to, when the ``IngestDeadLetterAlarm`` fires; the console's "Poll for messages" receives them
for the queue's visibility timeout), a redrive task moving them back, another privacy invocation
(an export or an erasure of someone else reading the queue at the same moment: each one hides every
message for 120 s while it works).
"""

from __future__ import annotations

import json

import pytest

from functions import privacy
from tests.integration.functions.conftest import FakeContext
from tests.integration.functions.test_fix18a_unreadable_dead_letters import HER, _erase, _parked, _pulled


def test_an_erasure_while_her_dead_letter_is_in_flight_does_not_answer_ok(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN one dead letter holding her record, Bob's and Carla's (all readable), which an operator
    # has just received to look at it (the console's poll: hidden for 30 s)
    env, document = _pulled(monkeypatch)
    env.sqs.send_message(QueueUrl=env.dlq_url, MessageBody=json.dumps(document))
    [looked_at] = env.receive(env.dlq_url, visibility=30)
    assert HER in looked_at["Body"]
    # WHEN she is erased meanwhile, and the operator's look ends (the message visible again)
    answer = _erase()
    env.sqs.change_message_visibility(
        QueueUrl=env.dlq_url, ReceiptHandle=looked_at["ReceiptHandle"], VisibilityTimeout=0
    )
    # THEN either her record is gone from the queue, or the answer says the erasure is not complete
    left = _parked(env)
    still_there = any(HER in body for body in left)
    assert not (still_there and answer["ok"]), answer


def test_an_erasure_after_the_look_ended_takes_her_dead_letter_out(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control of the test above: the same message, looked at and released before her erasure,
    loses her record and keeps Bob's and Carla's (the difference is only the message in flight)."""
    env, document = _pulled(monkeypatch)
    env.sqs.send_message(QueueUrl=env.dlq_url, MessageBody=json.dumps(document))
    [looked_at] = env.receive(env.dlq_url, visibility=30)
    env.sqs.change_message_visibility(
        QueueUrl=env.dlq_url, ReceiptHandle=looked_at["ReceiptHandle"], VisibilityTimeout=0
    )
    answer = _erase()
    assert answer["ok"] is True, answer
    assert answer["deleted"]["dead_letter_records"] == 1
    [body] = _parked(env)
    assert [r["source_id"] for r in json.loads(body)["records"]] == ["2", "3"]


def test_an_export_while_her_dead_letter_is_in_flight_says_it_is_incomplete(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the dead letter holding her record, received by an operator looking at it
    env, document = _pulled(monkeypatch)
    env.sqs.send_message(QueueUrl=env.dlq_url, MessageBody=json.dumps(document))
    [looked_at] = env.receive(env.dlq_url, visibility=30)
    # WHEN she asks for her data meanwhile (on main: "found": false, nothing held of her)
    answer = privacy.handler({"action": "export", "email": HER, "requested_by": "dpo"}, FakeContext())
    # THEN the export holds her dead letter, or says that some of the queue could not be read
    exported = json.dumps(answer).lower()
    assert HER in json.dumps(document)
    assert HER in exported.split('"dead_letters"', 1)[-1] or "in_flight" in exported, answer
    env.sqs.change_message_visibility(
        QueueUrl=env.dlq_url, ReceiptHandle=looked_at["ReceiptHandle"], VisibilityTimeout=0
    )


def test_an_export_after_the_look_ended_holds_her_dead_letter(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control of the export above: released before she asks, her dead letter is exported."""
    env, document = _pulled(monkeypatch)
    env.sqs.send_message(QueueUrl=env.dlq_url, MessageBody=json.dumps(document))
    answer = privacy.handler({"action": "export", "email": HER, "requested_by": "dpo"}, FakeContext())
    assert answer["found"] is True, answer
    assert [r["source_id"] for r in answer["dead_letters"]] == ["1"]
