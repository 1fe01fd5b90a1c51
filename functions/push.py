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
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from core.sync import PushReport, changed_profiles, push_profiles
from functions._wiring import Wiring, metrics_namespace, traced, wiring
from functions.events import StreamChange

logger = Logger()
metrics = Metrics(namespace=metrics_namespace())
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


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
    profiles = changed_profiles(w.profiles, customers)
    live = {p.customer_id for p in profiles}
    failed: set[str] = set()
    reports: dict[str, PushReport] = {}
    for destination in w.destinations():
        try:
            report = push_profiles(w.connector(destination), profiles, w.sync_state)
        except Exception:  # one unreachable tool must not stop the others; its records are retried
            logger.exception("push to a destination failed", extra={"destination": destination})
            _emit("PushErrors", 1, destination)
            failed.update(customers)
            continue
        reports[destination] = report
        failed.update(f.customer_id for f in report.failed)
        _emit("ProfilesPushed", report.pushed, destination)
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
    if failed:
        # A record of a merged-away customer stands for its survivor, whose id is the one that failed.
        failed.update(c for c in customers if c not in live)
    return failed, reports


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Push the profiles changed in this stream batch; report the records to retry."""
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
            "skipped_unchanged": {d: r.skipped_unchanged for d, r in reports.items()},
        },
    )
    return response


__all__ = ["PushFailedError", "changed_customers", "handler", "processor", "push_changes"]
