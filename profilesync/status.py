"""``profilesync status``: where each connector instance stands, and what waits in the queues.

For every instance of the configuration document (or, without one, every connector with a saved state):
its last run (when it ended and how), its cursor, its lag (time since its last successful pull, against
its freshness), whether a pull holds its lease now; and, for a deployed stack, the depth of the ingest
queue, its dead-letter queue, the push batches parked in the on-failure queue and the schedule
dead-letter queue. State is read through the ``SyncStateStore`` port (``get_sync_state``), so any store
that implements it serves: the local embedded store of ``profilesync sync`` or DynamoDB.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.config import ProfileSyncConfig
from core.lease import LeaseStore
from core.ports import SyncStateStore

#: The stack's queues, by what ``status`` calls them, and their names' suffix (template.yaml).
QUEUES = {
    "ingest backlog": "ingest",
    "ingest dead letters": "ingest-dlq",
    "push batches parked": "push-failures",
    "schedule dead letters": "schedule-dlq",
}
CURSOR_SHOWN = 40


@dataclass
class InstanceStatus:
    """What ``status`` shows for one instance (``--json`` prints these fields)."""

    instance: str
    vendor: str
    schedule: str
    last_run: str | None = None
    last_status: str | None = None
    pulled: int | None = None
    quarantined: int | None = None
    cursor: str | None = None
    lag_seconds: int | None = None
    freshness_seconds: int | None = None
    stale: bool = False
    running: bool = False


@dataclass
class StatusReport:
    at: str
    instances: list[InstanceStatus] = field(default_factory=list)
    queues: dict[str, int | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def gather(
    config: ProfileSyncConfig,
    state: SyncStateStore,
    *,
    now: datetime,
    names: Sequence[str] = (),
    leases: LeaseStore | None = None,
    queue_depth: Callable[[str], int | None] | None = None,
) -> StatusReport:
    """The status of ``names`` (default: every configured instance) at ``now``."""
    report = StatusReport(at=now.isoformat())
    for name in names or sorted(config.connectors):
        configured = name in config.connectors
        row = InstanceStatus(
            instance=name,
            vendor=config.vendor(name) if configured else name,
            schedule=config.schedule(name).expression if configured else "not configured",
        )
        saved = state.get_sync_state(name)
        summary = _summary(saved.report)
        row.cursor = _shorten(saved.cursor)
        row.last_run = summary.get("finished_at") or (
            saved.updated_at.isoformat() if saved.updated_at else None
        )
        row.last_status = "ok" if summary.get("last_success_at") else ("saved" if saved.updated_at else None)
        row.pulled = summary.get("pulled")
        row.quarantined = summary.get("quarantined")
        success = summary.get("last_success_at") or (
            saved.updated_at.isoformat() if saved.updated_at else None
        )
        if success:
            row.lag_seconds = max(0, int((now - datetime.fromisoformat(success)).total_seconds()))
        freshness = config.freshness(name) if configured else None
        if freshness is not None:
            row.freshness_seconds = int(freshness.total_seconds())
            row.stale = row.lag_seconds is None or row.lag_seconds > row.freshness_seconds
        if leases is not None:
            held = leases.current(name)
            row.running = held is not None and held.expires_at > now.timestamp()
        report.instances.append(row)
    if queue_depth is not None:
        report.queues = {label: queue_depth(suffix) for label, suffix in QUEUES.items()}
    return report


def lines(report: StatusReport) -> list[str]:
    """The human form: one row per instance, then the queues."""
    if not report.instances:
        return ["no connector instances: declare them in profilesync.yaml (docs/configuration.md)"]
    header = (
        f"{'instance':<16} {'vendor':<10} {'last run':<20} {'lag':>8} {'fresh':>6}  {'pulled':>7}  cursor"
    )
    out = [header]
    for row in report.instances:
        last = (row.last_run or "never")[:19].replace("T", " ")
        lag = _duration(row.lag_seconds) if row.lag_seconds is not None else "-"
        fresh = "STALE" if row.stale else ("ok" if row.freshness_seconds else "-")
        pulled = f"{row.pulled:,}" if row.pulled is not None else "-"
        running = " (pulling now)" if row.running else ""
        out.append(
            f"{row.instance:<16} {row.vendor:<10} {last:<20} {lag:>8} {fresh:>6}  {pulled:>7}  "
            f"{row.cursor or '-'}{running}"
        )
    if report.queues:
        out.append("")
        out += [
            f"{label:<24} {depth if depth is not None else '-':>8}" for label, depth in report.queues.items()
        ]
    out += [f"note: {note}" for note in report.notes]
    return out


def as_json(report: StatusReport) -> str:
    return json.dumps(report.as_dict(), indent=2)


def sqs_queue_depth(sqs: Any, stage: str, notes: list[str]) -> Callable[[str], int | None]:
    """Depth (visible + in flight) of the stack's queue ``profilesync-<stage>-<suffix>``; None (with a
    note) when it cannot be read."""

    def depth(suffix: str) -> int | None:
        name = f"profilesync-{stage}-{suffix}"
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            attributes: Mapping[str, str] = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
        except Exception as error:  # no such queue, no permission: say so once and go on
            notes.append(f"queue {name}: {type(error).__name__}")
            return None
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    return depth


def _summary(report: str) -> dict[str, Any]:
    if not report:
        return {}
    try:
        loaded = json.loads(report)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _shorten(cursor: str | None) -> str | None:
    if cursor is None or len(cursor) <= CURSOR_SHOWN:
        return cursor
    return cursor[: CURSOR_SHOWN - 1] + "…"


def _duration(seconds: int) -> str:
    delta = timedelta(seconds=seconds)
    if delta < timedelta(minutes=1):
        return f"{seconds}s"
    if delta < timedelta(hours=1):
        return f"{seconds // 60}m"
    if delta < timedelta(days=2):
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{delta.days}d"


__all__ = ["QUEUES", "InstanceStatus", "StatusReport", "as_json", "gather", "lines", "sqs_queue_depth"]
