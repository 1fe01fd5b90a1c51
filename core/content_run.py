"""The time a record's current content counts from: the start of its latest run.

Two versions of one record with the same content and different times (a tool re-exporting an
unchanged contact, or the echo of a push that changed no field we read) must decide a trait the same
way in any order and any batching. One by one in time order, the content's time is the first of the
copies in a row: a later copy is an echo (it only moves the staleness watermark, ``TouchSource``).
That is kept order-free by a small state per record, folded over its observations ``(time, stamp, hash)``
(a tie of times broken by the stamp, then by the hash, as ``core.merge.newest`` does)::

    current content h* = the hash of the newest observation
    T_other            = the newest observation of another content (None: none seen)
    S                  = the times of h*'s observations after T_other
    the content's time = min(S) (survivorship reads it: the snapshot's ``ordered_at``)
    the watermark      = max(S) (staleness: the ``source#`` identifier item's ``updated_at``)

``ContentRun.observe`` adds one observation; the state is a function of the set of observations,
so every order, and any grouping of them into batches, ends in the same state. ``S`` is bounded: the
``RUN_KEPT`` earliest times and the newest. Only a version of other content older than the
watermark cuts ``S`` (it drops the times at or before it); a cut past the earliest kept times takes
the next kept one, which can only be later than the truth (docs/architecture.md says which side is
safe). The state is stored on the identifier item as ``run`` (``encode``); an item stored before it
existed reads as ``legacy``: its watermark alone, with no older copy joining the run (as before).

An observation's stamp is the version's own ``updated_at``: its time, but for a version stamped
ahead of its read, which orders at the read (``SourceRecord.ordered_at``). Two versions of one read
stamped ahead share a time: the later stamp is the newer (a tool clock hours fast still stamps its
changes in order). The run keeps, per kept time, the largest stamp seen at it, and the stamp of the
other content's newest observation; stamps that equal their times are left out of the state (and of
``encode``), so a run of versions stamped at their times, and every ``run`` stored before stamps
existed, reads as before (a stamp equal to its time). The snapshot kept for a run is the copy at its
start with the largest stamp seen there (``stamp(0)``; core.ingest_runs), a function of the set too:
copies of one time differ only by stamp, and the profile's times are the snapshot's stamp.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import eq
from typing import Final

from core.content_hash import record_hash
from core.schema import SourceRecord
from core.time_bound import CLOCK_SKEW, ordered_by_read, read_before

RUN_KEPT: Final = 16
"""The earliest times of a run kept (with the newest): a run holds 17 times at 17 copies of one
content at distinct times (a contact pushed to on every sync: its own and 16 echoes) and drops one
from the 18th (its 17th echo) on; only a late version of other content older than the newest but
after the 16th reads past it (docs/architecture.md, "content runs")."""

ONE_TIME: Final = "1"
"""The ``run`` of a content seen at one time only, and no other content before it: that time is the
item's own ``updated_at`` (the watermark), so nothing else needs keeping. Almost every new record's
identifier item holds it; written without building the JSON form (``encode``)."""

#: An observation: a version's ordering time and its content hash, and its stamp when that is not
#: its time (a version stamped ahead of its read); compared as ``(time, stamp, hash)`` (``key``).
Observation = tuple[datetime, str] | tuple[datetime, str, datetime]

#: How observations compare: time, then stamp, then content hash.
Key = tuple[datetime, datetime, str]


def key(observation: Observation) -> Key:
    """The order of an observation: ``(time, stamp, hash)``, the stamp its time when it has none."""
    return (observation[0], observation[2] if len(observation) == 3 else observation[0], observation[1])


def observation(record: SourceRecord) -> Observation:
    """The observation a version of a record gives: its ordering time, its hash and its stamp."""
    at, stamp = record.ordered_at, record.updated_at
    h = record_hash(record)
    return (at, h) if stamp == at else (at, h, stamp)


@dataclass(frozen=True, slots=True)
class ContentRun:
    """The state of one record's observations (see the module): the current content's hash, the
    times ``S`` of its latest run (sorted, bounded) and the newest observation of another content;
    ``stamps``: the largest stamp seen at each of ``times``, None when each is its time (``key``)."""

    record_hash: str
    times: tuple[datetime, ...]
    other: Observation | None = None
    stamps: tuple[datetime, ...] | None = None

    @property
    def first(self) -> datetime:
        """When the current content counts from (survivorship): the start of its latest run."""
        return self.times[0]

    @property
    def last(self) -> datetime:
        """The newest time of the current content: the staleness watermark."""
        return self.times[-1]

    @property
    def newest(self) -> Observation:
        """The newest observation: the current content at its newest time, with that time's stamp."""
        return self._at(len(self.times) - 1)

    def stamp(self, i: int) -> datetime:
        """The largest stamp seen at ``times[i]``."""
        return self.times[i] if self.stamps is None else self.stamps[i]

    def observe(self, at: datetime, h: str, stamp: datetime | None = None) -> ContentRun:
        """The state after one more observation ``(at, h)`` stamped ``stamp`` (default: ``at``);
        ``self`` when it changes nothing."""
        seen = key((at, h) if stamp is None or stamp == at else (at, h, stamp))
        other = None if self.other is None else key(self.other)
        if h == self.record_hash:
            if other is not None and seen <= other:
                return self  # a copy from before the run
            kept = dict(zip(self.times, map(self.stamp, range(len(self.times))), strict=True))
            if at in kept and kept[at] >= seen[1]:
                return self  # one already counted
            kept[at] = seen[1]
            times = _bounded(kept)
            return _run(h, times, [kept[t] for t in times], self.other)
        newest = self.newest
        if seen > key(newest):
            return _run(h, (at,), [seen[1]], newest)  # a new content: every other one is older than it
        if other is not None and seen <= other:
            return self  # older than the newest other content: it moves nothing
        cut = [i for i in range(len(self.times)) if key(self._at(i)) > seen]
        return _run(  # the newest time is after the new ``other``
            self.record_hash, tuple(self.times[i] for i in cut), [self.stamp(i) for i in cut], _obs(seen)
        )

    def _at(self, i: int) -> Observation:
        return _obs((self.times[i], self.stamp(i), self.record_hash))

    def merged(self, other: ContentRun) -> ContentRun:
        """This state with the observations that ``other`` summarises (the newest other content it
        saw, then its run): what folding them one by one gives (see ``observe``)."""
        run = self
        if other.other is not None:
            at, stamp, h = key(other.other)
            run = run.observe(at, h, stamp)
        for i, at in enumerate(other.times):
            run = run.observe(at, other.record_hash, other.stamp(i))
        return run

    def encode(self) -> str:
        """The ``run`` attribute of the identifier item: ``ONE_TIME`` for one time stamped at it and
        no other content (that time is the item's ``updated_at``), else a short JSON array: the
        times, the other content's newest observation (time, hash[, stamp]) and, when a stamp is not
        its time, the stamps (a third element, absent before stamps existed)."""
        if self.other is None and len(self.times) == 1 and self.stamps is None:
            return ONE_TIME
        # Built by hand (JSON of ISO times and hex hashes, nothing to escape): every new record's
        # identifier item is written with one, and ``json.dumps`` took most of the time.
        times = '","'.join([t.isoformat() for t in self.times])
        stamps = (
            "" if self.stamps is None else ',["' + '","'.join([t.isoformat() for t in self.stamps]) + '"]'
        )
        if self.other is None:
            return f'[["{times}"],null{stamps}]'
        other = f'"{self.other[0].isoformat()}","{self.other[1]}"'
        if len(self.other) == 3:
            other += f',"{self.other[2].isoformat()}"'
        return f'[["{times}"],[{other}]{stamps}]'

    @classmethod
    def decode(cls, record_hash: str, text: str, updated_at: datetime | None = None) -> ContentRun:
        """A stored ``run`` attribute of an item holding ``record_hash`` and ``updated_at`` (``encode``;
        ``updated_at`` is needed by ``ONE_TIME`` only)."""
        if text == ONE_TIME:
            if updated_at is None:
                raise ValueError(f"the content run {ONE_TIME!r} is its item's updated_at, which is missing")
            return cls(record_hash, (updated_at,))
        times, other, *stamps = json.loads(text)
        at = tuple(datetime.fromisoformat(t) for t in times)
        seen: Observation | None = None
        if other:
            seen = (datetime.fromisoformat(other[0]), other[1])
            if len(other) == 3:
                seen = (*seen, datetime.fromisoformat(other[2]))
        kept = [datetime.fromisoformat(t) for t in stamps[0]] if stamps and stamps[0] else None
        return cls(record_hash, at, seen, None if kept is None else tuple(kept))

    @classmethod
    def legacy(cls, record_hash: str, watermark: datetime, stamp: datetime | None = None) -> ContentRun:
        """An item stored before ``run`` existed: its watermark alone, and ``T_other`` unknown, taken
        as just before the watermark (an empty hash sorts first): no older copy of the same content
        joins the run and no older version of other content moves it, which is what such an item did.
        A newer copy or a newer content starts keeping the state. ``stamp``: the version's own, when
        it is not the watermark (stamped ahead of its read; ``key``)."""
        return _run(
            record_hash, (watermark,), [stamp or watermark], _obs((watermark, stamp or watermark, ""))
        )

    @classmethod
    def of(cls, observations: Iterable[Observation]) -> ContentRun:
        """The state of a record seen only in ``observations`` (at least one)."""
        run: ContentRun | None = None
        for seen in observations:
            at, stamp, h = key(seen)
            run = _run(h, (at,), [stamp], None) if run is None else run.observe(at, h, stamp)
        if run is None:
            raise ValueError("a content run needs an observation")
        return run


