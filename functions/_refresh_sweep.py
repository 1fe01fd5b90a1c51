"""The pull function's sweep after a full refresh that walked every page in one invocation.

``core.refresh_sweep`` names the stored records of the connector's completely listed types that the
refresh did not list; their tombstones go to the ingest queue in messages of their own, as the
deletions a tool reports do, and merge retires them (core.retirement) after the refresh's records,
which were queued before. A refresh that needed a continuation (a fresh invocation) sweeps nothing:
its marks are not carried from one invocation to the next (docs/architecture.md, "Records deleted
at the vendor"), unless its connector says the listing had not begun where the invocation resumed
(``listing``: Shopify's bulk operation polled by later runs).
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


def starting_cursor(connector: Connector, event: PullEvent, saved: str | None) -> str | None:
    """Where this invocation pulls from: the saved cursor, or None for a full refresh the event asks
    for (its first hop), unless the saved cursor is a full refresh that has listed nothing yet
    (``refresh_began``: Shopify's bulk operation still running): that one goes on, and no second
    operation is started beside it."""
    if not (event.full_refresh and event.hop == 0):
        return saved
    began = getattr(connector, "refresh_began", None)
    if saved is not None and callable(began) and began(saved) is not None:
        return saved
    return None


def listing(
    connector: Connector, start: str | None, hop: int, now: datetime
) -> tuple[ListedKeys | None, datetime]:
    """Where this invocation marks what a full refresh lists (None when it will not sweep), and the
    moment its listing began (``now``, or earlier: the tombstones of its sweep are dated before it).

    A refresh begun here (no cursor, the first hop) lists from its start. So does one resumed from a
    cursor at which it has listed nothing yet, when its connector says when that listing began
    (``refresh_began(cursor)``, optional: Shopify's bulk operation, started by an earlier run and
    polled since, whose export is read from its first line here)."""
    if not getattr(connector.spec, "refresh_lists", None):
        return None, now
    if start is None and hop == 0:
        return ListedKeys(), now
    began = getattr(connector, "refresh_began", None)
    moment = began(start) if start is not None and callable(began) else None
    if not isinstance(moment, datetime):
        return None, now
    return ListedKeys(), min(moment, now)


def listed_all(connector: Connector, cursor: str | None) -> bool:
    """Whether a full refresh at ``cursor`` has listed every record of its connector's
    ``refresh_lists`` types already (``refresh_listed(cursor)``, optional: Shopify's customers, read
    before its orders), so the sweep need not wait for the rest, which a later run may read."""
    done = getattr(connector, "refresh_listed", None)
    return cursor is not None and callable(done) and done(cursor) is True


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


__all__ = ["listed_all", "listing", "starting_cursor", "sweep_into_queue"]
