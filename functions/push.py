"""Push changed profiles to every destination: triggered by the table's stream.

The event source mapping's FilterCriteria lets through only PROFILE items that were inserted or
modified (template.yaml), so the PUSHED# items this function writes never trigger it again. A batch
is handled as a whole: the changed customers are grouped, their live profiles loaded once
(``core.sync.changed_profiles`` follows merges to the survivor), and each destination gets one
``core.sync.push_profiles`` call, which skips payloads whose hash was already pushed and sends the
rest in the vendor's batch size.

Failures map back to stream records: a record fails when a push of its customer failed, or when a
destination could not be reached at all. Powertools' BatchProcessor reports them
(``ReportBatchItemFailures``); Lambda retries from the first failed record, bisecting a failing
batch, and after ``MaximumRetryAttempts`` sends the batch's description to the on-failure queue.
A retry re-pushes nothing that already arrived, because of the hashes.

Nothing parked there is lost: once the destination is healthy again, invoke the function with
``{"action": "redrive"}``. It reads each parked batch description, fetches that range of the stream
again (``AT_SEQUENCE_NUMBER``; the stream keeps 24 hours), pushes those customers' live profiles,
and deletes the message only when every destination took them. A batch that fails again, or whose
range the stream no longer holds, stays in the queue and is reported.

``{"action": "reconcile"}`` is the catch-all: it scans every live profile, page by page, and pushes
each one whose payload differs from what that destination last took (an unchanged one costs no
call). Use it after the stream's 24 hours have passed, after adding a destination, or whenever in
doubt. It stops while time is left, and answers ``"done": false`` with the ``"next"`` key: invoke it
again with ``{"action": "reconcile", "start": <next>}`` to go on from there.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from core.push_suppression import PushSuppression
from core.schema import Profile
from core.sync import PushReport, changed_profiles, push_profiles
from functions._wiring import Wiring, metrics_namespace, traced, wiring
from functions.events import StreamChange, lambda_stream_record

logger = Logger()
metrics = Metrics(namespace=metrics_namespace())
# A batch whose every record failed (a destination down) is reported like any partial failure:
# raising instead would make Lambda count a function error, and Powertools formats the whole chain
# of record exceptions into that error's message, which takes minutes for a batch of 100.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


class PushFailedError(Exception):
    """A stream record whose customer could not be pushed to every destination (it is retried)."""


def changed_customers(records: Iterable[dict[str, Any]]) -> list[str]:
    """The customers whose PROFILE items changed, each once; unreadable records are left to fail alone."""
    found: set[str] = set()
    for raw in records:
        try:
            customer = StreamChange.model_validate(raw).customer_id
        except ValidationError:
            continue
        if customer is not None:
            found.add(customer)
    return sorted(found)


def _emit(name: str, value: float, destination: str) -> None:
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=value,
        namespace=metrics_namespace(),
        default_dimensions={"destination": destination},
    ):
        pass


def push_changes(w: Wiring, customers: list[str]) -> tuple[set[str], dict[str, PushReport]]:
    """Push the live profiles of ``customers`` to every destination; return the customers to retry."""
    if not customers:
        return set(), {}
    w.forget_if_erased()  # an erasure elsewhere: no value of hers cached (core.erasure_epoch)
    profiles = changed_profiles(w.profiles, customers)
    live = {p.customer_id for p in profiles}
    failed, reports = push_everywhere(w, profiles, customers)
    if failed:
        # A record of a merged-away customer stands for its survivor, whose id is the one that failed.
        failed.update(c for c in customers if c not in live)
    return failed, reports


def push_everywhere(
    w: Wiring, profiles: list[Profile], customers: Iterable[str]
) -> tuple[set[str], dict[str, PushReport]]:
    """Push ``profiles`` to every destination; return the customers that failed somewhere (all of
    ``customers`` for a destination that could not be reached at all) and each destination's report."""
    failed: set[str] = set()
    reports: dict[str, PushReport] = {}
    # A profile that holds an erased person's identifier (a record that raced the erasure) is
    # never sent to any tool (core.suppression); it is reported, not failed, so it is not retried.
    # One strongly consistent read of every profile's identifiers, shared by every destination and
    # batch: each of their checks reads the erasure epoch and reads again only when it moved
    # (core.push_suppression).
    check = PushSuppression(w.suppression(consistent=True))
    blocked = check.blocked(profiles) if profiles else set()
    if blocked:
        profiles = [p for p in profiles if p.customer_id not in blocked]
        metrics.add_metric(name="PushSuppressed", unit=MetricUnit.Count, value=len(blocked))
        logger.warning(
            "profiles holding a suppressed identifier were not pushed",
            extra={"customers": sorted(blocked)[:20], "count": len(blocked)},
        )
    for destination in w.destinations():
        try:
            # Each batch is checked again just before it is sent: a person erased while this push
            # runs is not created again at a tool her erasure just asked.
            report = push_profiles(
                w.connector(destination),
                profiles,
                w.sync_state,
                mode=w.push_mode(destination),
                suppression=check,
            )
        except Exception:  # one unreachable tool must not stop the others; its records are retried
            logger.exception("push to a destination failed", extra={"destination": destination})
            _emit("PushErrors", 1, destination)
            failed.update(customers)
            continue
        reports[destination] = report
        failed.update(f.customer_id for f in report.failed)
        _emit("ProfilesPushed", report.pushed, destination)
        _emit("PushCreated", report.created, destination)
        _emit("PushUpdated", report.updated, destination)
        _emit("PushSkippedByMode", report.skipped_by_mode, destination)
        _emit("PushSkippedByConsent", report.skipped_by_consent, destination)
        if report.skipped_retired:
            _emit("PushSkippedRetired", report.skipped_retired, destination)
        if report.suppressed:
            _emit("PushSuppressed", report.suppressed, destination)
        if report.refused or report.skipped_refused:
            # Refused for good (not failed: not retried until the person's address changes).
            _emit("PushRefused", len(report.refused), destination)
            _emit("PushSkippedRefused", report.skipped_refused, destination)
        _emit("PushSkippedUnchanged", report.skipped_unchanged, destination)
        _emit("PushFailed", len(report.failed), destination)
        if report.retried:
            _emit("Throttled", report.retried, destination)
        for failure in report.failed[:5]:
            logger.warning(
                "a profile was not accepted by a destination",
                # The vendor's error text is left out: it may quote the person's email.
                extra={
                    "destination": destination,
                    "customer_id": failure.customer_id,
                    "retryable": failure.retryable,
                },
            )
    return failed, reports


