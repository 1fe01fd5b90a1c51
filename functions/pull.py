"""Pull one connector into the ingest queue: ``{"connector": "hubspot"}`` from its schedule.

    take the connector's lease (or exit: another pull of it is running)
    -> read the cursor -> for each page of connector.pull(cursor):
         map and normalise -> drop the records of erased people (suppressed: counted, never queued)
         -> quarantine the bad records -> pack the good ones into SQS messages
         -> SendMessageBatch, resending failed entries -> save the page's cursor -> renew the lease
         -> little time left? stop here and invoke a fresh pull with the same run id
    -> release the lease (unless a continuation holds it now)

The cursor moves only after every message of the page was accepted by SQS, so a crash anywhere
resends at most one page (merge is idempotent). Records are packed several to a message up to the
256 KB limit (which is also the limit of one SendMessageBatch request); a record that alone is
larger is quarantined with that reason rather than lost or allowed to block the connector.

The continuation is an asynchronous invocation of this same function carrying the run id, which
lets it take over the lease; the lease is renewed first so the schedule cannot slip in between.
If the continuation never runs, the lease expires and the next schedule resumes from the cursor.
Packing the messages and sending them is functions._ingest_queue.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from core.erasure_epoch import forget_if_erased
from core.errors import RetryableError
from core.governance.quality import RunQuality, resume_quality
from core.normalise import read_on_tool_clock
from core.ports import SyncState
from core.redaction import reason_kind
from core.sync import PullReport, quarantine_entries
from core.version_marks import marked_drafts
from functions._ingest_queue import SQS_MAX_BATCH_ENTRIES as SQS_MAX_BATCH_ENTRIES
from functions._ingest_queue import IngestQueueError, IngestSender, batch_messages, pack_messages, sqs_safe
from functions._ingest_queue import SendReport as SendReport
from functions._pull_records import entry as _entry
from functions._pull_records import normalised as _normalise
from functions._pull_records import split_tombstones as _split_tombstones
from functions._refresh_sweep import listed_all, listing, starting_cursor, sweep_into_queue
from functions._wiring import Wiring, metrics_namespace, traced, wiring
from functions.events import PullEvent, deletions_envelope, ingest_envelope

logger = Logger()
metrics = Metrics(namespace=metrics_namespace())


@dataclass
class PullOutcome:
    """What one invocation did; returned by the handler (and visible in the async invocation logs)."""

    connector: str
    run_id: str
    status: str = "done"
    """done, continued (handed over to a fresh invocation), stopped (the next schedule resumes),
    skipped (another pull holds the lease) or lost_lease."""
    hop: int = 0
    pages: int = 0
    pulled: int = 0
    queued: int = 0
    quarantined: int = 0
    suppressed: int = 0
    """Records of erased people met and dropped (never queued, never quarantined)."""
    messages: int = 0
    resent: int = 0
    deletions: int = 0
    """Records the tool reported deleted, queued to be retired (core.retirement)."""
    cursor: str | None = None
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    """The run's data quality so far (core.governance.quality), as kept in the SYNC# report."""
    sweep: dict[str, Any] | None = None
    """A full refresh completed in this invocation: what it did not list (functions._refresh_sweep)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_pull(
    event: PullEvent,
    run_id: str,
    w: Wiring,
    remaining_ms: Callable[[], int],
    continue_with: Callable[[PullEvent], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> PullOutcome:
    """The body of the handler, with its collaborators passed in (tests call it directly too)."""
    name = event.connector
    settings = w.settings
    outcome = PullOutcome(name, run_id, hop=event.hop)
    lease = w.leases.acquire(name, run_id, settings.pull_lease_seconds)
    if lease is None:
        held = w.leases.current(name)
        logger.info(
            "another pull of this connector holds the lease; exiting",
            extra={"holder": held.owner if held else None, "expires_at": held.expires_at if held else None},
        )
        metrics.add_metric(name="PullSkipped", unit=MetricUnit.Count, value=1)
        outcome.status = "skipped"
        return outcome

    handed_over = False
    try:
        connector = w.connector(name)
        state = w.sync_state.get_sync_state(name)
        start = starting_cursor(connector, event, state.cursor)
        listed, started = listing(connector, start, event.hop, datetime.now(UTC))
        report = PullReport(name, cursor_before=start, cursor_after=start, full_refresh=start is None)
        report.quality = quality = resume_quality(name, run_id, state.report)
        prefix, suffix = ingest_envelope(name, run_id)
        gone_prefix, gone_suffix = deletions_envelope(name, run_id)
        sender = IngestSender(
            w.client("sqs"), w.ingest_queue_url, max_bytes=settings.ingest_message_max_bytes, sleep=sleep
        )
        suppression = w.suppression(consistent=False)
        options = w.normalise_options(name)
        stopped_early = False
        # A sweep's deletion messages, and the loop's own time margin (functions._refresh_sweep)
        wrap = (gone_prefix, gone_suffix, settings.ingest_message_max_bytes)
        sweeping = (started, event, sender, wrap, (remaining_ms, settings.pull_time_margin_seconds))
        pages = connector.pull(start)
        try:
            for page in pages:
                forget_if_erased(suppression.store)  # an erasure elsewhere: no value of hers cached
                now = datetime.now(UTC)
                drafts, unpaired = marked_drafts(connector, page)
                report.unpaired_marks += unpaired
                if unpaired:
                    metrics.add_metric(name="MarksUnpaired", unit=MetricUnit.Count, value=unpaired)
                received = len(drafts)
                if listed is not None:
                    listed.add_drafts(drafts)
                # Records the tool deleted travel as deletions, retired at merge (core.retirement).
                drafts, deletions, unusable = _split_tombstones(drafts)
                records, bad = _normalise(drafts, read_on_tool_clock(options, page.read) or options)
                bad.extend(unusable)
                # Records of erased people never enter the queue (nor, so, its dead-letter queue).
                records, suppressed = suppression.split(records)
                parts = [sqs_safe(r.model_dump_json()) for r in records]
                bodies, oversize = pack_messages(parts, prefix, suffix, settings.ingest_message_max_bytes)
                if deletions:
                    gone = [d.model_dump_json() for d in deletions]
                    more, _ = pack_messages(gone, gone_prefix, gone_suffix, settings.ingest_message_max_bytes)
                    bodies = [*bodies, *more]
                entries = quarantine_entries(name, bad, now, suppression, options)
                for index in oversize:
                    size = len(parts[index].encode())
                    entries.append(
                        _entry(
                            name,
                            records[index].key,
                            f"record is {size:,} bytes as JSON, more than one ingest message holds "
                            f"({settings.ingest_message_max_bytes:,}); trim it at the source",
                            parts[index],
                            now,
                            tuple(suppression.hash(i.key) for i in records[index].identifiers),
                        )
                    )
                for entry in entries:
                    report.quarantine_reasons[reason_kind(entry.reason)] += 1
                too_large = set(oversize)
                kept = [r for i, r in enumerate(records) if i not in too_large]
                page_quality = RunQuality(name)
                page_quality.observe(received - len(deletions), kept, (e.reason for e in entries))
                quality.add(page_quality)
                if entries:
                    w.sync_state.put_quarantined(entries)  # durable before the cursor moves past them
                sent = sender.send(bodies)  # returns only once SQS accepted every message

                dropped = len(suppressed) + len(bad) - (len(entries) - len(oversize))
                report.pages += 1
                report.pulled += received
                outcome.deletions += len(deletions)
                report.normalised += len(records) + len(suppressed) - len(oversize)
                report.quarantined += len(entries)
                report.suppressed_quarantined += len(bad) - (len(entries) - len(oversize))
                report.ingest.suppressed += len(suppressed)
                outcome.messages += sent.messages
                outcome.resent += sent.resent
                metrics.add_metric(name="RecordsPulled", unit=MetricUnit.Count, value=received)
                metrics.add_metric(name="RecordsQuarantined", unit=MetricUnit.Count, value=len(entries))
                metrics.add_metric(
                    name="RecordsQueued", unit=MetricUnit.Count, value=len(records) - len(oversize)
                )
                metrics.add_metric(name="RecordsSuppressed", unit=MetricUnit.Count, value=dropped)
                if sent.resent:
                    metrics.add_metric(name="Throttled", unit=MetricUnit.Count, value=sent.resent)
                publish_page_quality(page_quality)

                if page.cursor is not None and page.cursor != report.cursor_after:
                    state = w.sync_state.put_sync_state(
                        SyncState(name, page.cursor, state.version, datetime.now(UTC), report.as_json())
                    )
                    report.cursor_after = page.cursor
                if listed is not None and listed_all(connector, page.cursor):
                    # (the listed types are all read: sweep now, whatever becomes of the rest)
                    report.sweep = sweep_into_queue(connector, w.profiles, listed, *sweeping)
                    outcome.sweep, listed = report.sweep.as_dict(), None
                if not w.leases.renew(name, run_id, settings.pull_lease_seconds):
                    logger.warning("lost the lease (it expired and another pull took it); stopping")
                    outcome.status = "lost_lease"
                    break
                if remaining_ms() < settings.pull_time_margin_seconds * 1000:
                    stopped_early = True
                    break
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()  # a generator left mid-way releases its HTTP response now

        if listed is not None and outcome.status == "done" and not stopped_early:
            report.sweep = sweep_into_queue(connector, w.profiles, listed, *sweeping)
            outcome.sweep = report.sweep.as_dict()
        if outcome.status != "lost_lease":
            # Every invocation that ended well says so, cursor moved or not: the dispatcher measures
            # each instance's freshness from ``last_success_at`` (an idle tool is not a stalled pull).
            finished = datetime.now(UTC).isoformat()
            summary = {**json.loads(report.as_json()), "run_id": run_id, "hop": event.hop}
            summary.update(finished_at=finished, last_success_at=finished)
            state = w.sync_state.put_sync_state(
                SyncState(name, report.cursor_after, state.version, datetime.now(UTC), json.dumps(summary))
            )
        outcome.pages, outcome.pulled, outcome.quarantined = report.pages, report.pulled, report.quarantined
        outcome.queued = report.normalised - report.ingest.suppressed
        outcome.suppressed = report.suppressed
        outcome.cursor = report.cursor_after
        outcome.quarantine_reasons = dict(report.quarantine_reasons.most_common(10))
        outcome.quality = quality.as_dict()
        if outcome.status == "done" and not stopped_early and report.pages:
            publish_run_quality(quality)  # the run is over (the summary above holds its quality)
        if stopped_early:
            moved = report.cursor_after != start
            if not moved:
                # Without a new cursor a continuation would pull the same pages again.
                logger.warning("time ran short but the cursor did not move; the next schedule resumes")
                outcome.status = "stopped"
            elif event.hop >= settings.pull_max_continuations:
                logger.warning(
                    "this run has chained the most invocations allowed; the next schedule resumes",
                    extra={"hop": event.hop, "limit": settings.pull_max_continuations},
                )
                outcome.status = "stopped"
            else:
                # Renew first, so the lease outlives the wait before the continuation starts.
                w.leases.renew(name, run_id, settings.pull_lease_seconds)
                continue_with(event.next_hop(run_id))
                handed_over = True
                outcome.status = "continued"
                metrics.add_metric(name="PullContinued", unit=MetricUnit.Count, value=1)
        return outcome
    finally:
        if not handed_over:
            w.leases.release(name, run_id)


def publish_page_quality(page: RunQuality) -> None:
    """Counts of one page: values dropped from kept records, people-level records, and those of
    them with no granted email consent (the dashboard divides one by the other)."""
    metrics.add_metric(name="ValuesDropped", unit=MetricUnit.Count, value=sum(page.dropped.values()))
    metrics.add_metric(name="PeopleRecords", unit=MetricUnit.Count, value=page.people)
    metrics.add_metric(
        name="RecordsWithoutEmailConsent", unit=MetricUnit.Count, value=page.without_email_consent
    )


def publish_run_quality(quality: RunQuality) -> None:
    """At the end of a run: its quarantine share and, against the last comparable run, the jump.

    The jump is published twice: with the connector dimension (for the dashboard), and without it
    (``service`` only) for the one alarm that watches every connector (template.yaml,
    QuarantineShareJumpAlarm); the run's log line and SYNC# report say which connector it was.
    """
    share = quality.quarantine_share
    if share is not None:
        metrics.add_metric(name="QuarantineShare", unit=MetricUnit.Percent, value=share)
    consent = quality.no_email_consent_share
    if consent is not None:
        metrics.add_metric(name="NoEmailConsentShare", unit=MetricUnit.Percent, value=consent)
    jump = quality.jump
    if jump is None:
        return
    metrics.add_metric(name="QuarantineShareJump", unit=MetricUnit.Percent, value=jump)
    with single_metric(
        name="QuarantineShareJump", unit=MetricUnit.Percent, value=jump, namespace=metrics_namespace()
    ):
        pass
    if quality.alarming:
        logger.warning(
            "quarantine share jumped since the last comparable run",
            extra={
                "share": share,
                "baseline_share": quality.baseline_share,
                "baseline_run": quality.baseline_run,
                "reasons": dict(quality.quarantined.most_common(5)),
            },
        )


def invoke_continuation(w: Wiring, function_name: str, event: PullEvent) -> None:
    """Start a fresh invocation of this function, asynchronously, with the continuation event."""
    payload = event.model_dump_json(exclude_defaults=True).encode()  # defaults left out
    response = w.client("lambda").invoke(FunctionName=function_name, InvocationType="Event", Payload=payload)
    status = response.get("StatusCode")
    if status != 202:
        raise RetryableError(f"Lambda did not queue the continuation of this pull (status {status})")


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(clear_state=True, log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Pull the connector named in the event; see the module docstring."""
    request = PullEvent.model_validate(event)
    run_id = request.run_id or f"{request.connector}-{uuid.uuid4().hex[:12]}"
    logger.set_correlation_id(run_id)
    logger.append_keys(connector=request.connector, hop=request.hop)
    metrics.add_dimension(name="connector", value=request.connector)
    w = wiring()
    try:
        outcome = run_pull(
            request,
            run_id,
            w,
            context.get_remaining_time_in_millis,
            lambda follow_up: invoke_continuation(w, context.function_name, follow_up),
        )
    except Exception:
        # Nothing is lost: the cursor still points at the first page not yet durable.
        metrics.add_metric(name="PullFailed", unit=MetricUnit.Count, value=1)
        logger.exception("pull failed; the next run resumes from the saved cursor")
        raise
    metrics.add_metric(name="PagesPulled", unit=MetricUnit.Count, value=outcome.pages)
    # Not the cursor: a connector's cursor may name records (Shopify's ids at its watermark), and a
    # log line outlives any erasure of them.
    answer = outcome.as_dict()
    logger.info("pull finished", extra={k: v for k, v in answer.items() if k != "cursor"})
    return answer


__all__ = [
    "IngestQueueError",
    "IngestSender",
    "PullOutcome",
    "batch_messages",
    "handler",
    "invoke_continuation",
    "pack_messages",
    "run_pull",
    "sqs_safe",
]

if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    # The cold start's imports are done (functions/__init__.py paused the collector): freeze what they
    # built and collect again (core.runtime). Not when imported elsewhere: that process is not ours.
    from core.runtime import resume_gc

    resume_gc()
