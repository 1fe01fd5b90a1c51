"""A content run keeps the stamps of versions stamped ahead of their read (tie21): observations
compare as ``(time, stamp, hash)`` (core.content_run.key), and the state is still a function of the
set of observations; a run of versions stamped at their times, and every ``run`` stored before
stamps existed, encodes and reads as before."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.content_run import ONE_TIME, ContentRun, key, read_of, redated, stored_run
from core.merge import build_profile, record_hash
from core.schema import ConsentState
from core.testing.records import T0, make_record
from tests.hypothesis_profiles import examples

# (hour, minutes of stamp ahead of it, content): ties of times with and without a tie of stamps
OBSERVATION = st.tuples(
    st.sampled_from([0, 1, 2, 3]), st.sampled_from([0, 0, 30, 90]), st.sampled_from("abc")
)


@settings(max_examples=examples(ci=300, deep=2000), deadline=None)
@given(observations=st.lists(OBSERVATION, min_size=1, max_size=12), seed=st.integers(0, 2**32 - 1))
def test_a_content_run_with_stamps_is_a_function_of_the_set_of_observations(
    observations: list[tuple[int, int, str]], seed: int
) -> None:
    # GIVEN observations (time, stamp, content) with ties of times; WHEN folded in two orders, merged
    # in halves, and read back from what a store keeps
    seen = [(T0 + timedelta(hours=h), c, T0 + timedelta(hours=h, minutes=m)) for h, m, c in observations]
    shuffled = list(seen)
    random.Random(seed).shuffle(shuffled)
    cut = len(shuffled) // 2
    run = ContentRun.of(seen)
    # THEN the state is the same, and what the definition gives with the key (time, stamp, hash)
    assert ContentRun.of(shuffled) == run
    if cut:
        assert ContentRun.of(shuffled[:cut]).merged(ContentRun.of(shuffled[cut:])) == run
    assert stored_run(run.record_hash, run.last, run.encode()) == run
    ordered = sorted({(t, s, c) for t, c, s in seen})
    current = ordered[-1][2]
    after = max((o for o in ordered if o[2] != current), default=None)
    kept = [o for o in ordered if o[2] == current and (after is None or o > after)]
    assert run.record_hash == current
    assert (None if run.other is None else key(run.other)) == after
    assert run.times == tuple(sorted({t for t, _, _ in kept}))
    assert key(run.newest) == kept[-1]


def test_runs_without_stamps_encode_as_before_and_old_runs_read_with_stamps_at_their_times() -> None:
    # GIVEN the ``run`` values main wrote before stamps existed (ONE_TIME, and JSON without stamps)
    day = [T0 + timedelta(days=d) for d in range(4)]
    written = {
        ONE_TIME: ContentRun("h", (day[3],)),
        f'[["{day[1].isoformat()}","{day[3].isoformat()}"],null]': ContentRun("h", (day[1], day[3])),
        f'[["{day[3].isoformat()}"],["{day[2].isoformat()}","g"]]': ContentRun("h", (day[3],), (day[2], "g")),
    }
    for text, run in written.items():
        # THEN they read as runs with every stamp at its time, and encode to the same text
        read = stored_run("h", day[3], text)
        assert read == run
        assert read.stamps is None
        assert read.encode() == text
        assert key(read.newest) == (day[3], day[3], "h")


def test_a_version_stamped_ahead_is_not_one_time_and_keeps_its_stamp() -> None:
    # GIVEN one observation at a read, stamped two hours ahead of it
    at, stamp = T0, T0 + timedelta(hours=2)
    run = ContentRun.of([(at, "h", stamp)])
    # THEN its run is written with the stamp (not ONE_TIME, which reads as the item's time) and reads back
    assert run.encode() != ONE_TIME
    assert stored_run("h", at, run.encode()).newest == (at, "h", stamp)
    # AND a copy of other content of the same read stamped earlier is older; one stamped later is newer
    assert run.observe(at, "g", T0 + timedelta(hours=1)).record_hash == "h"
    assert run.observe(at, "g", T0 + timedelta(hours=3)).record_hash == "g"


READ = st.datetimes(
    min_value=T0.replace(tzinfo=None), max_value=(T0 + timedelta(days=2)).replace(tzinfo=None)
).map(lambda t: t.replace(tzinfo=T0.tzinfo))


@settings(max_examples=examples(ci=300, deep=3000), deadline=None)
@given(read=READ, ahead=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=3)))
def test_a_copy_re_dated_to_a_kept_time_and_stamp_orders_there_as_the_copy_read_there(
    read: datetime, ahead: timedelta
) -> None:
    # GIVEN a copy stamped ahead of its read (within CLOCK_SKEW or more), consent dated by its stamp
    stamp = read + ahead
    copy = make_record("crm", "1", email="ann@example.com").model_copy(
        update={
            "updated_at": stamp,
            "read_at": read,
            "consent": {"email": ConsentState(granted=True, changed_at=stamp)},
        }
    )
    at = copy.ordered_at
    # WHEN a copy of the same content at another time is re-dated to that time and stamp (what a run
    # keeps: core.ingest_runs re-dates a stored snapshot so when a late version of other content cuts
    # its run)
    other = copy.model_copy(update={"updated_at": T0, "read_at": None})
    other = other.model_copy(update={"consent": {"email": ConsentState(granted=True, changed_at=T0)}})
    again = redated(other, at, stamp)
    # THEN it orders, is stamped and decides its consent as the copy read there
    assert (again.ordered_at, again.updated_at) == (at, stamp)
    assert build_profile("c", [again]) == build_profile("c", [copy])
    assert record_hash(again) == record_hash(copy)
    assert read_of(at, stamp) is not None
