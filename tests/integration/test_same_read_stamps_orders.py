"""Versions of one record stamped ahead of their reads, in any order and batching (tie21).

Hypothesis draws versions of one record, each read at one of two moments and stamped before its read,
within ``CLOCK_SKEW`` ahead, or hours ahead: many share an ordering time (``SourceRecord.ordered_at``)
and differ by stamp. Fed to each store shuffled, some twice, in batches of random sizes, every store
decides as all of them at once by the definition (``reference_profile``: the newest by time, stamp,
hash). Before, a tie of times went to the content hash in the runs and in ``core.merge.newest``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.normalise import NormaliseOptions, normalise_record
from core.schema import Profile, RecordDraft, SourceRecord
from tests.hypothesis_profiles import examples
from tests.integration.store_port.conftest import KITS
from tests.integration.test_times19_content_runs import fed_shuffled, reference_profile

READS = (
    datetime(2026, 6, 1, 12, 0, 0, 300_000, tzinfo=UTC),
    datetime(2026, 6, 1, 12, 0, 2, 700_000, tzinfo=UTC),
)
#: Stamps relative to the read, in minutes: before it, within CLOCK_SKEW ahead, hours ahead.
STAMPS = (-30, 2, 60, 120)

#: A version: the first name, which read, and the stamp's minutes from it.
Version = tuple[str, int, int]
VERSIONS = st.lists(
    st.tuples(st.sampled_from(["Ann", "Mel", "Bo"]), st.sampled_from([0, 1]), st.sampled_from(STAMPS)),
    min_size=2,
    max_size=6,
)


def _record(version: Version) -> SourceRecord:
    name, read, minutes = version
    draft: dict[str, Any] = {
        "source": "crm",
        "source_id": "1",
        "updated_at": READS[read] + timedelta(minutes=minutes),
        "emails": ["ann@example.com"],
        "traits": {"first_name": name},
    }
    record = normalise_record(RecordDraft(**draft), NormaliseOptions(now=READS[read]))
    assert isinstance(record, SourceRecord)
    return record


def _values(profile: Profile) -> dict[str, tuple[str, str]]:
    return {n: (str(t.value), t.source) for n, t in profile.traits.items()}


@pytest.mark.parametrize("store", sorted(KITS))
@settings(max_examples=examples(ci=15, deep=100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(versions=VERSIONS, seed=st.integers(0, 2**32 - 1))
@example(versions=[("Ann", 0, 120), ("Bo", 0, 60)], seed=1)  # the hash put Bo first
@example(versions=[("Bo", 0, 60), ("Ann", 0, 120), ("Bo", 0, 180), ("Mel", 1, -30)], seed=2)
def test_versions_of_one_read_decide_by_their_stamps_in_any_order_and_batching(
    store: str, versions: list[Version], seed: int
) -> None:
    # GIVEN versions of one record, several of one read stamped ahead of it
    records = [_record(v) for v in versions]
    expected = _values(reference_profile(records))
    # WHEN a store is fed them shuffled (some twice), in batches of random sizes (and all again,
    # which writes nothing)
    profile = fed_shuffled(store, records, seed)
    # THEN it holds the content of the newest by time, then stamp, then hash
    assert _values(profile) == expected