def stored_run(record_hash: str, updated_at: datetime, text: str | None) -> ContentRun:
    """The state an identifier item holds: its ``run`` attribute, or ``ContentRun.legacy``."""
    return (
        ContentRun.decode(record_hash, text, updated_at)
        if text
        else ContentRun.legacy(record_hash, updated_at)
    )


def stored_is_newer(record_hash: str, updated_at: datetime, text: str | None, record: SourceRecord) -> bool:
    """Whether the newest observation of a stored item (``stored_run``) is newer than ``record``'s
    (``key``); its ``run`` is read only on a tie of times (versions of one read stamped ahead)."""
    at = record.ordered_at
    if updated_at != at:
        return updated_at > at
    return key(stored_run(record_hash, updated_at, text).newest) > key(observation(record))


def redated(record: SourceRecord, at: datetime, stamp: datetime | None = None) -> SourceRecord:
    """``record`` (a copy of the run's content) as observed at ``at`` stamped ``stamp`` (default:
    ``at``; the run's largest stamp at ``at``, ``ContentRun.stamp``): ``updated_at`` is ``stamp``, and
    so is a consent decision that was dated by the record's own time (hashed without it, as
    ``record_hash`` does), so the copy hashes the same; ``read_at`` is a read that orders ``stamp`` at
    ``at`` (``read_of``). ``record`` itself when it is already at ``at`` stamped ``stamp``."""
    stamp = at if stamp is None else stamp
    if record.ordered_at == at and record.updated_at == stamp:
        return record
    read = read_of(at, stamp)
    if read is None and stamp != at:  # a pair no read gives (a run stored by hand?): dated at ``at``
        stamp = at
    own = record.updated_at
    consent = {
        channel: state.model_copy(update={"changed_at": stamp}) if state.changed_at == own else state
        for channel, state in record.consent.items()
    }
    copy = record.model_copy(update={"updated_at": stamp, "read_at": read, "consent": consent})
    if record_hash(copy) != record_hash(record):  # cannot happen: the times are not hashed
        raise AssertionError(f"re-dating {record.key} changed its content")
    return copy