def _stream_range(streams: Any, info: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream records of one parked batch, from its first to its last sequence number."""
    start, end = str(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    iterator: str | None = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=start,
    )["ShardIterator"]
    out: list[dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        for record in page["Records"]:
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return out
            out.append(record)
        if not page["Records"]:
            break
        iterator = page.get("NextShardIterator")
    return out


def redrive(w: Wiring, *, max_messages: int = 100) -> dict[str, Any]:
    """Push again what the on-failure queue holds; see the module's docstring."""
    url = w.settings.push_failure_queue_url
    if not url:
        raise ValueError("PUSH_FAILURE_QUEUE_URL is not set: it names the push on-failure queue")
    sqs, streams = w.client("sqs"), w.client("dynamodbstreams")
    report: dict[str, Any] = {"redriven": 0, "kept": 0, "customers": 0, "problems": []}
    kept: list[str] = []
    seen = 0
    while seen < max_messages:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(10, max_messages - seen), VisibilityTimeout=900
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            seen += 1
            try:
                info = json.loads(message["Body"])["DDBStreamBatchInfo"]
                records = _stream_range(streams, info)
            except (KeyError, TypeError, ValueError):
                problem = "not a stream batch description; inspect it and delete it by hand"
            except Exception as error:  # trimmed or expired range, unknown shard
                logger.warning("a parked batch could not be read back", extra={"error": str(error)})
                problem = (
                    "the stream no longer holds this range (it keeps 24 hours): run "
                    '{"action": "reconcile"} to push every profile that differs, then delete this message'
                )
            else:
                customers = changed_customers(lambda_stream_record(r) for r in records)
                failed, _ = push_changes(w, customers)
                report["customers"] += len(customers)
                if not failed:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    report["redriven"] += 1
                    continue
                problem = f"{len(failed)} customer(s) still failed; it stays parked"
            report["kept"] += 1
            report["problems"].append({"message_id": message["MessageId"], "problem": problem})
            kept.append(message["ReceiptHandle"])
    for receipt in kept:  # hidden while this run went through the queue; visible again for the next
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0)
    logger.info("redrive finished", extra={k: v for k, v in report.items() if k != "problems"})
    return report


#: How many failed customer ids a reconcile report lists (the count covers them all).
_REPORTED_FAILURES = 20


