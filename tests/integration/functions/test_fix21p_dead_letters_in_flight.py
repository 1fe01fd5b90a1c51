"""fix21p: the dead-letter queue read by a privacy request counts the messages another reader holds
(hidden for its visibility timeout, unseen by the read), and the answers say so: an erasure's
``ok`` false with ``dead_letters_in_flight``, an export's too (attack20's finding:
tests/integration/functions/test_attack20_dead_letter_in_flight.py). The messages the read holds
itself are not counted, and a queue nobody else reads answers as before."""

from __future__ import annotations

import json

import pytest

from core.storage.sqs_dead_letters import SQSDeadLetterQueue
from functions import privacy
from tests.integration.functions.conftest import FakeContext
from tests.integration.functions.test_fix18a_unreadable_dead_letters import HER, _erase, _parked, _pulled


def _document(source_id: str, email: str) -> str:
    record = {
        "source": "fake",
        "object_type": "contact",
        "source_id": source_id,
        "updated_at": "2026-01-01T00:00:00Z",
        "identifiers": [{"kind": "email", "value": email}],
    }
    return json.dumps({"connector": "fake", "records": [record]})


def test_the_read_counts_the_messages_another_reader_holds_and_not_its_own(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN three dead letters, one of which an operator holds (received, hidden for 30 s)
    env, _ = _pulled(monkeypatch)
    for i in range(3):
        env.sqs.send_message(QueueUrl=env.dlq_url, MessageBody=_document(str(i), f"p{i}@example.com"))
    [held] = env.sqs.receive_message(QueueUrl=env.dlq_url, MaxNumberOfMessages=1, VisibilityTimeout=30)[
        "Messages"
    ]
    queue = SQSDeadLetterQueue(env.sqs, env.dlq_url)
    # WHEN the queue is read, and then read again after the operator released it
    first = queue.records()
    first_in_flight = queue.in_flight
    env.sqs.change_message_visibility(
        QueueUrl=env.dlq_url, ReceiptHandle=held["ReceiptHandle"], VisibilityTimeout=0
    )
    second = queue.records()
    # THEN the first read saw two and counts one in flight; the second saw three and counts none
    assert (len(first), first_in_flight) == (2, 1)
    assert (len(second), queue.in_flight) == (3, 0)
    assert queue.remove(lambda r: False) == 0
    assert (queue.in_flight, queue.unreadable) == (0, 0)


def test_an_erasure_while_a_dead_letter_is_in_flight_counts_it_and_erasing_again_after_answers_ok(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the dead letter holding her record, held by an operator
    env, document = _pulled(monkeypatch)
    env.sqs.send_message(QueueUrl=env.dlq_url, MessageBody=json.dumps(document))
    [looked_at] = env.receive(env.dlq_url, visibility=30)
    # WHEN she is erased meanwhile
    answer = _erase()
    # THEN the answer is not ok and says one dead letter was in flight (not as a deleted count)
    assert answer["ok"] is False, answer
    assert answer["dead_letters_in_flight"] == 1, answer
    assert "dead_letter_in_flight" not in answer["deleted"]
    # and once the operator released it, the erasure asked again takes her record out, and is ok
    env.sqs.change_message_visibility(
        QueueUrl=env.dlq_url, ReceiptHandle=looked_at["ReceiptHandle"], VisibilityTimeout=0
    )
    again = _erase()
    assert again["ok"] is True, again
    assert "dead_letters_in_flight" not in again
    [body] = _parked(env)
    assert HER not in body


def test_an_export_while_her_dead_letter_is_in_flight_is_not_ok_and_says_so(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, document = _pulled(monkeypatch)
    env.sqs.send_message(QueueUrl=env.dlq_url, MessageBody=json.dumps(document))
    env.receive(env.dlq_url, visibility=30)
    answer = privacy.handler({"action": "export", "email": HER, "requested_by": "dpo"}, FakeContext())
    assert answer["ok"] is False, answer
    assert answer["dead_letters_in_flight"] == 1, answer
