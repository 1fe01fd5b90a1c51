"""revP26: a dead-lettered record of any JSON shape is judged or counted unreadable, never a crash.

``SQSDeadLetterQueue.remove`` reads, for a record ``SourceRecord`` does not read, what identifies it
(``readable_part``, through core.quarantine.record_keys). A record whose ``identifiers`` is a number
(another pull version's field written so) made ``record_keys`` iterate an int: the TypeError ended
her erasure's dead-letter pass, so one such message failed every erasure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from core.storage.sqs_dead_letters import SQSDeadLetterQueue, readable_part

HER = "ottoline.vasquez-reyes@example.com"


@pytest.fixture
def queue() -> Iterator[SQSDeadLetterQueue]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-1")
        url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        yield SQSDeadLetterQueue(sqs, url, visibility_seconds=30)


def _send(queue: SQSDeadLetterQueue, records: list[Any]) -> None:
    queue._sqs.send_message(QueueUrl=queue.queue_url, MessageBody=json.dumps({"records": records}))


@pytest.mark.parametrize("identifiers", [7, 1.5, True], ids=["int", "float", "bool"])
def test_identifiers_of_a_non_list_type_are_read_around(identifiers: Any) -> None:
    raw = {"source": "crm", "object_type": "contact", "source_id": "1", "identifiers": identifiers}
    part = readable_part(raw)
    assert part is not None
    assert part.key == "crm:contact:1"


def test_her_record_with_numeric_identifiers_is_removed_and_the_stranger_stays(
    queue: SQSDeadLetterQueue,
) -> None:
    # GIVEN a message holding her record (identifiers written as a number, her address in a trait)
    # and a stranger's record of the same shape
    hers = {"source": "crm", "object_type": "contact", "source_id": "1", "identifiers": 3, "note": HER}
    other = {"source": "crm", "object_type": "contact", "source_id": "2", "identifiers": 3}
    _send(queue, [hers, other])
    # WHEN her erasure takes her records out
    removed = queue.remove(lambda r: any(i.value == HER for i in r.identifiers))
    # THEN hers went, the stranger's stayed, and nothing was left unjudged
    assert removed == 1
    assert queue.unreadable == 0
    left = queue._receive_all()
    assert [json.loads(m["Body"])["records"] for m in left] == [[other]]
