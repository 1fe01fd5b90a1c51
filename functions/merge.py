"""Merge ingest messages into the profile store: triggered by the ingest queue, in batches.

Each SQS message holds the normalised records of one pull page (see functions.events.IngestMessage)
and goes through ``core.pipeline.ingest`` on its own; a record in it that the store refuses (too
large, malformed: a data error, never a throttle) is quarantined alone and the others are merged
(``core.isolation``). One bad message fails alone: Powertools'
BatchProcessor reports it in ``batchItemFailures`` (the event source mapping has
``ReportBatchItemFailures``), SQS delivers it again after the visibility timeout, and after the
queue's ``maxReceiveCount`` its redrive policy moves it to the dead-letter queue, whose depth
raises an alarm. A message is never dropped: it is either merged, retried, or parked in the DLQ.
Ingest is idempotent, so a message delivered twice changes nothing the second time.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from core.isolation import ingest_isolating
from core.pipeline import IngestResult, IngestSettings
from core.quarantine import refused_entries
from functions._wiring import metrics_namespace, traced, wiring
from functions.events import IngestMessage

if TYPE_CHECKING:
    from core.link_scope import LinkageSettings

logger = Logger()
metrics = Metrics(namespace=metrics_namespace())
# Every message failing is reported like a partial failure (see functions.push for why not raise).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def identity_linkage() -> LinkageSettings | None:
    """The configuration document's ``identity`` section as ingest settings, read once per cold
    start (core.link_settings caches the model); None: exact identifiers.

    Read only when ``IDENTITY_MODE`` is ``probabilistic``: in exact mode merge's cold start loads
    neither the document (YAML, its models) nor the matcher (tests/unit/functions/test_cold_start)."""
    if os.environ.get("IDENTITY_MODE", "exact").strip() != "probabilistic":
        return None
    from core.link_settings import linkage_settings

    document = wiring().settings.document
    path = os.environ.get("PROFILESYNC_CONFIG", "").strip()
    if path and not Path(path).is_absolute():
        path = str(Path(os.environ.get("LAMBDA_TASK_ROOT", "") or os.getcwd()) / path)
    return linkage_settings(document.identity, Path(path).parent if path else None)


def merge_message(record: SQSRecord, totals: IngestResult) -> None:
    """Ingest the records of one message; raise (so the message is retried) if it cannot be read."""
    try:
        message = IngestMessage.model_validate_json(record.body)
    except ValidationError as error:
        # include_input=False: the body holds personal data, which has no place in logs.
        logger.error(
            "unreadable ingest message: it is retried and then moved to the dead-letter queue",
            extra={
                "message_id": record.message_id,
                "receive_count": record.attributes.approximate_receive_count,
                "errors": error.errors(include_input=False, include_url=False)[:5],
            },
        )
        raise
    # The pull run that sent the message is the correlation id of what merge logs about it.
    logger.set_correlation_id(message.run_id)
    w = wiring()
    suppression = w.suppression()
    # Records of erased people are dropped before anything is stored (core.suppression); pull drops
    # them too, and this catches the ones queued before the erasure or pulled while it ran.
    # A record the store refuses is quarantined alone (durably, before the message is deleted);
    # the other records of the message are merged, and the message succeeds.
    settings = IngestSettings(
        suppression=suppression,
        actor=f"run:{message.connector}:{message.run_id}",
        linkage=identity_linkage(),
    )
    result, refused = ingest_isolating(message.records, w.profiles, settings)
    totals.add(result)
    if message.deletions:
        retire_message(message, w.profiles, w.erasure, settings, totals, w.sync_state)
    if refused:
        w.sync_state.put_quarantined(
            refused_entries(message.connector, refused, datetime.now(UTC), suppression)
        )
        metrics.add_metric(name="RecordsQuarantined", unit=MetricUnit.Count, value=len(refused))
        logger.warning(
            "records the store refused were quarantined; the rest of the message was merged",
            extra={"message_id": record.message_id, "quarantined": len(refused)},
        )
    logger.debug(
        "merged message",
        extra={
            "message_id": record.message_id,
            "run_id": message.run_id,
            "connector": message.connector,
            "records": result.received,
            "written": result.written,
        },
    )


def retire_message(
    message: IngestMessage,
    profiles: Any,
    erasure: Any,
    settings: IngestSettings,
    totals: IngestResult,
    sync_state: Any = None,
) -> None:
    """Retire the records the tool reported deleted (core.retirement): gone from their customers,
    who are then pushed like any changed customer. A customer that kept changing raises
    ConflictError, so the message is retried (a deletion applies once)."""
    from core.retirement import retire_records

    retired = retire_records(message.deletions, profiles, erasure, settings, pushed=sync_state)
    totals.customers |= retired.customers
    totals.split_customers += retired.split_customers
    totals.unsplit.extend(retired.unsplit)
    metrics.add_metric(name="RecordsRetired", unit=MetricUnit.Count, value=retired.retired)
    logger.info(
        "retired records the tool deleted",
        extra={"run_id": message.run_id, "connector": message.connector, **retired.as_dict()},
    )


def publish_refusals(totals: IngestResult) -> None:
    """Identifiers the guardrails refused to match on, per source (the data quality of each tool):
    one metric per source, with the ``connector`` dimension the pull's quality metrics carry."""
    by_source = Counter(hit.record_key.partition(":")[0] for hit in totals.guardrail_hits)
    for source, count in sorted(by_source.items()):
        with single_metric(
            name="IdentifiersRefused",
            unit=MetricUnit.Count,
            value=count,
            namespace=metrics_namespace(),
            default_dimensions={"connector": source},
        ):
            pass


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True, log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Merge every message of the batch; report the ones that failed so only they are retried."""
    totals = IngestResult()
    try:
        response: dict[str, Any] = dict(
            process_partial_response(
                event=event,
                record_handler=lambda record: merge_message(record, totals),
                processor=processor,
                context=context,
            )
        )
    except BatchProcessingError:
        # Every message failed: Lambda retries the whole batch (and the redrive policy bounds it).
        metrics.add_metric(name="MessagesFailed", unit=MetricUnit.Count, value=len(event.get("Records", [])))
        raise
    failed = len(response.get("batchItemFailures", []))
    metrics.add_metric(name="RecordsMerged", unit=MetricUnit.Count, value=totals.written)
    metrics.add_metric(name="RecordsUnchanged", unit=MetricUnit.Count, value=totals.unchanged + totals.stale)
    metrics.add_metric(name="NewCustomers", unit=MetricUnit.Count, value=totals.new_customers)
    metrics.add_metric(name="Merges", unit=MetricUnit.Count, value=totals.merged_customers)
    metrics.add_metric(name="MessagesFailed", unit=MetricUnit.Count, value=failed)
    if totals.suppressed:
        metrics.add_metric(name="RecordsSuppressed", unit=MetricUnit.Count, value=totals.suppressed)
    if totals.guardrail_hits:
        metrics.add_metric(name="GuardrailHits", unit=MetricUnit.Count, value=len(totals.guardrail_hits))
        publish_refusals(totals)
    if totals.split_customers:
        metrics.add_metric(name="Splits", unit=MetricUnit.Count, value=totals.split_customers)
    if totals.unsplit:
        # Stored, but still one customer: core.split.split_customer says why (a race, or a group
        # of records too large to move in one transaction).
        metrics.add_metric(name="SplitsDeferred", unit=MetricUnit.Count, value=len(totals.unsplit))
        logger.warning(
            "customers whose records no longer share an identifier were not split",
            extra={"customers": totals.unsplit[:20], "count": len(totals.unsplit)},
        )
    logger.info(
        "merge batch finished",
        extra={
            "messages": len(event.get("Records", [])),
            "failed": failed,
            "received": totals.received,
            "written": totals.written,
            "suppressed": totals.suppressed,
            "new_customers": totals.new_customers,
            "merged_customers": totals.merged_customers,
            "split_customers": totals.split_customers,
        },
    )
    return response


__all__ = ["handler", "merge_message", "processor", "publish_refusals", "retire_message"]

if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    # The cold start's imports are done (functions/__init__.py paused the collector): freeze what they
    # built, and since this process does nothing but ingest, collect less often (see core.runtime).
    # Not when imported elsewhere (tests, the local runtime): their process.
    from core.runtime import resume_gc

    resume_gc(bulk=True)
