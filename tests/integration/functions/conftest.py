"""The handlers against moto: the table and queues built from template.yaml, a connector fake at the port.

``env`` gives each test a moto account with the template's table and ingest queues, the environment
the template sets, and a ``Wiring`` installed for the handlers, whose Lambda client is a recorder
(moto's Lambda runs functions in Docker, which these tests do not need: they only check that a
continuation was asked for). The connector is ``ListConnector``, an in-memory tool registered as
``fake`` in place of the registry's lookup.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from moto import mock_aws

from core.connector import (
    ConnectorPlugin,
    ConnectorSpec,
    EraseOutcome,
    Payload,
    PushOutcome,
    RawPage,
)
from core.push import enriched_traits, primary_email
from core.schema import Identifier, Profile, RecordDraft
from functions import _wiring
from functions._wiring import Settings, Wiring
from profilesync import registry
from profilesync.embedded import model_aws_semantics
from profilesync.template import create_table, load_template

TABLE = "profilesync-test-profiles"
REGION = "us-east-1"
SPEC = ConnectorSpec(
    name="fake",
    kind="crm",
    description="an in-memory tool for tests",
    default_base_url="https://fake.invalid",
    push_batch_size=50,
)


_NOT_TRAITS = frozenset(
    {"id", "email", "phone", "updated_at", "orders", "object_type", "owner_type", "owner_id", "deleted"}
)


class ListConnector:
    """Serves ``rows`` in pages of ``page_size``; the cursor is the next offset. Records pushes and
    erasures, and rejects the pushes of the customers in ``reject``."""

    spec = SPEC

    def __init__(self, rows: list[dict[str, Any]], page_size: int = 2) -> None:
        self.rows = rows
        self.page_size = page_size
        self.pulled_from: list[str | None] = []
        self.pushed: list[list[Payload]] = []
        self.erased: list[list[Identifier]] = []
        self.reject: set[str] = set()

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        self.pulled_from.append(cursor)
        offset = int(cursor or 0)
        while offset < len(self.rows):
            chunk = self.rows[offset : offset + self.page_size]
            offset += len(chunk)
            yield RawPage(chunk, str(offset))

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        return [
            RecordDraft(
                source="fake",
                object_type=r.get("object_type", "contact"),
                source_id=str(r["id"]),
                updated_at=r.get("updated_at", "2026-01-01T00:00:00Z"),
                emails=r["email"]
                if isinstance(r.get("email"), list)
                else [r["email"]]
                if r.get("email")
                else [],
                phones=[r["phone"]] if r.get("phone") else [],
                traits={k: v for k, v in r.items() if k not in _NOT_TRAITS},
                orders=r.get("orders", []),
                owner_type=r.get("owner_type"),
                owner_id=r.get("owner_id"),
                deleted=bool(r.get("deleted")),  # a row {"id": ..., "deleted": true} is a tombstone
                raw=r,
            )
            for r in page.records
        ]

    def from_profile(self, profile: Profile) -> Payload | None:
        email = primary_email(profile)
        return None if email is None else Payload(profile.customer_id, email, enriched_traits(profile))

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        self.pushed.append(list(payloads))
        return [
            PushOutcome(p.customer_id, ok=False, error="rejected")
            if p.customer_id in self.reject
            else PushOutcome(p.customer_id, ok=True, remote_id=f"r-{p.match_key}")
            for p in payloads
        ]

    def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
        """Forget the rows of each identifier: by record id (``fake:contact:<id>``; an unknown id is
        confirmed absent, as a vendor's 404 does) or by email; a phone cannot be looked up."""
        self.erased.append(list(identifiers))
        outcomes: list[EraseOutcome] = []
        for identifier in identifiers:
            if identifier.kind == "source" and identifier.value.startswith("fake:contact:"):
                row_id = identifier.value.rsplit(":", 1)[1]
                rows = [r for r in self.rows if str(r["id"]) == row_id]
            elif identifier.kind == "email":
                rows = [r for r in self.rows if str(r.get("email", "")).strip().lower() == identifier.value]
            else:
                outcomes.append(EraseOutcome(identifier, found=False, detail="not looked up by phone"))
                continue
            for row in rows:
                self.rows.remove(row)
            outcomes.append(EraseOutcome(identifier, found=bool(rows), absent=identifier.kind == "source"))
        return outcomes

    def close(self) -> None:
        pass

    def pushed_ids(self) -> list[str]:
        return [p.customer_id for batch in self.pushed for p in batch]


class RecordingLambda:
    """Stands in for the Lambda client: records asynchronous invocations and accepts them."""

    def __init__(self) -> None:
        self.invocations: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.invocations.append(kwargs)
        return {"StatusCode": 202}

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(i["Payload"]) for i in self.invocations]


