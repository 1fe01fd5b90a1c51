"""The sync-state port: where each connector's pulls stand (``SyncState``), what was last pushed to
each destination for each customer (``PushedState``), the records quarantined with their reason
(``QuarantineEntry``), and the store that keeps them (``SyncStateStore``, and ``PushedUnlessErased``
for one that writes push states only while no erasure has written). Re-exported by core.ports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class SyncState:
    """Where one connector's pulls stand. ``version`` guards against two runs advancing one cursor:
    a save made from a stale read fails with ConflictError instead of moving the cursor backwards."""

    connector: str
    cursor: str | None = None
    version: int = 0
    updated_at: datetime | None = None
    report: str = ""
    """The last run's report as JSON, for ``profilesync status`` and dashboards."""


@dataclass(frozen=True, slots=True)
class PushedState:
    """What was last pushed to one destination for one customer: the payload hash and the remote id."""

    customer_id: str
    destination: str
    payload_hash: str
    remote_id: str | None = None
    at: datetime | None = None
    """When it was pushed (None for pushes recorded before the time was kept)."""


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """A record that could not be normalised, kept with its reason until someone fixes the source."""

    connector: str
    key: str
    reason: str
    raw: str
    at: datetime
    subjects: tuple[str, ...] = ()
    """Keyed hashes (core.suppression.keyed_hash) of the identifiers the record's raw values normalise
    to and of its source id: how an erasure finds it, by identifier rather than by searching text."""


class SyncStateStore(Protocol):
    """Cursors, push hashes and quarantine: the bookkeeping of syncs (DESIGN.md's SYNC# and PUSHED#)."""

    def get_sync_state(self, connector: str) -> SyncState:
        """The connector's state; a connector never synced has ``SyncState(connector)``."""
        ...

    def put_sync_state(self, state: SyncState) -> SyncState:
        """Save ``state`` if the stored version is still ``state.version``; return it with the next
        version. Raises ConflictError when another run saved in between."""
        ...

    def get_pushed(self, destination: str, customer_ids: Sequence[str]) -> dict[str, PushedState]:
        """The last push to ``destination`` of each customer; customers never pushed are absent."""
        ...

    def put_pushed(self, states: Sequence[PushedState]) -> None:
        """Remember what was pushed (last write wins: a push is idempotent at the vendor)."""
        ...

    def put_quarantined(self, entries: Sequence[QuarantineEntry]) -> None:
        """Keep quarantined records with their reasons (expiring after the retention period)."""
        ...


@runtime_checkable
class PushedUnlessErased(Protocol):
    """A sync-state store that records push states only while no erasure has written to the store.

    An erasure deletes a person's ``PUSHED#`` items; a push that looked at suppression before the
    erasure and writes after it would leave one (Mailchimp's remote id is the MD5 of her address).
    The write is made only if the store's erasure epoch (core.erasure_epoch) is still ``epoch``, the
    one read before the push last looked at suppression, checked and written atomically."""

    def put_pushed_unless_erased(self, states: Sequence[PushedState], epoch: str) -> bool:
        """Write ``states`` (as ``put_pushed``) if the erasure epoch is ``epoch``; whether it was.
        States already written (a large write made in parts) were written under that epoch."""
        ...


__all__ = ["PushedState", "PushedUnlessErased", "QuarantineEntry", "SyncState", "SyncStateStore"]
