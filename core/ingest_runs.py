"""How ingest keeps a record's content run (core.content_run): the versions of one call folded into
one, and what a version does against the run its ``source#`` identifier item holds.

``core.pipeline.version_rounds`` reduces a record's dated versions in a row to one (``fold``): the
copy of the newest content at the start of its run in the call, which carries the call's versions
with it (``observed``), so that the plan folds them all, as one by one would. The plan
(core.ingest_plan) asks ``judge`` what the version does: nothing, a touch (the run's state moves,
the snapshot keeps its time), or a write of the snapshot (new content, or the same content whose
run starts at another time: survivorship reads that time, so the profile is rebuilt).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from core.consent_carry import late_consent
from core.content_hash import record_hash
from core.content_run import ONE_TIME, ContentRun, observation, redated, stored_run
from core.ingest_settings import IngestResult
from core.ports import Changeset, Ownership, ProfileStore, TouchSource
from core.schema import SourceRecord
from core.undated import stored_snapshots

#: Where a record folded from several versions of one call keeps them (``fold``): an entry of the
#: model's ``__dict__`` that is not a field, like ``core.content_hash.RECORD_HASH_MEMO``.
OBSERVED_MEMO: Final = "_observed"


def observed(record: SourceRecord) -> tuple[SourceRecord, ...]:
    """The versions of one call that ``record`` stands for (``fold``): itself, when it is alone."""
    kept: tuple[SourceRecord, ...] | None = record.__dict__.get(OBSERVED_MEMO)
    return kept if kept is not None else (record,)


def run_of(record: SourceRecord) -> ContentRun:
    """The content run of the versions ``record`` stands for, with nothing stored before them."""
    return ContentRun.of(map(observation, observed(record)))


def fold(versions: Sequence[SourceRecord]) -> SourceRecord:
    """One record for a record's dated ``versions`` of one call: the copy of the newest content at
    the start of its run (``ContentRun.first``), carrying them all (``observed``)."""
    seen = tuple({id(v): v for version in versions for v in observed(version)}.values())
    if len(seen) == 1:
        return seen[0]
    run = ContentRun.of(map(observation, seen))
    at_start = _copy_at(run, seen)
    assert at_start is not None  # the run's times are its own content's observations
    return carrying(at_start, seen)  # a copy: a caller's record never carries another call's versions


def _copy_at(run: ContentRun, versions: Iterable[SourceRecord]) -> SourceRecord | None:
    """The version of the run's content at the run's start with the largest stamp seen there
    (``ContentRun.stamp``: a function of the set of versions, as the run is; the copies of one time
    differ by stamp when stamped ahead of one read); else one of that content re-dated to them;
    None when ``versions`` hold none of that content. (That largest stamp is after the newest other
    content's observation: the run holds no time whose stamps are all before it.)"""
    same = [v for v in versions if record_hash(v) == run.record_hash]
    if not same:
        return None
    first, stamp = run.first, run.stamp(0)
    at = [v for v in same if v.ordered_at == first and v.updated_at == stamp]
    if at:  # copies of one stamp and time differ by read only in the second before it: the earliest
        return min(at, key=lambda v: (v.read_at is not None, v.read_at or first))
    return redated(same[0], first, stamp)


def written_item(snapshot: SourceRecord, runs: Mapping[str, ContentRun] | None) -> tuple[datetime, str]:
    """The watermark and ``run`` attribute a plan writes with ``snapshot`` (``written_run``): for a
    record of one version with no run planned, its own time and ``ONE_TIME``, built from nothing
    (every new record's identifier item: the embedded store's hot path)."""
    one = OBSERVED_MEMO not in snapshot.__dict__ and not snapshot.undated
    if one and (runs is None or snapshot.key not in runs) and snapshot.updated_at == snapshot.ordered_at:
        return snapshot.ordered_at, ONE_TIME
    run = written_run(snapshot, runs)
    return run.last, run.encode()


def written_run(snapshot: SourceRecord, runs: Mapping[str, ContentRun] | None) -> ContentRun:
    """The content run a plan writes with ``snapshot`` (``runs``, by key, from ``judge``; else the
    run of the versions it stands for). An undated version's time dates nothing: no older copy of
    its content joins its run (``ContentRun.legacy``), as before (core.undated)."""
    run = (runs or {}).get(snapshot.key)
    if run is not None:
        return run
    if snapshot.undated:
        return ContentRun.legacy(record_hash(snapshot), snapshot.ordered_at, snapshot.updated_at)
    return run_of(snapshot)


def redating(previous: SourceRecord, key: str, runs: Mapping[str, ContentRun] | None) -> bool:
    """Whether the plan writes ``key`` as its stored content re-dated (``judge``): an older time
    than the snapshot's is then no sign that a newer version was stored since the read."""
    run = (runs or {}).get(key)
    return run is not None and run.record_hash == record_hash(previous)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a version does against the stored run: ``unchanged`` or ``stale`` (nothing, or only a
    ``touch`` of the item's run: ``run`` set), or a ``write`` of ``record`` under ``run``; ``redate``:
    a write of the stored snapshot re-dated to ``run.first`` (``redated_snapshots`` reads it)."""

    kind: Literal["unchanged", "stale", "write", "redate"]
    run: ContentRun | None = None
    record: SourceRecord | None = None
    moved: bool = False
    """A touch that moves the watermark (counted ``touched``)."""


def judge(record: SourceRecord, h: str, stored: Ownership) -> Verdict:
    """What the dated ``record`` (hash ``h``, with the versions it stands for) does against the
    ``stored`` item of its ``source#`` key, which holds a hash and a time."""
    assert stored.record_hash is not None
    assert stored.updated_at is not None
    if (
        h == stored.record_hash
        and record.ordered_at == stored.updated_at
        and record.updated_at == stored.updated_at
        and OBSERVED_MEMO not in record.__dict__
    ):
        return Verdict("unchanged")  # the stored version again (a redelivery): its run holds it
    # (one stamped ahead of its read may carry a later stamp than the run keeps for its time)
    before = stored_run(stored.record_hash, stored.updated_at, stored.run)
    after = before.merged(run_of(record))
    kind: Literal["unchanged", "stale"] = "unchanged" if h == stored.record_hash else "stale"
    if after == before:
        return Verdict(kind)
    same = after.record_hash == before.record_hash and after.first == before.first
    if same and after.stamp(0) == before.stamp(0):  # the snapshot's content, time and stamp stay
        return Verdict(kind, after, moved=after.last != before.last)  # a touch
    copy = _copy_at(after, observed(record))
    if copy is None:
        return Verdict("redate", after)
    return Verdict("write", after, carrying(copy, observed(record)))


def carrying(record: SourceRecord, versions: Sequence[SourceRecord]) -> SourceRecord:
    """A copy of ``record`` standing for ``versions`` too (``observed``): a write that loses its
    race is planned again from the same observations, not from the one version it writes."""
    seen = {id(v): v for v in (record, *versions)}
    if len(seen) == 1:
        return record
    copy = record.model_copy()
    copy.__dict__[OBSERVED_MEMO] = tuple(seen.values())
    return copy


@dataclass
class RunDecisions:
    """What the dated versions of one plan do against their stored content runs (``judge``), kept
    for the plan: the runs its writes give (``runs``), the touches, and how written records count."""

    result: IngestResult
    runs: dict[str, ContentRun] = field(default_factory=dict)
    touches: list[Changeset] = field(default_factory=list)
    touched: dict[str, tuple[datetime, str | None]] = field(default_factory=dict)
    """The times and runs the touches give, by ``source#`` key, for a merge that moves the key."""
    recount: dict[str, str] = field(default_factory=dict)
    """The records written as the stored content re-dated: counted as the version was."""
    redate: dict[str, tuple[ContentRun, SourceRecord]] = field(default_factory=dict)
    """The stored snapshots a version of other content re-dates, with that version (``redated``)."""

    def take_touch(self, key: str, record_hash: str) -> ContentRun | None:
        """The run the touch of the record ``key`` planned gives, the touch taken out of the plan (a
        write of the record's item writes that run instead: core.consent_carry's late versions); None
        when none was planned."""
        for index, changeset in enumerate(self.touches):
            if changeset.label == f"touch:{key}":
                (touch,) = changeset.operations
                assert isinstance(touch, TouchSource)
                del self.touches[index]
                self.touched.pop(f"source#{key}", None)
                if touch.run is None:
                    return None
                return ContentRun.decode(record_hash, touch.run, touch.updated_at)
        return None

    def decide(
        self, record: SourceRecord, h: str, stored: Ownership, collapsed: bool
    ) -> tuple[Literal["recheck", "stale", "done", "write"], SourceRecord]:
        """What the dated ``record`` does against ``stored``, counted in ``result``: ``write`` the
        record returned (its run in ``runs``); ``stale`` (counted; the caller unfiles it); ``done``
        (unchanged, touched, or left for ``redated``); ``recheck``: a version ``collapsed`` by
        core.pipeline.version_rounds that does nothing (an undated version stored since the call's
        read?), uncounted."""
        verdict = judge(record, h, stored)
        assert stored.record_hash is not None
        assert stored.updated_at is not None
        if verdict.kind == "unchanged" and verdict.run is None and collapsed:
            return "recheck", record
        if verdict.kind in ("unchanged", "stale"):
            if verdict.run is not None:  # the run moved, not the snapshot's time: a touch
                run, key = verdict.run, f"source#{record.key}"
                touch = TouchSource(
                    key, stored.record_hash, stored.updated_at, run.last, run.encode(), True, stored.run
                )
                self.touches.append(Changeset(f"touch:{record.key}", (touch,)))
                self.touched[key] = (run.last, touch.run)
                self.result.touched += verdict.moved and verdict.kind == "unchanged"
            if verdict.kind == "unchanged":
                self.result.unchanged += 1
                return "done", record
            self.result.stale += 1
            return "stale", record
        assert verdict.run is not None
        if verdict.kind == "redate":
            self.redate[record.key] = (verdict.run, record)
            return ("stale" if h != stored.record_hash else "done"), record
        assert verdict.record is not None
        if verdict.run.record_hash == stored.record_hash:
            self.recount[record.key] = "unchanged" if h == stored.record_hash else "stale"
        self.runs[record.key] = verdict.run
        return "write", verdict.record

    def redated(self, store: ProfileStore, owners: Mapping[str, Ownership]) -> list[SourceRecord]:
        """The stored snapshots to rewrite re-dated (``redate``), counted stale once written; one
        whose customer read finds another content now (a writer stored a version since) is stale."""
        if not self.redate:
            return []
        copies = redated_snapshots(store, owners, self.redate)
        for key in copies:
            self.recount[key] = "stale"
            self.runs[key] = self.redate[key][0]
        # the version was counted stale by ``decide`` only when written as nothing: count the rest
        self.result.stale += len(self.redate) - len(copies)
        return list(copies.values())


def late_consents(
    store: ProfileStore,
    owners: Mapping[str, Ownership],
    late: Mapping[str, tuple[SourceRecord, Ownership]],
    runs: RunDecisions,
) -> list[SourceRecord]:
    """The stored snapshots whose decisions dated by their record the stale versions ``late`` (by
    key, with the item read), or the copies of their content that write nothing (``observes_decisions``), date
    otherwise (core.consent_carry.late_consent): written as stored, under their stored run, counted
    as the version was (as ``redated``); a record whose customer holds another content now is left
    out (a writer stored a version since: its next read decides)."""
    if not late:
        return []
    out: list[SourceRecord] = []
    for key, snapshot in stored_snapshots(store, owners, late).items():
        version, stored = late[key]
        assert stored.record_hash is not None  # a stale verdict's
        assert stored.updated_at is not None
        if record_hash(snapshot) != stored.record_hash or (copy := late_consent(snapshot, version)) is None:
            continue
        # the run the version's touch gives (other content cuts the stored run), or the one read
        touched = runs.take_touch(key, stored.record_hash)
        runs.runs[key] = touched or stored_run(stored.record_hash, stored.updated_at, stored.run)
        if record_hash(version) == stored.record_hash:  # a copy (``observes_decisions``)
            runs.recount[key] = "unchanged"
            runs.result.unchanged -= 1  # counted by ``decide``, and again once written
        else:
            runs.recount[key] = "stale"
            runs.result.stale -= 1
        out.append(copy)
    return out


def observes_decisions(record: SourceRecord, h: str, stored: Ownership) -> bool:
    """Whether ``record``, a copy of the stored content (hash ``h``) that writes no snapshot
    (``judge``: nothing, or a touch) and is not the stored newest, holds a decision dated by its
    record: its observation may date the stored decision otherwise (``late_consents``), as a stale
    version's does: older than the run's start (a content changed and changed back: A, B, A, the
    first A pulled last), or inside the run, where a later cut by other content would forget it."""
    if h != stored.record_hash or not any(s.dated_by_record for s in record.consent.values()):
        return False
    return record.ordered_at != stored.updated_at or record.updated_at != stored.updated_at


def redated_snapshots(
    store: ProfileStore, owners: Mapping[str, Ownership], runs: Mapping[str, tuple[ContentRun, SourceRecord]]
) -> dict[str, SourceRecord]:
    """The stored snapshots of the source record keys of ``runs`` (each with the version that cut
    its run), each re-dated to its run's start and standing for that version too (``carrying``), its
    decisions dated by their record folded with that version's (core.consent_carry.late_consent: an
    opt-in between two opt-outs cuts the decision's run as it cuts the content's); a record whose
    customer is gone, or holds another content now, is left out."""
    out: dict[str, SourceRecord] = {}
    for key, snapshot in stored_snapshots(store, owners, runs).items():
        run, version = runs[key]
        if record_hash(snapshot) == run.record_hash:
            copy = redated(snapshot, run.first, run.stamp(0))
            for seen in observed(version):  # the versions that cut the run date its decisions too
                copy = late_consent(copy, seen) or copy
            out[key] = carrying(copy, observed(version))
    return out


__all__ = [
    "OBSERVED_MEMO",
    "RunDecisions",
    "Verdict",
    "carrying",
    "fold",
    "judge",
    "observed",
    "observes_decisions",
    "redated_snapshots",
    "redating",
    "run_of",
    "written_item",
    "written_run",
]