@dataclass
class FakeContext:
    """The LambdaContext attributes Powertools and the handlers read."""

    remaining_ms: int = 600_000
    function_name: str = "profilesync-test-pull"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:profilesync-test-pull"
    aws_request_id: str = "req-0001"
    log_group_name: str = "/aws/lambda/profilesync-test-pull"
    log_stream_name: str = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Env:
    """One test's AWS: clients, queue URLs, the wiring the handlers use, and the fake tool."""

    dynamodb: Any
    sqs: Any
    queue_url: str
    dlq_url: str
    wiring: Wiring
    lambda_client: RecordingLambda
    tool: ListConnector

    def receive(self, url: str | None = None, visibility: int = 30) -> list[dict[str, Any]]:
        """Every message now visible in the queue (not deleted)."""
        out: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=url or self.queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=visibility,
                AttributeNames=["All"],
            ).get("Messages", [])
            if not got:
                return out
            out.extend(got)

    def fail_into_dead_letters(self, body: str, handler: Any, receives: int = 5) -> None:
        """Send ``body`` to the ingest queue and let ``handler`` (merge) fail it on each of
        ``receives`` receives (the template's maxReceiveCount), so SQS moves it to the DLQ."""
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
        for _ in range(receives):
            [message] = self.sqs.receive_message(
                QueueUrl=self.queue_url, VisibilityTimeout=0, AttributeNames=["All"]
            )["Messages"]
            # the whole batch failed: reported as failures (not raised), so Lambda retries it all
            response = handler(self.sqs_event([message]), FakeContext())
            assert response["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
        assert self.receive() == []

    def sqs_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The event Lambda's SQS poller builds from received messages."""
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:ingest",
                    "awsRegion": REGION,
                }
                for m in messages
            ]
        }

    def items(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": TABLE}
        while True:
            page = self.dynamodb.scan(**kwargs)
            out.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def queue_attributes(logical_id: str) -> dict[str, str]:
    """CreateQueue attributes from the template's definition (encryption left out: moto has no KMS key)."""
    props = load_template()["Resources"][logical_id]["Properties"]
    return {
        name: str(props[name])
        for name in ("VisibilityTimeout", "MessageRetentionPeriod", "MaximumMessageSize")
        if name in props
    }


def stream_filter() -> dict[str, Any]:
    """The push event source mapping's filter pattern, from the template."""
    mapping = load_template()["Resources"]["PushStreamMapping"]["Properties"]
    pattern: dict[str, Any] = json.loads(mapping["FilterCriteria"]["Filters"][0]["Pattern"])
    return pattern


def matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style matching for the exact-value patterns the template uses."""
    if isinstance(pattern, list):
        return value in pattern
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            k in value and matches(v, value[k]) for k, v in pattern.items()
        )
    return bool(pattern == value)


class StreamReader:
    """Reads the table's stream through moto, from where the last read stopped, as Lambda would."""

    def __init__(self, dynamodb: Any) -> None:
        self.streams = client("dynamodbstreams")
        self.arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str] = {}

    def records(self) -> list[dict[str, Any]]:
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        out: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            iterator = (
                self._iterators.get(shard_id)
                or self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator)
                out.extend(page["Records"])
                self._iterators[shard_id] = page.get("NextShardIterator") or iterator
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
        return out

    def event(self) -> dict[str, Any]:
        """The next batch Lambda would deliver: new records that pass the template's filter."""
        pattern = stream_filter()
        records = [_jsonable(r) for r in self.records()]
        return {"Records": [{**r, "eventSourceARN": self.arn} for r in records if matches(pattern, r)]}


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    """boto3 parses timestamps; Lambda's event carries numbers (and strings everywhere else)."""
    loaded: dict[str, Any] = json.loads(json.dumps(record, default=lambda v: v.timestamp()))
    return loaded


@cache
def session() -> Any:
    """One boto3 session for every test: moto resets boto3's default session at each start, and a
    new session parses botocore's endpoint data again (~0.5 s); clients of this one stay mocked."""
    import boto3

    return boto3.session.Session(region_name=REGION)


def client(service: str) -> Any:
    from botocore.config import Config

    return session().client(service, config=Config(retries={"max_attempts": 8, "mode": "standard"}))


def make_env(monkeypatch: pytest.MonkeyPatch, rows: list[dict[str, Any]], page_size: int = 2) -> Env:
    dynamodb = client("dynamodb")
    create_table(dynamodb, TABLE)
    sqs = client("sqs")
    dlq_url = sqs.create_queue(QueueName="ingest-dlq", Attributes=queue_attributes("IngestDeadLetterQueue"))[
        "QueueUrl"
    ]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    ingest = load_template()["Resources"]["IngestQueue"]["Properties"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": ingest["RedrivePolicy"]["maxReceiveCount"]}
    queue_url = sqs.create_queue(
        QueueName="ingest",
        Attributes={**queue_attributes("IngestQueue"), "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]

    tool = ListConnector(rows, page_size)
    plugin = ConnectorPlugin(spec=SPEC, build=lambda _settings: tool)
    real_get = registry.get
    monkeypatch.setattr(registry, "get", lambda name: plugin if name == "fake" else real_get(name))
    for name, value in {
        "TABLE_NAME": TABLE,
        "INGEST_QUEUE_URL": queue_url,
        "CONNECTORS": '{"fake": {}}',
        "POWERTOOLS_SERVICE_NAME": "profilesync",
        "POWERTOOLS_METRICS_NAMESPACE": "ProfileSync",
        "PROFILESYNC_AUDIT_SALT": "a-test-salt",
    }.items():
        monkeypatch.setenv(name, value)
    recorder = RecordingLambda()
    wiring = Wiring(Settings.from_environment(), dynamodb=dynamodb, sqs=sqs, lambda_client=recorder)
    _wiring.use(wiring)
    return Env(dynamodb, sqs, queue_url, dlq_url, wiring, recorder, tool)


def people(n: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"id": i, "email": f"P{i}@Example.com", "first_name": f"person{i}", **extra}
        for i in range(start, start + n)
    ]


@pytest.fixture
def aws() -> Iterator[None]:
    model_aws_semantics()
    with mock_aws():
        yield
    _wiring.use(None)


@pytest.fixture
def env(aws: None, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(monkeypatch, people(5))


__all__ = [
    "SPEC",
    "TABLE",
    "Env",
    "FakeContext",
    "ListConnector",
    "RecordingLambda",
    "StreamReader",
    "make_env",
    "matches",
    "people",
    "stream_filter",
]
