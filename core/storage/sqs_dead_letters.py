"""The ingest dead-letter queue as a ``DeadLetterQueue``: the records its messages hold.

An ingest message (functions.events.IngestMessage) packs the normalised records of one pull page,
several people per message. A message that failed every merge attempt is parked in the DLQ for 14
days. Pull no longer queues suppressed records, but a message parked before an erasure still holds
the person. ``remove`` takes their records out: it receives every message (each one hidden for
``visibility_seconds`` while the queue is read), and a message holding a matching record is replaced
by a message with the other records (or simply deleted when none is left); every other message is
made visible again at once. Nobody else's record is lost, and the queue's alarm still sees them.

The messages the queue holds are mostly those merge could not read: a record ``SourceRecord`` does
not read (another pull version's trait written as a number) is still matched, by what its raw values
give, as core.quarantine keys a refused record: its source key (a vendor's numeric id read as its
text, ``id_text``), its identifiers' values (``record_keys``) and every address written in it, with
its string traits (``readable_part``). One
from which nothing identifying can be read, or a body that is no ingest message at all, cannot be
judged: ``remove`` leaves it and counts it in ``unreadable`` (core.privacy makes the erasure's answer
say so, ``ok`` false), and one naming a matching address in a body that is no ingest message is
counted so too (it cannot be taken out without the records beside it).

SQS has no way to read a queue without receiving from it; a receive samples part of the queue's
servers, so reading continues until a receive comes back empty. A message someone else has received
(an operator polling the queue in the console, a redrive, another privacy request reading it) is
hidden from every receiver for its visibility timeout, and an empty receive says nothing of it. So
after the empty receive the queue's ``ApproximateNumberOfMessagesNotVisible`` is read, less the
messages this read holds itself: the rest are in flight, may be hers, and are counted in
``in_flight`` (core.privacy makes an erasure's answer say so, ``ok`` false, and an export's answer
too: the request is to be made again once they are visible). The figure is approximate (SQS's own
word: it may lag a message received or released in the last seconds), never a proof of none.

The client is injected (a boto3 SQS client); this module imports neither boto3 nor botocore.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import ValidationError

from core.quarantine import record_keys, refused_emails
from core.schema import Identifier, SourceRecord

#: SendMessageBatch, DeleteMessageBatch and ChangeMessageVisibilityBatch take at most 10 entries.
_BATCH = 10


class SQSDeadLetterQueue:
    """``DeadLetterQueue`` over one SQS queue of ingest messages."""

    def __init__(self, client: Any, queue_url: str, *, visibility_seconds: int = 120) -> None:
        self._sqs = client
        self.queue_url = queue_url
        self.visibility_seconds = visibility_seconds
        self.unreadable = 0
        """How many records (or bodies that are no ingest message) the last ``remove`` (or
        ``records``) could not judge, and left in the queue."""
        self.in_flight = 0
        """How many messages the last ``records`` or ``remove`` could not read because another
        reader held them (hidden for its visibility timeout): they may hold the person."""

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
                self.in_flight = max(0, self._not_visible() - len(messages))
                return messages
            messages.extend(got)

    def _not_visible(self) -> int:
        """The queue's messages received and not yet deleted or released (ours included)."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        ).get("Attributes", {})
        return int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))

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
        # those another reader holds are not read: counted by _receive_all (``in_flight``), for the
        # export to say so; and those nothing identifying reads in, as ``remove`` counts them
        try:
            found: list[SourceRecord] = []
            self.unreadable = 0
            for message in messages:
                document, parsed, unread = _document(message["Body"])
                self.unreadable += document is None
                found += [record for _, record in parsed]
                # one of another shape as ``remove`` judges it: what its raw values give
                parts = [readable_part(raw) for _, raw in unread]
                found += [part for part in parts if part is not None]
                self.unreadable += sum(part is None for part in parts)
            return found
        finally:
            self._release(messages)

    def remove(self, matches: Callable[[SourceRecord], bool]) -> int:
        messages = self._receive_all()
        untouched: list[dict[str, Any]] = []
        removed = 0
        # A message someone else received is hidden from every receive until its visibility timeout
        # passes: ``in_flight`` (read by _receive_all) says how many, and the answer says so.
        self.unreadable = 0
        try:
            for message in messages:
                document, parsed, unread = _document(message["Body"])
                if document is None:  # no ingest message: nothing can be taken out of it alone
                    self.unreadable += 1
                    untouched.append(message)
                    continue
                hits = {i for i, record in parsed if matches(record)}
                for index, raw in unread:
                    part = readable_part(raw)
                    if part is None:
                        self.unreadable += 1
                    elif matches(part):
                        hits.add(index)
                if not hits:
                    untouched.append(message)
                    continue
                keep = [r for i, r in enumerate(document["records"]) if i not in hits]
                if keep:
                    # ensure_ascii: every character SQS rejects is escaped, the value is unchanged.
                    body = json.dumps({**document, "records": keep}, ensure_ascii=True, separators=(",", ":"))
                    self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                removed += len(hits)
        finally:
            self._release(untouched)
        return removed


