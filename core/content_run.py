"""The time a record's current content counts from: the start of its latest run.

Two versions of one record with the same content and different times (a tool re-exporting an
unchanged contact, or the echo of a push that changed no field we read) must decide a trait the same
way in any order and any batching. One by one in time order, the content's time is the first of the
copies in a row: a later copy is an echo (it only moves the staleness watermark, ``TouchSource``).
That is kept order-free by a small state per record, folded over its observations ``(time, hash)``
(a tie of times broken by the hash, as ``core.merge.newest`` does)::

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
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from core.content_hash import record_hash
from core.schema import SourceRecord

RUN_KEPT: Final = 16
"""The earliest times of a run kept (with the newest): a run holds 17 times at 17 copies of one
content at distinct times (a contact pushed to on every sync: its own and 16 echoes) and drops one
from the 18th (its 17th echo) on; only a late version of other content older than the newest but
after the 16th reads past it (docs/architecture.md, "content runs")."""

ONE_TIME: Final = "1"
"""The ``run`` of a content seen at one time only, and no other content before it: that time is the
item's own ``updated_at`` (the watermark), so nothing else needs keeping. Almost every new record's
identifier item holds it; written without building the JSON form (``encode``)."""

#: An observation: a version's ordering time and its content hash (compared as a pair).
Observation = tuple[datetime, str]


@dataclass(frozen=True, slots=True)
class ContentRun:
    """The state of one record's observations (see the module): the current content's hash, the
    times ``S`` of its latest run (sorted, bounded) and the newest observation of another content."""

    record_hash: str
    times: tuple[datetime, ...]
    other: Observation | None = None

    @property
    def first(self) -> datetime:
        """When the current content counts from (survivorship): the start of its latest run."""
        return self.times[0]

    @property
    def last(self) -> datetime:
        """The newest time of the current content: the staleness watermark."""
        return self.times[-1]

    def observe(self, at: datetime, h: str) -> ContentRun:
        """The state after one more observation ``(at, h)``; ``self`` when it changes nothing."""
        if h == self.record_hash:
            if (self.other is not None and (at, h) <= self.other) or at in self.times:
                return self  # a copy from before the run, or one already counted
            times = _bounded((*self.times, at))
            return self if times == self.times else ContentRun(h, times, self.other)
        newest = (self.last, self.record_hash)
        if (at, h) > newest:
            return ContentRun(h, (at,), newest)  # a new content: every other one is older than it
        if self.other is not None and (at, h) <= self.other:
            return self  # older than the newest other content: it moves nothing
        other = (at, h)
        times = tuple(t for t in self.times if (t, self.record_hash) > other)
        return ContentRun(self.record_hash, times, other)  # the newest time is after ``other``

    def merged(self, other: ContentRun) -> ContentRun:
        """This state with the observations that ``other`` summarises (the newest other content it
        saw, then its run): what folding them one by one gives (see ``observe``)."""
        run = self
        if other.other is not None:
            run = run.observe(*other.other)
        for at in other.times:
            run = run.observe(at, other.record_hash)
        return run

    def encode(self) -> str:
        """The ``run`` attribute of the identifier item: ``ONE_TIME`` for one time and no other
        content (that time is the item's ``updated_at``), else a short JSON array."""
        if self.other is None and len(self.times) == 1:
            return ONE_TIME
        # Built by hand (JSON of ISO times and hex hashes, nothing to escape): every new record's
        # identifier item is written with one, and ``json.dumps`` took most of the time.
        times = '","'.join([t.isoformat() for t in self.times])
        if self.other is None:
            return f'[["{times}"],null]'
        return f'[["{times}"],["{self.other[0].isoformat()}","{self.other[1]}"]]'

    @classmethod
    def decode(cls, record_hash: str, text: str, updated_at: datetime | None = None) -> ContentRun:
        """A stored ``run`` attribute of an item holding ``record_hash`` and ``updated_at`` (``encode``;
        ``updated_at`` is needed by ``ONE_TIME`` only)."""
        if text == ONE_TIME:
            if updated_at is None:
                raise ValueError(f"the content run {ONE_TIME!r} is its item's updated_at, which is missing")
            return cls(record_hash, (updated_at,))
        times, other = json.loads(text)
        at = tuple(datetime.fromisoformat(t) for t in times)
        return cls(record_hash, at, (datetime.fromisoformat(other[0]), other[1]) if other else None)

    @classmethod
    def legacy(cls, record_hash: str, watermark: datetime) -> ContentRun:
        """An item stored before ``run`` existed: its watermark alone, and ``T_other`` unknown, taken
        as just before the watermark (an empty hash sorts first): no older copy of the same content
        joins the run and no older version of other content moves it, which is what such an item did.
        A newer copy or a newer content starts keeping the state."""
        return cls(record_hash, (watermark,), (watermark, ""))

    @classmethod
    def of(cls, observations: Iterable[Observation]) -> ContentRun:
        """The state of a record seen only in ``observations`` (at least one)."""
        run: ContentRun | None = None
        for at, h in observations:
            run = ContentRun(h, (at,)) if run is None else run.observe(at, h)
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


def redated(record: SourceRecord, at: datetime) -> SourceRecord:
    """``record`` (a copy of the run's content) as observed at ``at``: ``updated_at`` is ``at``, and
    so is a consent decision that was dated by the record's own time (hashed without it, as
    ``record_hash`` does), so the copy hashes the same. ``read_at`` is dropped (``at`` is an ordering
    time already); ``record`` itself when it is already at ``at``."""
    if record.ordered_at == at and record.updated_at == at:
        return record
    own = record.updated_at
    consent = {
        channel: state.model_copy(update={"changed_at": at}) if state.changed_at == own else state
        for channel, state in record.consent.items()
    }
    copy = record.model_copy(update={"updated_at": at, "read_at": None, "consent": consent})
    if record_hash(copy) != record_hash(record):  # cannot happen: the times are not hashed
        raise AssertionError(f"re-dating {record.key} changed its content")
    return copy


def _bounded(times: Iterable[datetime]) -> tuple[datetime, ...]:
    ordered = sorted(set(times))
    if len(ordered) <= RUN_KEPT + 1:
        return tuple(ordered)
    return (*ordered[:RUN_KEPT], ordered[-1])


__all__ = ["ONE_TIME", "RUN_KEPT", "ContentRun", "Observation", "redated", "stored_run"]
