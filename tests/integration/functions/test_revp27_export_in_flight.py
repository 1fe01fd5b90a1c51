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