def _document(
    body: str,
) -> tuple[dict[str, Any] | None, list[tuple[int, SourceRecord]], list[tuple[int, Any]]]:
    """The message's JSON document (None: no ingest message), its readable records and the raw
    records ``SourceRecord`` does not read, each with its index."""
    try:
        document = json.loads(body)
    except ValueError:
        return None, [], []
    if not isinstance(document, dict) or not isinstance(document.get("records"), list):
        return None, [], []
    parsed: list[tuple[int, SourceRecord]] = []
    unread: list[tuple[int, Any]] = []
    for index, raw in enumerate(document["records"]):
        try:
            parsed.append((index, SourceRecord.model_validate(raw)))
        except ValidationError:
            unread.append((index, raw))
    return document, parsed, unread


_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)
#: Whole floats up to this are exact: a larger one may be another integer than the vendor's id.
_EXACT_FLOAT: Final = 2**53


def id_text(value: Any) -> str | None:
    """A vendor's id as the record's key holds it: text as given, an integer as its digits (HubSpot's
    and WooCommerce's ids are JSON numbers, and normalisation reads ``42`` as ``"42"``), a whole
    number written as a float (``42.0``) as the integer's; None for anything else (a boolean, a
    fraction, a list, null: no id)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() <= 128:
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT_FLOAT:
        return str(int(value))
    return None


def readable_part(raw: Any) -> SourceRecord | None:
    """What identifies a record ``SourceRecord`` does not read, as a record a matcher can judge: its
    source key (when its ``source`` and ``object_type`` are text and its ``source_id`` is text or a
    number, read as text: ``id_text``), the identifiers of its dump that read
    (``core.quarantine.record_keys``), every address written anywhere in it, and its text traits
    (for a fuzzy matcher). None when none of these is there: nothing says whose it is."""
    fields = raw if isinstance(raw, dict) else {}
    source_id = id_text(fields.get("source_id"))
    named = source_id is not None and all(isinstance(fields.get(f), str) for f in ("source", "object_type"))
    # its source key with the id read as text (record_keys reads a text id only)
    keys = [f"source#{fields['source']}:{fields['object_type']}:{source_id}"] if named else []
    keys += record_keys(raw)
    text = json.dumps(raw, ensure_ascii=False, default=str)
    keys += [f"email#{email}" for email in refused_emails(text)]
    identifiers: dict[str, Identifier] = {}
    for key in keys:
        try:
            identifiers.setdefault(key, Identifier.from_key(key))
        except (ValidationError, ValueError):
            continue  # a mailbox# key: the matcher reads an email's mailbox itself
    if not identifiers and not named:
        return None
    traits = fields.get("traits")
    part = {
        "source": fields["source"] if named else "unreadable",
        "object_type": fields["object_type"] if named else "record",
        "source_id": source_id if named else "unreadable",
        "updated_at": _NO_TIME,
        "identifiers": list(identifiers.values()),
        "traits": {k: v for k, v in traits.items() if isinstance(v, str)} if isinstance(traits, dict) else {},
    }
    try:
        return SourceRecord.model_validate(part)
    except ValidationError:  # a trait name or value the model refuses: the identifiers alone
        return SourceRecord.model_validate({**part, "traits": {}})


__all__ = ["SQSDeadLetterQueue", "id_text", "readable_part"]
