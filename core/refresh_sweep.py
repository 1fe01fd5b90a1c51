"""A full refresh that completes retires the stored records it did not list (mark and sweep).

A record deleted inside the vendor without a trace a pull can read (HubSpot's GDPR delete,
Mailchimp's ``delete-permanent``, a WooCommerce customer deleted with ``force=true``) is simply no
longer listed. Only a full refresh (``pull(None)``) lists every record of the object types its
connector declares in ``ConnectorSpec.refresh_lists``; so when one walked every page with no error
and was not cut short, the stored records of those types that it did not list are gone at the vendor.

The mark: ``ListedKeys`` keeps the source key of every draft the refresh received (records,
tombstones and malformed ones alike: each is a record the vendor still names) as a 64-bit hash, 8
bytes each in one ``array`` (8 MB at 1M records; a hash collision can only keep a record, never
retire one). The sweep: ``unlisted`` walks the store's profiles (``ProfileStore.iter_profiles``:
every store answers it; a store that can name its records' keys alone, ``ListsSourceKeys``, does
that instead: DynamoDB, whose pull role may read keys only) and names each stored record of the
connector's source and declared types that the refresh did not list, as a tombstone dated at the
refresh's start less ``CLOCK_MARGIN``. Those go through the one retirement path (core.retirement),
whose rule makes the sweep safe against records created or changed during the refresh: a stored
version newer than a tombstone is kept (the record came back), so a record another run stored while
the refresh walked, changed after the walk passed it, is not retired.

The guard (``SweepGuard``): a vendor that answers an empty list by mistake, or a filter that hides
half the account, must not empty the store. A sweep that would retire more than ``max_fraction``
of the stored records of the stream (and more than ``always_allowed`` of them), or any record after
a refresh that listed none, retires nothing unless ``allow_mass`` is set
(``profilesync sync --full --allow-mass-retirement``; in Lambda, the pull event's
``allow_mass_retirement``); the report says so
(``SweepReport.refused``) and the operator decides.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from core.ports import ProfileStore
from core.schema import RecordDraft, SourceDeletion, source_key

#: Tombstones of a sweep are dated this long before the refresh began: a record the vendor changed
#: just before our clock's start (its clock a little ahead of ours) is kept, and retired by the
#: next refresh if it is really gone.
CLOCK_MARGIN = timedelta(minutes=5)


#: How an operator lets a sweep past the guard, named in its refusal.
ALLOW = "profilesync sync --full --allow-mass-retirement, or the pull event's allow_mass_retirement"


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


def _text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else ""


class ListedKeys:
    """The source keys a refresh listed, as 64-bit hashes in one array (8 bytes a record)."""

    def __init__(self) -> None:
        self._hashes: array[int] = array("Q")
        self._sorted = True
        self._types: Counter[str] = Counter()

    def add(self, key: str) -> None:
        self._hashes.append(_hash(key))
        self._sorted = False

    def add_drafts(self, drafts: Iterable[RecordDraft]) -> None:
        """Mark the records a page named (a draft with no usable id names none)."""
        for draft in drafts:
            # The key normalisation gives the record (core.normalise: ids trimmed, ints as text).
            source, source_id = _text(draft.source), _text(draft.source_id)
            if source and source_id:
                object_type = _text(draft.object_type) or "contact"
                self.add(source_key(source, object_type, source_id))
                self._types[object_type] += 1

    def of_type(self, object_type: str) -> int:
        """How many of the drafts marked by ``add_drafts`` were of ``object_type``."""
        return self._types[object_type]

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if not self._sorted:
            self._hashes = array("Q", sorted(self._hashes))
            self._sorted = True
        wanted = _hash(key)
        at = bisect_left(self._hashes, wanted)
        return at < len(self._hashes) and self._hashes[at] == wanted


@dataclass(frozen=True, slots=True)
class SweepGuard:
    """How much one sweep may retire: at most ``max_fraction`` of the stream's stored records (or
    ``always_allowed`` of them, for a small account), and nothing after a refresh that listed no
    record, unless ``allow_mass``."""

    max_fraction: float = 0.1
    always_allowed: int = 5
    allow_mass: bool = False

    def refusal(self, listed: int, stored: int, unlisted: int) -> str | None:
        """Why a sweep of ``unlisted`` of ``stored`` records after a refresh that listed ``listed``
        must not run, or None when it may."""
        if self.allow_mass or unlisted == 0:
            return None
        if listed == 0:
            return (
                f"the full refresh listed no record while {stored} are stored: a vendor answering an "
                "empty list by mistake must not empty the store; nothing was retired (if the account "
                f"is really empty, run the refresh again allowing it: {ALLOW})"
            )
        if unlisted > self.always_allowed and unlisted > self.max_fraction * stored:
            return (
                f"the full refresh did not list {unlisted} of the {stored} stored records, more than "
                f"{self.max_fraction:.0%}: nothing was retired (check the connector's filter and "
                f"credentials; if they were really deleted, run the refresh again allowing it: {ALLOW})"
            )
        return None

    def refusal_by_type(
        self, listed: ListedKeys, stored: Counter[str], missing: Iterable[tuple[str, str]]
    ) -> str | None:
        """``refusal`` applied to each object type on its own (``stored``: its stored records;
        ``missing``: the (type, id) unlisted), so that one type's listing that answered empty is
        refused however many records of another type the refresh listed."""
        gone = Counter(object_type for object_type, _ in missing)
        for object_type in sorted(stored):
            reason = self.refusal(listed.of_type(object_type), stored[object_type], gone[object_type])
            if reason is not None:
                return reason if len(stored) == 1 else f"object type {object_type!r}: {reason}"
        return None


@dataclass
class SweepReport:
    """What a sweep found: the stream's stored records, those the refresh did not list, how many
    were sent to retirement, and why none were when the guard refused."""

    listed: int = 0
    stored: int = 0
    unlisted: int = 0
    swept: int = 0
    refused: str | None = None
    not_swept: dict[str, str] = field(default_factory=dict)
    """The types the connector cannot list completely, so never sweeps, and why
    (``ConnectorSpec.refresh_unswept``)."""

    def as_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "listed": self.listed,
            "stored": self.stored,
            "unlisted": self.unlisted,
            "swept": self.swept,
        }
        if self.refused:
            answer["refused"] = self.refused
        if self.not_swept:
            answer["not_swept"] = dict(self.not_swept)
        return answer


#: How many stored records a sweep reads between two looks at its time (``plan_sweep``'s ``in_time``).
TIME_CHECK_EVERY = 1000


class SweepOutOfTimeError(Exception):
    """The sweep's time ran short while it read the stored records (``read`` of them)."""

    def __init__(self, read: int) -> None:
        super().__init__(f"out of time after {read} stored records")
        self.read = read


