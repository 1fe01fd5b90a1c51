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
"""

from __future__ import annotations

from operator import attrgetter

from core.record_json import RECORD_JSON_MEMO
from core.schema import ConsentState, SourceRecord

__all__ = ["carry_consent_times", "chained"]


def carry_consent_times(previous: SourceRecord | None, record: SourceRecord) -> SourceRecord:
    """``record``, with each decision ``dated_by_record`` that ``previous`` (the stored snapshot of
    the same record, older) made too dated as ``previous`` dated it, when that is earlier; ``record``
    itself when there is none to carry."""
    if previous is None or not record.consent or not previous.consent or previous.key != record.key:
        return record
    carried: dict[str, ConsentState] | None = None
    for channel, state in record.consent.items():
        if not state.dated_by_record:
            continue
        before = previous.consent.get(channel)
        if before is None or before.granted != state.granted or before.changed_at >= state.changed_at:
            continue
        if carried is None:
            carried = dict(record.consent)
        carried[channel] = ConsentState.assemble(
            granted=state.granted, changed_at=before.changed_at, dated_by_record=True
        )
    if carried is None:
        return record
    copy = record.model_copy(update={"consent": carried})
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
