"""The pull function's sweep after a full refresh that walked every page in one invocation.

``core.refresh_sweep`` names the stored records of the connector's completely listed types that the
refresh did not list; their tombstones go to the ingest queue in messages of their own, as the
deletions a tool reports do, and merge retires them (core.retirement) after the refresh's records,
which were queued before. A refresh that needed a continuation (a fresh invocation) sweeps nothing:
its marks are not carried from one invocation to the next (docs/architecture.md, "Records deleted
at the vendor").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aws_lambda_powertools import Logger

from core.connector import Connector
from core.ports import ProfileStore
from core.refresh_sweep import ListedKeys, SweepGuard, SweepReport, noted, plan_sweep, sweep_deletions
from functions._ingest_queue import IngestSender, pack_messages
from functions.events import PullEvent

logger = Logger(child=True)


def listing(connector: Connector, start: str | None, hop: int) -> ListedKeys | None:
    """Where this invocation marks what a full refresh lists, or None when it will not sweep."""
    if start is not None or hop != 0 or not getattr(connector.spec, "refresh_lists", None):
        return None
    return ListedKeys()


def sweep_into_queue(
    connector: Connector,
    store: ProfileStore,
    listed: ListedKeys,
    started: datetime,
    event: PullEvent,
    sender: IngestSender,
    envelope: tuple[str, str, int],
    clock: tuple[Callable[[], int], int],
) -> SweepReport:
    """Queue the tombstones of the stored records the completed refresh did not list, in deletion
    messages (``envelope``: their prefix, suffix and largest size), unless the guard refuses or the
    time runs short while the stored records are read (``clock``: the invocation's remaining
    milliseconds and the pull's margin in seconds, as the pull loop reads them); the reason is
    logged and returned in the report. ``event.allow_mass_retirement`` lifts the guard."""
    remaining_ms, margin_seconds = clock

    def in_time() -> bool:
        return remaining_ms() >= margin_seconds * 1000

    name = connector.spec.name
    guard = SweepGuard(allow_mass=event.allow_mass_retirement)
    types = frozenset(connector.spec.refresh_lists)
    report, missing = plan_sweep(store, name, types, listed, guard, in_time)
    noted(report, getattr(connector.spec, "refresh_unswept", ()))
    if report.refused is not None:
        logger.warning("full refresh sweep refused", extra={"reason": report.refused, **report.as_dict()})
        return report
    prefix, suffix, max_bytes = envelope
    for chunk in sweep_deletions(name, missing, started):
        bodies, _ = pack_messages([d.model_dump_json() for d in chunk], prefix, suffix, max_bytes)
        sender.send(bodies)
        report.swept += len(chunk)
    return report


__all__ = ["listing", "sweep_into_queue"]
