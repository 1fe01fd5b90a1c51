"""robust4: the merge handler's report counts each record once when the store refuses some of them.

DynamoDB writes a message's changesets in several transactions; a refused record fails its
transaction after others were written. Its record is quarantined alone and the rest ingested again
(core.isolation): the records already written are reported merged, not unchanged, and their
customers new (the metrics Powertools emits for the batch).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions import merge
from functions.events import IngestMessage
from tests.conftest import make_record
from tests.integration.functions.conftest import Env, FakeContext


def _message(env: Env, records: list[Any], run_id: str) -> None:
    body = IngestMessage(connector="fake", run_id=run_id, records=tuple(records)).model_dump_json()
    env.sqs.send_message(QueueUrl=env.queue_url, MessageBody=body)


def _metrics(printed: str) -> dict[str, float]:
    """The batch's metrics, summed over the EMF lines Powertools printed."""
    totals: dict[str, float] = {}
    for line in printed.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values = value if isinstance(value, list) else [value]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(values)
    return totals


def test_the_merge_report_counts_written_records_once_when_a_record_is_refused(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN 10 people merged already, then a batch of three messages: the 10 again with 20 new
    # people; 40 new people between two records DynamoDB refuses (ids of 1,500 bytes); and 20 of
    # those people again with the two refused records
    people = [
        make_record("fake", f"q{n:03d}{half}", email=f"q{n}@example.com") for n in range(70) for half in "ab"
    ]
    _message(env, people[:20], "run-0")
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    capsys.readouterr()
    poison = [make_record("fake", p + "b" * 1500, email=f"{p}@poison.example.com") for p in ("a", "z")]
    _message(env, people[:60], "run-1")
    _message(env, [poison[0], *people[60:], poison[1]], "run-1")
    _message(env, [poison[0], *people[60:100], poison[1]], "run-1")
    # WHEN merge handles the batch
    assert merge.handler(env.sqs_event(env.receive()), FakeContext()) == {"batchItemFailures": []}
    # THEN every record is merged once, the 20 known ones unchanged, every new person a new customer
    metrics = _metrics(capsys.readouterr().out)
    assert metrics["RecordsMerged"] == 120
    assert metrics["RecordsUnchanged"] == 20 + 40  # the 10 people known, and the 20 sent again
    assert metrics["NewCustomers"] == 60
    assert metrics["RecordsQuarantined"] == 4
    # AND the store holds all 70 people, the refused records quarantined with the store's reason
    assert len(list(env.wiring.profiles.iter_profiles())) == 70
    entries = env.wiring.sync_state.quarantined("fake")
    assert sorted(e.key.removeprefix("fake:contact:")[0] for e in entries) == [
        "a",
        "a",
        "z",
        "z",
    ]  # one per message that sent it
    assert all(e.reason.startswith("could not be stored: RecordRejectedError") for e in entries)
