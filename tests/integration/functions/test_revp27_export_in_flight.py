"""revP27: her export while a dead letter of hers is in flight, when her customer is found.

attack20's test (test_attack20_dead_letter_in_flight.py) asks her export to say so when the only
thing held of her is a dead letter another reader holds (the answer was ``found: false``). Here her
customer is in the table too, so the answer is ``found: true``: on main it listed no dead letter and
said nothing of the one it could not read, an export that looked whole.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions import merge, privacy
from tests.integration.functions.conftest import FakeContext
from tests.integration.functions.test_fix18a_unreadable_dead_letters import HER, _pulled


def _export() -> dict[str, Any]:
    answer: dict[str, Any] = privacy.handler(
        {"action": "export", "email": HER, "requested_by": "dpo"}, FakeContext()
    )
    return answer


def test_her_found_export_says_a_dead_letter_was_in_flight(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN her customer merged into the table, and a dead letter holding her record again, which an
    # operator has just received to look at (hidden for 30 s)
    env, document = _pulled(monkeypatch)
    env.sqs.send_message(QueueUrl=env.queue_url, MessageBody=json.dumps(document))
    [message] = env.receive()
    assert merge.handler(env.sqs_event([message]), FakeContext())["batchItemFailures"] == []
    env.sqs.send_message(QueueUrl=env.dlq_url, MessageBody=json.dumps(document))
    [looked_at] = env.receive(env.dlq_url, visibility=30)
    # WHEN she asks for her data meanwhile
    answer = _export()
    # THEN her customer is exported, and the answer says one dead letter could not be read
    assert answer["found"] is True, answer
    assert answer["dead_letters"] == [], answer
    assert answer.get("dead_letters_in_flight") == 1, answer
    # AND once the look ends, her export holds the dead letter and says nothing is in flight
    env.sqs.change_message_visibility(
        QueueUrl=env.dlq_url, ReceiptHandle=looked_at["ReceiptHandle"], VisibilityTimeout=0
    )
    again = _export()
    assert [r["source_id"] for r in again["dead_letters"]] == ["1"]
    assert "dead_letters_in_flight" not in again, again


def test_her_export_lists_her_dead_letter_of_another_shape_that_her_erasure_takes_out(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The erasure matches a record ``SourceRecord`` does not read (another pull version's shape: a
    trait as a number) by what its raw values give (core.storage.sqs_dead_letters.readable_part)
    and takes it out; the export read only the records that parse, so it answered ``found: false``
    for the very record the erasure then deleted."""
    # GIVEN a dead letter holding her record with a trait written as a number, Bob's and Carla's
    env, document = _pulled(monkeypatch)
    [hers] = [r for r in document["records"] if r["source_id"] == "1"]
    hers["traits"]["lifetime_value"] = 1250.5
    env.sqs.send_message(QueueUrl=env.dlq_url, MessageBody=json.dumps(document))
    # WHEN she asks for her data
    answer = _export()
    # THEN her record is exported (what reads of it), and nobody else's
    assert answer["found"] is True, answer
    assert [(r["source"], r["source_id"]) for r in answer["dead_letters"]] == [("fake", "1")], answer
    assert HER in json.dumps(answer["dead_letters"])
    # AND her erasure takes out the same record
    erased = privacy.handler({"action": "erase", "email": HER, "requested_by": "dpo"}, FakeContext())
    assert erased["deleted"]["dead_letter_records"] == 1, erased


def test_her_export_says_a_dead_letter_nothing_identifying_reads_in_was_left_unjudged(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Her erasure answers ``unreadable_dead_letters: 1`` (not ok) for a dead letter nothing says
    whose it is (a body that is no ingest message); her export, reading the same queue, said
    nothing of it: an export that looked whole beside an erasure that says it is not."""
    # GIVEN a body that is no ingest message (cut short) in the dead-letter queue, and nothing else
    env, document = _pulled(monkeypatch)
    env.sqs.send_message(QueueUrl=env.dlq_url, MessageBody="truncated {" + json.dumps(document)[:40])
    # WHEN she asks for her data
    answer = _export()
    # THEN nothing of hers is found, and the answer says one dead letter could not be judged
    assert answer["found"] is False, answer
    assert answer.get("unreadable_dead_letters") == 1, answer
    assert "dead_letters_in_flight" not in answer, answer
