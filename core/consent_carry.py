"""A consent decision dated by its record keeps the time of the first version seen to hold it.

Some tools give a decision no time of its own: Salesforce's ``HasOptedOutOfEmail`` is a checkbox,
Mailchimp tells no unsubscribe time. Their connectors date it by the version of the record that
holds it (``SystemModstamp``, ``last_changed``) and mark it ``dated_by_record`` (core.schema
``ConsentState``). Every edit of the record moves that time, so an edit of her title would re-date a
2024 opt-out past her opt-in of last week at another tool, and core.merge (the newest decision
wins) would undo the decision she made last. So when ingest replaces a stored snapshot by a newer
version of the same record (core.ingest_changeset, core.ingest_grow), a decision of the new version
dated by its record that the stored snapshot made too (same channel, same ``granted``) keeps the
stored snapshot's time: only a change of the decision is dated anew. ``record_hash`` leaves such a
time out (core.content_hash), so the version hashes the same whichever time it keeps. The versions
of one record in one call fold into the newest with the times carried along them oldest first
(``chained``, core.ingest_rounds.carried_fold), whatever order they came in.

Across calls the versions may come in any order too (a backfill of 2024 after this week's pull), so
the time is kept as a run, as core.content_run keeps a content's: each version is an observation
(its time, its decision), and a marked decision's state is a function of the set of them::

    contrary_at = the newest observation of the other decision (None: none)
    the run     = the times of the decision's observations after contrary_at
    changed_at  = the run's first; run_at its later times (the 16 earliest and the newest)

A newer version carries the stored snapshot's run on (``carry_consent_times``); an older one, which
writes nothing else, folds into the stored snapshot's run (``late_consent``): of the same decision
after ``contrary_at`` it moves the start back, of the other one it cuts the run after it. Every order
ends with the same state, within the bound: past 16 later times, a cut between them takes the next
kept one (later than the truth, as a content run's). A state stored before this version has no
``contrary_at`` nor ``run_at``: read as a run of its ``changed_at`` and its snapshot's own time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from operator import attrgetter
from typing import Final

from core.record_json import RECORD_JSON_MEMO
from core.schema import ConsentState, SourceRecord

__all__ = ["carry_consent_times", "chained", "late_consent"]

RUN_KEPT: Final = 16
"""The later times of a decision's run kept beside its first (with the newest), as core.content_run."""

#: An observation: a version's time and the decision it holds.
_Seen = tuple[datetime, bool]


def carry_consent_times(previous: SourceRecord | None, record: SourceRecord) -> SourceRecord:
    """``record``, with each decision ``dated_by_record`` that ``previous`` (the stored snapshot of
    the same record, older) made too dated as ``previous`` dated it, when that is earlier, and the
    run of each such decision carried on (its ``contrary_at`` and ``run_at``: the module docstring);
    ``record`` itself when there is nothing to carry."""
    if previous is None or not record.consent or previous.key != record.key:
        return record
    carried: dict[str, ConsentState] | None = None
    for channel, state in record.consent.items():
        if not state.dated_by_record:
            continue
        before = previous.consent.get(channel)
        run = _run(state.granted, [*_seen(before, previous, not state.granted), *_seen(state, record)])
        if run is None or run == _parts(state):
            continue
        if carried is None:
            carried = dict(record.consent)
        carried[channel] = _state(state.granted, run)
    return record if carried is None else _with_consent(record, carried)


def late_consent(stored: SourceRecord, version: SourceRecord) -> SourceRecord | None:
    """``stored`` (the snapshot of a record) with its marked decisions' runs folded with ``version``,
    an older version of the record that is otherwise stale (the module docstring); None when no
    decision changes."""
    if stored.key != version.key or not stored.consent:
        return None
    changed: dict[str, ConsentState] | None = None
    for channel, state in stored.consent.items():
        if not state.dated_by_record:
            continue
        late = version.consent.get(channel)
        run = _run(state.granted, [*_seen(state, stored), *_seen(late, version, not state.granted)])
        if run is None or run == _parts(state):
            continue
        if changed is None:
            changed = dict(stored.consent)
        changed[channel] = _state(state.granted, run)
    return None if changed is None else _with_consent(stored, changed)


_Run = tuple[datetime, datetime | None, tuple[datetime, ...]]


def _seen(state: ConsentState | None, record: SourceRecord, absent: bool = False) -> list[_Seen]:
    """The observations a decision of ``record`` stands for: its run, and the other decision at
    ``contrary_at``; a marked one's record version holds it at the version's own time too. A version
    without the decision (Salesforce's box unticked) ends a run as the other decision does: it is
    ``absent`` at the version's time."""
    if state is None:
        return [(record.updated_at, absent)]
    seen = [(state.changed_at, state.granted), *((at, state.granted) for at in state.run_at)]
    if state.dated_by_record:
        seen.append((record.updated_at, state.granted))
    if state.contrary_at is not None:
        seen.append((state.contrary_at, not state.granted))
    return seen


def _run(granted: bool, seen: Iterable[_Seen]) -> _Run | None:
    """The run of the decision ``granted`` over the observations ``seen``: its first time, the newest
    time of the other decision, its later times (bounded); None when no time of it is left."""
    seen = list(seen)
    contrary = max((at for at, g in seen if g != granted), default=None)
    times = sorted({at for at, g in seen if g == granted and (contrary is None or at > contrary)})
    if not times:
        return None
    later = times[1:]
    if len(later) > RUN_KEPT + 1:
        later = [*later[:RUN_KEPT], later[-1]]
    return times[0], contrary, tuple(later)


def _parts(state: ConsentState) -> _Run:
    return state.changed_at, state.contrary_at, state.run_at


def _state(granted: bool, run: _Run) -> ConsentState:
    first, contrary, later = run
    return ConsentState.assemble(
        granted=granted, changed_at=first, dated_by_record=True, contrary_at=contrary, run_at=later
    )


def _with_consent(record: SourceRecord, consent: dict[str, ConsentState]) -> SourceRecord:
    copy = record.model_copy(update={"consent": consent})
    # What the record keeps beside its fields stays true of the copy (its key, its hash: record_hash
    # leaves the carried time out; the versions it carries, core.ingest_runs) but its JSON.
    fields = type(record).model_fields
    kept = copy.__dict__
    for name, value in record.__dict__.items():
        if name not in fields and name != RECORD_JSON_MEMO:
            kept[name] = value
    return copy


_ORDERED_AT = attrgetter("ordered_at")


def chained(versions: list[SourceRecord]) -> SourceRecord | None:
    """The newest of one record's dated ``versions`` with its decisions' times carried along them
    from the oldest (``carry_consent_times`` from each to the next, in time order, whatever order
    they came in); None for no version."""
    previous: SourceRecord | None = None
    for version in sorted(versions, key=_ORDERED_AT):
        previous = carry_consent_times(previous, version)
    return previous