def reconcile(
    w: Wiring,
    *,
    start: Mapping[str, Any] | None = None,
    max_pages: int | None = None,
    items_per_page: int | None = None,
    time_left_ms: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """Push every live profile whose payload differs from the last one each destination took.

    Goes through the table page by page from ``start`` (a ``"next"`` key of an earlier answer). It
    stops after ``max_pages``, or before a page when the time left (``time_left_ms``, the Lambda
    context's) is under twice the longest page so far plus 10 seconds, and answers ``"done": false``
    with the ``"next"`` key to go on from. Failed customers are counted and listed (the first 20);
    their hashes are not saved, so the next reconcile or change pushes them again.
    """
    report: dict[str, Any] = {
        "done": False,
        "next": None,
        "pages": 0,
        "profiles": 0,
        "pushed": {},
        "people_created": {},
        "skipped_unchanged": {},
        "skipped_by_mode": {},
        "skipped_by_consent": {},
        "failed": 0,
        "failed_customers": [],
    }
    longest = 0.0
    began = time.monotonic()
    for profiles, next_key in w.profiles.profile_pages(start, items_per_page=items_per_page):
        report["pages"] += 1
        report["profiles"] += len(profiles)
        if profiles:
            w.forget_if_erased()  # each page: an erasure elsewhere meanwhile (core.erasure_epoch)
            failed, reports = push_everywhere(w, profiles, [p.customer_id for p in profiles])
            for destination, pushed in reports.items():
                for key, value in (
                    ("pushed", pushed.pushed),
                    ("people_created", pushed.created),
                    ("skipped_unchanged", pushed.skipped_unchanged),
                    ("skipped_by_mode", pushed.skipped_by_mode),
                    ("skipped_by_consent", pushed.skipped_by_consent),
                ):
                    report[key][destination] = report[key].get(destination, 0) + value
            report["failed"] += len(failed)
            room = _REPORTED_FAILURES - len(report["failed_customers"])
            report["failed_customers"].extend(sorted(failed)[: max(0, room)])
        ended = time.monotonic()  # a page's time: its scan and its pushes
        longest, began = max(longest, ended - began), ended
        if next_key is None:
            break
        out_of_pages = max_pages is not None and report["pages"] >= max_pages
        out_of_time = time_left_ms is not None and time_left_ms() < (2 * longest + 10) * 1000
        if out_of_pages or out_of_time:
            report["next"] = next_key
            break
    report["done"] = report["next"] is None
    logger.info(
        "reconcile finished" if report["done"] else "reconcile paused; invoke again with its next key",
        extra={k: v for k, v in report.items() if k not in ("failed_customers", "next")},
    )
    return report


def _reconcile_event(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Check a reconcile event's options and run it."""
    start = event.get("start")
    if start is not None and not (
        isinstance(start, dict) and all(isinstance(v, dict) for v in start.values())
    ):
        raise ValueError('reconcile: "start" must be the "next" key of an earlier reconcile answer')
    options: dict[str, int | None] = {}
    for name in ("max_pages", "items_per_page"):
        value = event.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"reconcile: {name!r} must be a positive whole number, not {value!r}")
        options[name] = value
    return reconcile(
        wiring(),
        start=start,
        max_pages=options["max_pages"],
        items_per_page=options["items_per_page"],
        time_left_ms=context.get_remaining_time_in_millis,
    )


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True, log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Push the profiles changed in this stream batch; report the records to retry.

    ``{"action": "redrive"}`` (invoked by hand) pushes the batches parked in the on-failure queue;
    ``{"action": "reconcile"}`` pushes every profile that differs from what a destination holds.
    """
    if event.get("action") == "redrive":
        redriven = redrive(wiring(), max_messages=int(event.get("max_messages", 100)))
        metrics.add_metric(name="RedrivenBatches", unit=MetricUnit.Count, value=redriven["redriven"])
        return redriven
    if event.get("action") == "reconcile":
        reconciled = _reconcile_event(event, context)
        metrics.add_metric(name="ReconciledProfiles", unit=MetricUnit.Count, value=reconciled["profiles"])
        return reconciled
    records: list[dict[str, Any]] = event.get("Records", [])
    customers = changed_customers(records)
    failed, reports = push_changes(wiring(), customers)

    def check(record: DynamoDBRecord) -> None:
        customer = StreamChange.model_validate(record.raw_event).customer_id
        if customer is not None and customer in failed:
            raise PushFailedError(f"customer {customer} was not pushed to every destination")

    response: dict[str, Any] = dict(
        process_partial_response(event=event, record_handler=check, processor=processor, context=context)
    )
    metrics.add_metric(name="ProfilesChanged", unit=MetricUnit.Count, value=len(customers))
    logger.info(
        "push batch finished",
        extra={
            "records": len(records),
            "customers": len(customers),
            "failed_records": len(response.get("batchItemFailures", [])),
            "pushed": {d: r.pushed for d, r in reports.items()},
            "people_created": {d: r.created for d, r in reports.items()},
            "skipped_unchanged": {d: r.skipped_unchanged for d, r in reports.items()},
            "skipped_by_mode": {d: r.skipped_by_mode for d, r in reports.items()},
            "skipped_by_consent": {d: r.skipped_by_consent for d, r in reports.items()},
        },
    )
    return response


__all__ = [
    "PushFailedError",
    "changed_customers",
    "handler",
    "processor",
    "push_changes",
    "push_everywhere",
    "reconcile",
    "redrive",
]

if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    # The cold start's imports are done (functions/__init__.py paused the collector): freeze what they
    # built and collect again (core.runtime). Not when imported elsewhere: that process is not ours.
    from core.runtime import resume_gc

    resume_gc()
