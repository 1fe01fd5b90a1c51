"""fix20a: a dead-lettered record whose ``source_id`` is a number, and her erasure by record id.

A pull version that wrote the vendor's id as the vendor sent it (HubSpot's and WooCommerce's ids are
JSON numbers) leaves a record ``SourceRecord`` does not read in the ingest dead-letter queue.
``readable_part`` (core.storage.sqs_dead_letters) read its source key only when the id was text, so
such a record read as unnamed: one that held her address still went with her, but one that held no
value of hers (another version's identifiers lost) could not be judged, and her erasure by record id
(``"source": "fake:contact:1"``) left it and answered not ok. Numbers are read as their text, as
normalisation reads a vendor's id (``42`` -> ``"42"``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.storage.sqs_dead_letters import readable_part
from functions import merge, privacy, pull
from tests.integration.functions.conftest import Env, FakeContext, make_env
from tests.integration.functions.test_fix18a_unreadable_dead_letters import _parked, with_dead_letter_queue

HER = "ottoline.vasquez-reyes@example.com"


def _stored_then_dead_lettered(monkeypatch: pytest.MonkeyPatch) -> tuple[Env, dict[str, Any]]:
    """Her record and Bob's pulled and merged (stored), and the message they came in."""
    env = make_env(
        monkeypatch,
        [
            {"id": 1, "email": HER, "first_name": "Ottoline", "last_name": "Vasquez-Reyes"},
            {"id": 2, "email": "bob@example.com", "first_name": "Bob"},
        ],
        page_size=2,
    )
    env = with_dead_letter_queue(env, monkeypatch)
    pull.handler({"connector": "fake"}, FakeContext())
    [sent] = env.receive()
    assert merge.handler(env.sqs_event([sent]), FakeContext()) == {"batchItemFailures": []}
    document: dict[str, Any] = json.loads(sent["Body"])
    return env, document


def _as_another_version_wrote_it(record: dict[str, Any]) -> dict[str, Any]:
    """The record as a pull version that kept the vendor's numeric id and lost its identifiers wrote it."""
    return {**record, "source_id": int(record["source_id"]), "identifiers": []}


@pytest.mark.parametrize("vendor_id", [12, 2**70, 12.0], ids=["int", "big-int", "whole-float"])
def test_a_numeric_source_id_reads_as_its_text(vendor_id: Any) -> None:
    raw = {"source": "woocommerce", "object_type": "customer", "source_id": vendor_id, "identifiers": []}
    part = readable_part(raw)
    assert part is not None
    text = str(int(vendor_id))
    assert part.key == f"woocommerce:customer:{text}"
    assert [i.key for i in part.identifiers] == [f"source#woocommerce:customer:{text}"]


@pytest.mark.parametrize(
    "not_an_id", [True, 1.5, float("nan"), None, [1]], ids=["bool", "fraction", "nan", "null", "list"]
)
def test_a_value_no_vendor_id_reads_as_leaves_the_record_unnamed(not_an_id: Any) -> None:
    raw = {"source": "woocommerce", "object_type": "customer", "source_id": not_an_id, "identifiers": []}
    assert readable_part(raw) is None


def test_her_erasure_by_record_id_takes_her_numeric_id_dead_letter_and_leaves_bobs(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN her record and Bob's stored, and a dead letter of both as another pull version wrote
    # them: the vendor's id a number, no identifier left (nothing of hers but her record id)
    env, document = _stored_then_dead_lettered(monkeypatch)
    records = [_as_another_version_wrote_it(r) for r in document["records"]]
    assert sorted(r["source_id"] for r in records) == [1, 2]
    env.sqs.send_message(QueueUrl=env.dlq_url, MessageBody=json.dumps({**document, "records": records}))
    # WHEN she is erased by her record id
    answer: dict[str, Any] = privacy.handler(
        {"action": "erase", "source": "fake:contact:1", "requested_by": "dpo"}, FakeContext()
    )
    # THEN the answer is ok and counts her dead letter; the message put back holds Bob's record
    # exactly as it was (his id still a number), and nothing was left unjudged
    assert answer["ok"] is True, answer
    assert answer["deleted"]["dead_letter_records"] == 1
    assert "unreadable_dead_letters" not in answer
    [body] = _parked(env)
    left = json.loads(body)["records"]
    assert left == [r for r in records if r["source_id"] == 2]
