"""revR24: ``core.normalise.read_on_tool_clock`` and a ``Date`` floored to its second.

rob24 normalises a page with the tool's ``Date`` as ``now`` when that is at least a second behind
our clock at normalisation. A ``Date`` is floored to its second, and our clock is read when the page
is normalised, not when it was answered: a tool in step with ours whose page took 1.5 s to come (a
slow transfer), or a tool half a second behind ours (its floored ``Date`` then 0.5 to 1.5 s behind),
is taken for one behind. A version HubSpot stamped in the ``Date``'s second (milliseconds), before
the answer, is then "ahead of the read" and ordered at the second's start, before a version of the
same contact stamped earlier in that second and ordered by its stamp (read on a page normalised in
time): the newer version lost in ingest until the contact changed again. A stamp inside the
``Date``'s second is now not ahead of the read (``NormaliseOptions.now_floored``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.normalise import NormaliseOptions, normalise_record, read_on_tool_clock
from core.schema import RecordDraft, SourceRecord

#: The second HubSpot's answers were made in (their ``Date``), by its clock and ours (in step).
SECOND = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


def _version(stamped: datetime, options: NormaliseOptions | None) -> SourceRecord:
    draft = RecordDraft(
        source="hubspot", source_id="1", updated_at=stamped.isoformat(), emails=["ann@example.com"]
    )
    record = normalise_record(draft, options) if options else normalise_record(draft)
    assert isinstance(record, SourceRecord)
    return record


def test_a_version_stamped_in_the_dates_second_is_not_ordered_before_an_older_one() -> None:
    # GIVEN v1 stamped .200 and read on a page normalised at .300 (our clock: as before rob24)
    v1 = _version(
        SECOND + timedelta(milliseconds=200), NormaliseOptions(now=SECOND + timedelta(milliseconds=300))
    )
    # AND v2 stamped .400, answered at .500 (Date: the second, floored) and normalised 1.5 s later
    ours = NormaliseOptions(now=SECOND + timedelta(milliseconds=2000))
    v2 = _version(SECOND + timedelta(milliseconds=400), read_on_tool_clock(ours, SECOND))
    # THEN the newer version orders after the older one
    assert v2.ordered_at > v1.ordered_at


def test_a_version_stamped_past_the_dates_second_is_still_ordered_at_the_read() -> None:
    # GIVEN a version stamped 2 s past the Date of a tool 10 s behind ours (a fast record clock)
    ours = NormaliseOptions(now=SECOND + timedelta(seconds=10))
    ahead = _version(SECOND + timedelta(seconds=2), read_on_tool_clock(ours, SECOND))
    # THEN it is ordered at the read, so a correction stamped after the answer (.5) wins
    assert ahead.read_at == SECOND
    assert ahead.ordered_at < SECOND + timedelta(milliseconds=500)