def unlisted(
    store: ProfileStore,
    source: str,
    object_types: frozenset[str],
    listed: ListedKeys,
    in_time: Callable[[], bool] | None = None,
) -> tuple[Counter[str], list[tuple[str, str]]]:
    """The number of stored records of ``source`` of each of ``object_types``, and the (object
    type, id) of those ``listed`` does not hold, in key order. ``in_time`` is asked before the first
    record and every ``TIME_CHECK_EVERY`` after it; when it says no, ``SweepOutOfTimeError`` is raised."""
    stored: Counter[str] = Counter()
    missing: list[tuple[str, str]] = []
    for read, key in enumerate(_stored_keys(store, source)):
        if in_time is not None and read % TIME_CHECK_EVERY == 0 and not in_time():
            raise SweepOutOfTimeError(read)
        object_type, _, source_id = key[len(source) + 1 :].partition(":")
        if object_type not in object_types:
            continue
        stored[object_type] += 1
        if key not in listed:
            missing.append((object_type, source_id))
    return stored, sorted(set(missing))  # (a merge in flight holds a record twice for a moment)


@runtime_checkable
class ListsSourceKeys(Protocol):
    """A store that names its records of one source without reading their profiles (DynamoDB: a
    Scan that sends back keys only, which is all the pull role may read of the table)."""

    def source_keys(self, source: str) -> Iterable[str]:
        """The key (``source:object_type:id``) of every stored record of ``source``."""
        ...


def _stored_keys(store: ProfileStore, source: str) -> Iterator[str]:
    if isinstance(store, ListsSourceKeys):
        yield from store.source_keys(source)
        return
    for profile in store.iter_profiles():
        yield from (ref.key for ref in profile.sources if ref.source == source)


def plan_sweep(
    store: ProfileStore,
    source: str,
    object_types: frozenset[str],
    listed: ListedKeys,
    guard: SweepGuard,
    in_time: Callable[[], bool] | None = None,
) -> tuple[SweepReport, list[tuple[str, str]]]:
    """The report of the sweep after a completed refresh of ``source`` and the (type, id) of the
    stored records it did not list; ``report.refused`` says why none may go (``refusal_by_type``,
    or ``in_time`` said no while the stored records were read: a Lambda near its limit)."""
    try:
        stored, missing = unlisted(store, source, object_types, listed, in_time)
    except SweepOutOfTimeError as short:
        reason = (
            f"the time ran short after reading {short.read} stored records: nothing was retired (a "
            "store too large to read in what is left of one invocation is swept by no full refresh yet)"
        )
        return SweepReport(listed=len(listed), refused=reason), []
    report = SweepReport(listed=len(listed), stored=sum(stored.values()), unlisted=len(missing))
    report.refused = guard.refusal_by_type(listed, stored, missing)
    return report, missing


def noted(report: SweepReport, unswept: Iterable[tuple[str, str]]) -> SweepReport:
    """``report`` with the types its connector never sweeps, and why (``ConnectorSpec.refresh_unswept``)."""
    report.not_swept.update(dict(unswept))
    return report


def sweep_deletions(
    source: str, missing: Iterable[tuple[str, str]], started_at: datetime, chunk: int = 500
) -> Iterator[list[SourceDeletion]]:
    """The tombstones of the records a refresh begun at ``started_at`` did not list, ``chunk`` at a
    time (each chunk retired like one page's deletions)."""
    deleted_at = started_at - CLOCK_MARGIN
    batch: list[SourceDeletion] = []
    for object_type, source_id in missing:
        batch.append(
            SourceDeletion(source=source, object_type=object_type, source_id=source_id, deleted_at=deleted_at)
        )
        if len(batch) >= chunk:
            yield batch
            batch = []
    if batch:
        yield batch


__all__ = [
    "CLOCK_MARGIN",
    "TIME_CHECK_EVERY",
    "ListedKeys",
    "ListsSourceKeys",
    "SweepGuard",
    "SweepOutOfTimeError",
    "SweepReport",
    "plan_sweep",
    "sweep_deletions",
    "unlisted",
]
