"""The ingest dead-letter queue as a ``DeadLetterQueue``: the records its messages hold.

An ingest message (functions.events.IngestMessage) packs the normalised records of one pull page,
several people per message. A message that failed every merge attempt is parked in the DLQ for 14
days. Pull no longer queues suppressed records, but a message parked before an erasure still holds
the person. ``remove`` takes their records out: it receives every message (each one hidden for
``visibility_seconds`` while the queue is read), and a message holding a matching record is replaced
by a message with the other records (or simply deleted when none is left); every other message is
made visible again at once. Nobody else's record is lost, and the queue's alarm still sees them.

SQS has no way to read a queue without receiving from it; a receive samples part of the queue's
servers, so reading continues until a receive comes back empty. The client is injected (a boto3 SQS
client); this module imports neither boto3 nor botocore.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from core.schema import SourceRecord

#: SendMessageBatch, DeleteMessageBatch and ChangeMessageVisibilityBatch take at most 10 entries.
_BATCH = 10


class SQSDeadLetterQueue:
    """``DeadLetterQueue`` over one SQS queue of ingest messages."""

    def __init__(self, client: Any, queue_url: str, *, visibility_seconds: int = 120) -> None:
        self._sqs = client
        self.queue_url = queue_url
        self.visibility_seconds = visibility_seconds

    def _receive_all(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while True:
            got = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=_BATCH,
                VisibilityTimeout=self.visibility_seconds,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not got:
                return messages
            messages.extend(got)

    def _release(self, messages: list[dict[str, Any]]) -> None:
        """Make received messages visible again now (they stay in the queue)."""
        for start in range(0, len(messages), _BATCH):
            self._sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(messages[start : start + _BATCH])
                ],
            )

    def records(self) -> list[SourceRecord]:
        messages = self._receive_all()
        try:
            return [record for m in messages for _, record in _records(m["Body"])]
        finally:
            self._release(messages)

    def remove(self, matches: Callable[[SourceRecord], bool]) -> int:
        messages = self._receive_all()
        untouched: list[dict[str, Any]] = []
        removed = 0
        try:
            for message in messages:
                document, parsed = _document(message["Body"])
                hits = [i for i, record in parsed if matches(record)]
                if document is None or not hits:
                    untouched.append(message)
                    continue
                keep = [r for i, r in enumerate(document["records"]) if i not in set(hits)]
                if keep:
                    # ensure_ascii: every character SQS rejects is escaped, the value is unchanged.
                    body = json.dumps({**document, "records": keep}, ensure_ascii=True, separators=(",", ":"))
                    self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                removed += len(hits)
        finally:
            self._release(untouched)
        return removed


def _document(body: str) -> tuple[dict[str, Any] | None, list[tuple[int, SourceRecord]]]:
    """The message's JSON document and its readable records, each with its index."""
    try:
        document = json.loads(body)
    except ValueError:
        return None, []
    if not isinstance(document, dict) or not isinstance(document.get("records"), list):
        return None, []
    parsed: list[tuple[int, SourceRecord]] = []
    for index, raw in enumerate(document["records"]):
        try:
            parsed.append((index, SourceRecord.model_validate(raw)))
        except ValidationError:
            continue  # an unreadable record stays in the message, as it was
    return document, parsed


def _records(body: str) -> list[tuple[int, SourceRecord]]:
    return _document(body)[1]


__all__ = ["SQSDeadLetterQueue"]