def read_of(at: datetime, stamp: datetime) -> datetime | None:
    """A read at which a version stamped ``stamp`` is ordered at ``at`` (``SourceRecord.ordered_at``):
    None for a stamp at its time (or for a pair no read gives); ``at`` itself for a stamp at most
    ``CLOCK_SKEW`` ahead; else the earliest read of the second after ``at`` whose ``read_before`` is
    ``at``. The run keeps times and stamps, not reads: a snapshot re-dated to a kept time and stamp
    orders, and decides a consent dated by its own time, as the copy that was read there did."""
    if stamp <= at:
        return None
    if stamp - at <= CLOCK_SKEW:
        return at
    second = at.replace(microsecond=0) + timedelta(seconds=1)
    read = second + timedelta(milliseconds=(at - read_before(second)) // timedelta(microseconds=1))
    return read if ordered_by_read(stamp, read) == at else None


def _obs(seen: Key) -> Observation:
    """The observation of a ``key``: without its stamp when that is its time."""
    at, stamp, h = seen
    return (at, h) if stamp == at else (at, h, stamp)


def _run(
    h: str, times: tuple[datetime, ...], stamps: list[datetime], other: Observation | None
) -> ContentRun:
    """A state, its stamps left out when each is its time (one state, one form: ``==`` compares)."""
    same = all(map(eq, times, stamps))
    return ContentRun(h, times, other, None if same else tuple(stamps))


def _bounded(times: Iterable[datetime]) -> tuple[datetime, ...]:
    ordered = sorted(set(times))
    if len(ordered) <= RUN_KEPT + 1:
        return tuple(ordered)
    return (*ordered[:RUN_KEPT], ordered[-1])


__all__ = [
    "ONE_TIME",
    "RUN_KEPT",
    "ContentRun",
    "Key",
    "Observation",
    "key",
    "observation",
    "read_of",
    "redated",
    "stored_is_newer",
    "stored_run",
]
