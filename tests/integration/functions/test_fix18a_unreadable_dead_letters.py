"""fix18a: records in the ingest dead-letter queue that ``SourceRecord`` does not read, and her erasure.

The neighbours of tests/integration/functions/test_attack18_unreadable_dead_letter.py: her unreadable
record goes and a stranger's unreadable record beside it stays as it was; a record her address is
written in only as a refused value goes too; a record nothing identifying reads in (or a body that
is no ingest message) is left, and the erasure's answer says so (``ok`` false) rather than a silent ok.
Messages are put in the dead-letter queue directly (merge parks such a message there after five
failures: the attack's test walks that path).

The privacy function is deployed with ``INGEST_DEAD_LETTER_QUEUE_URL`` (template.yaml's
PrivacyFunction); ``make_env`` does not set it, so ``with_dead_letter_queue`` wires it as deployed.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from functions import _wiring, privacy, pull
from functions._settings import Settings
from tests.integration.functions.conftest import Env, FakeContext, make_env

HER = "ottoline.vasquez-reyes@example.com"


def with_dead_letter_queue(env: Env, monkeypatch: pytest.MonkeyPatch) -> Env:
    """``env`` whose functions know the ingest dead-letter queue, as template.yaml deploys the
    privacy function (``INGEST_DEAD_LETTER_QUEUE_URL``)."""
    monkeypatch.setenv("INGEST_DEAD_LETTER_QUEUE_URL", env.dlq_url)
    wired = _wiring.Wiring(
        Settings.from_environment(), dynamodb=env.dynamodb, sqs=env.sqs, lambda_client=env.lambda_client
    )
    _wiring.use(wired)
    return dataclasses.replace(env, wiring=wired)


def _pulled(monkeypatch: pytest.MonkeyPatch) -> tuple[Env, dict[str, Any]]:
    """Her record, Bob's and Carla's pulled into one ingest message (taken off the ingest queue)."""
    env = make_env(
        monkeypatch,
        [
            {"id": 1, "email": HER, "first_name": "Ottoline", "last_name": "Vasquez-Reyes"},
            {"id": 2, "email": "bob@example.com", "first_name": "Bob"},
            {"id": 3, "email": "carla@example.com", "first_name": "Carla"},
        ],
        page_size=3,
    )
    env = with_dead_letter_queue(env, monkeypatch)
    pull.handler({"connector": "fake"}, FakeContext())
    [sent] = env.receive()
    env.sqs.delete_message(QueueUrl=env.queue_url, ReceiptHandle=sent["ReceiptHandle"])
    document: dict[str, Any] = json.loads(sent["Body"])
    return env, document


def _record(document: dict[str, Any], source_id: str) -> dict[str, Any]:
    [found] = [r for r in document["records"] if r["source_id"] == source_id]
    return found


def _parked(env: Env) -> list[str]:
    messages = env.receive(env.dlq_url)
    for m in messages:
        env.sqs.change_message_visibility(
            QueueUrl=env.dlq_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
        )
    return [m["Body"] for m in messages]


def _erase(email: str = HER) -> dict[str, Any]:
    answer: dict[str, Any] = privacy.handler(
        {"action": "erase", "email": email, "requested_by": "dpo"}, FakeContext()
    )
    return answer


def test_her_unreadable_record_goes_and_a_strangers_unreadable_record_stays_as_it_was(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN one dead letter holding her record and Carla's, both unreadable (a trait as a number),
    # and Bob's readable one
    env, document = _pulled(monkeypatch)
    _record(document, "1")["traits"]["lifetime_value"] = 1250.5
    carla = _record(document, "3")
    carla["traits"]["lifetime_value"] = 99.5
    env.sqs.send_message(QueueUrl=env.dlq_url, MessageBody=json.dumps(document))
    # WHEN she is erased
    answer = _erase()
    # THEN the answer is ok and counts her record; the message put back holds Bob's record and
    # Carla's exactly as it was (her number still a number), and nothing of hers
    assert answer["ok"] is True, answer
    assert answer["deleted"]["dead_letter_records"] == 1
    [body] = _parked(env)
    left = json.loads(body)["records"]
    assert [r["source_id"] for r in left] == ["2", "3"]
    assert left[1] == carla
    assert "ottoline" not in body.lower()


def test_a_record_naming_her_only_in_a_refused_value_is_taken_out_with_her_address(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a dead letter whose unreadable record has lost its identifiers (another version's shape)
    # but keeps her address as a value normalisation refused
    env, document = _pulled(monkeypatch)
    hers = _record(document, "1")
    hers["identifiers"] = "not a list"
    hers["dropped"] = [{"field": "email", "value": f"Ottoline <{HER}>", "reason": "not an address"}]
    env.sqs.send_message(QueueUrl=env.dlq_url, MessageBody=json.dumps(document))
    # WHEN she is erased
    answer = _erase()
    # THEN it is taken out, Bob's and Carla's stay
    assert answer["ok"] is True, answer
    [body] = _parked(env)
    assert [r["source_id"] for r in json.loads(body)["records"]] == ["2", "3"]
    assert "ottoline" not in body.lower()


@pytest.mark.parametrize(
    "unjudged",
    [
        pytest.param(
            lambda doc: {**doc, "records": [*doc["records"], {"traits": {"tier": 3}}]}, id="no-identifier"
        ),
        pytest.param(lambda doc: "truncated {" + json.dumps(doc)[:40], id="no-ingest-message"),
    ],
)
def test_a_dead_letter_nothing_identifying_reads_in_makes_the_erasure_say_it_is_not_done(
    aws: None, monkeypatch: pytest.MonkeyPatch, unjudged: Any
) -> None:
    # GIVEN a dead letter nothing says whose it is (a record with no source key, identifier or
    # address; a body that is no ingest message), beside her readable record in another message
    env, document = _pulled(monkeypatch)
    strange = unjudged({**document, "records": [_record(document, "2")]})
    env.sqs.send_message(
        QueueUrl=env.dlq_url, MessageBody=strange if isinstance(strange, str) else json.dumps(strange)
    )
    env.sqs.send_message(
        QueueUrl=env.dlq_url, MessageBody=json.dumps({**document, "records": [_record(document, "1")]})
    )
    # WHEN she is erased
    answer = _erase()
    # THEN her record is gone, the unjudged dead letter is left where it was, and the answer says
    # so: not ok, one unreadable dead letter
    assert answer["ok"] is False, answer
    assert answer["outcome"] == "incomplete"
    assert answer["unreadable_dead_letters"] == 1
    assert answer["deleted"]["dead_letter_records"] == 1
    parked = _parked(env)
    assert len(parked) == 1
    assert "ottoline" not in parked[0].lower()
