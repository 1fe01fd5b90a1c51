"""Lambda's pollers in the local runtime (``profilesync.local``): the ingest queue delivered to merge
(failures made visible again at once, so SQS redelivers them and moves them to the DLQ), and the table
stream's new records delivered to push in batches (retry from the first failure, bisection, the
on-failure destination).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from profilesync.local_lambda import FunctionDef, StageCounts, matches, sqs_event

if TYPE_CHECKING:
    from profilesync.local import LocalRuntime


# --- push: the table's stream ---------------------------------------------------------------------------
def read_stream(rt: LocalRuntime) -> list[dict[str, Any]]:
    """New records of every shard since the last read, oldest first."""
    shards = rt.streams.describe_stream(StreamArn=rt.stream_arn)["StreamDescription"]["Shards"]
    out: list[dict[str, Any]] = []
    for shard in shards:
        shard_id = shard["ShardId"]
        iterator: str | None = (
            rt._iterators.get(shard_id)
            or rt.streams.get_shard_iterator(
                StreamArn=rt.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        )
        while iterator:
            page = rt.streams.get_records(ShardIterator=iterator, Limit=1000)
            out.extend(page["Records"])
            for record in page["Records"]:
                rt._shard_of[record["dynamodb"]["SequenceNumber"]] = shard_id
            rt._iterators[shard_id] = page.get("NextShardIterator") or iterator
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return out


def _event(rt: LocalRuntime, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": list(records)}


def deliver(
    rt: LocalRuntime,
    fn: FunctionDef,
    batch: list[dict[str, Any]],
    counts: StageCounts,
    max_retries: int,
    bisect: bool,
) -> None:
    attempts = 0
    while batch:
        counts.invocations += 1
        try:
            response = rt.invoke(fn.logical_id, _event(rt, batch)) or {}
            failed = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
        except Exception:
            counts.failed_invocations += 1
            if bisect and len(batch) > 1:
                half = len(batch) // 2
                deliver(rt, fn, batch[:half], counts, max_retries, bisect)
                deliver(rt, fn, batch[half:], counts, max_retries, bisect)
                return
            failed = [batch[0]["dynamodb"]["SequenceNumber"]]
        if not failed:
            return
        attempts += 1
        if 0 <= max_retries < attempts:
            _park(rt, batch)
            counts.push_failures_parked += len(batch)
            return
        counts.push_retries += 1
        # Lambda checkpoints before the first failed record and retries from it.
        first = min(
            range(len(batch)),
            key=lambda i: i if batch[i]["dynamodb"]["SequenceNumber"] in failed else len(batch),
        )
        batch = batch[first:]


def _park(rt: LocalRuntime, batch: Sequence[dict[str, Any]]) -> None:
    """What Lambda sends to the on-failure destination: the batch's description, no item data."""
    sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
    body = {
        "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": rt.stream_arn},
        "DDBStreamBatchInfo": {
            "shardId": rt._shard_of.get(sequence[0], ""),
            "streamArn": rt.stream_arn,
            "startSequenceNumber": sequence[0],
            "endSequenceNumber": sequence[-1],
            "batchSize": len(batch),
        },
    }
    rt.sqs.send_message(QueueUrl=rt.push_failure_url, MessageBody=json.dumps(body))


# --- merge: the ingest queue --------------------------------------------------------------------------
def drain_queue(rt: LocalRuntime) -> StageCounts:
    """Deliver the ingest queue to merge until it is empty (failures are redelivered, then DLQ'd)."""
    fn = rt.function_for("IngestQueue")
    batch_size = int(rt.merge_mapping["Properties"].get("BatchSize", 10))
    counts = StageCounts()
    while True:
        messages = rt.sqs.receive_message(
            QueueUrl=rt.queue_url,
            MaxNumberOfMessages=min(batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        counts.invocations += 1
        counts.messages += len(messages)
        event = sqs_event(messages, rt.queue_arn)
        try:
            response = rt.invoke(fn.logical_id, event) or {}
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        except Exception:  # the whole batch failed
            counts.failed_invocations += 1
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        again = [m for m in messages if m["MessageId"] in failed]
        if rt.redeliver:
            for m in list(done):
                if m["MessageId"] not in rt._redelivered and rt._rng.random() < rt.redeliver:
                    rt._redelivered.add(m["MessageId"])
                    done.remove(m)
                    again.append(m)
                    counts.redelivered += 1
        if done:
            rt.sqs.delete_message_batch(
                QueueUrl=rt.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        if again:
            # The visibility timeout ends now rather than in 720 s: SQS delivers them again.
            rt.sqs.change_message_visibility_batch(
                QueueUrl=rt.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(again)
                ],
            )
        rt.progress("merge", f"{counts.messages:,} messages in {counts.invocations:,} invocations")
    counts.dead_lettered = rt.queue_depth(rt.dlq_url)
    return counts


def drain_stream(rt: LocalRuntime) -> StageCounts:
    """Deliver the stream's new records that pass the mapping's filter to push, in batches."""
    fn = rt.function_for("ProfilesTable")
    props = rt.push_mapping["Properties"]
    batch_size = int(props.get("BatchSize", 100))
    max_retries = int(props.get("MaximumRetryAttempts", -1))
    bisect = bool(props.get("BisectBatchOnFunctionError", False))
    counts = StageCounts()
    raw = read_stream(rt)
    counts.stream_records = len(raw)
    wanted: list[dict[str, Any]] = []
    from functions.events import lambda_stream_record

    for record in raw:
        shaped = {**lambda_stream_record(record), "eventSourceARN": rt.stream_arn}
        if not rt.stream_filters or any(matches(p, shaped) for p in rt.stream_filters):
            wanted.append(shaped)
        else:
            counts.filtered_out += 1
    backlog = rt._stream_backlog + wanted
    rt._stream_backlog = []
    start = 0
    while start < len(backlog):
        batch = backlog[start : start + batch_size]
        start += len(batch)
        deliver(rt, fn, batch, counts, max_retries, bisect)
        rt.progress("push", f"{start:,}/{len(backlog):,} profile changes")
    return counts
