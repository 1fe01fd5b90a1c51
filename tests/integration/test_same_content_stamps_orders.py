"""Copies of one content with different stamps give one profile in any order and batching (tie22).

A record's versions of the SAME content, each read at one of two moments and stamped before its read,
within ``CLOCK_SKEW`` ahead, or hours ahead, share ordering times (``SourceRecord.ordered_at``) and
differ by stamp (``updated_at``); some versions of other content cut their runs. Fed to each store
shuffled, some twice, in batches of random sizes, the whole profile (traits with their times, consent
with its times, the sources' ``updated_at``) is what the definition gives for the set: the snapshot is
the copy at the start of the current content's run with the largest stamp seen at that time
(``reference_snapshot``). Before, the stamp kept was the one of the copy that arrived first (or the
smallest of one call), so the profile's times depended on arrival order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.merge import DEFAULT_RULES, build_profile
from core.normalise import NormaliseOptions, normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import Profile, RecordDraft, SourceRecord
from core.testing.invariants import store_problems
from tests.hypothesis_profiles import examples
from tests.integration.resolve_files import resolved
from tests.integration.store_port.conftest import KITS
from tests.integration.store_port.kit_copies import opened_kit
from tests.integration.store_port.test_same_read_stamps_on_every_store import (
    HOUR,
    NOW,
    PAIRS,
    _Killed,
    version,
)
from tests.integration.store_port.test_touch_races_merge import BACKENDS, Interleaved
from tests.integration.test_times19_content_runs import fed_shuffled, reference_snapshot

pytestmark = pytest.mark.slow

SETTINGS = IngestSettings(sleep=lambda _: None)

READS = (
    datetime(2026, 6, 1, 12, 0, 0, 300_000, tzinfo=UTC),
    datetime(2026, 6, 1, 12, 0, 2, 700_000, tzinfo=UTC),
)
#: Stamps relative to the read, in minutes: before it (a time of its own), within CLOCK_SKEW ahead
#: (ordered at the read), hours ahead (ordered just before the read's second): copies share times.
STAMPS = (-30, 1, 3, 60, 120, 180)

#: A version: the first name, the email consent, which read, and the stamp's minutes from it.
Version = tuple[str, bool, int, int]
VERSIONS = st.lists(
    st.tuples(
        st.sampled_from(["Ann", "Bo"]),
        st.booleans(),
        st.sampled_from([0, 1]),
        st.sampled_from(STAMPS),
    ),
    min_size=2,
    max_size=7,
)


def _record(version: Version, source: str = "crm") -> SourceRecord:
    name, granted, read, minutes = version
    draft: dict[str, Any] = {
        "source": source,
        "source_id": "1",
        "updated_at": READS[read] + timedelta(minutes=minutes),
        "emails": ["ann@example.com"],
        "traits": {"first_name": name},
        "consent": {"email": granted},  # dated by the record's own time: hashed without it
    }
    record = normalise_record(RecordDraft(**draft), NormaliseOptions(now=READS[read]))
    assert isinstance(record, SourceRecord)
    return record


def reference(records: Iterable[SourceRecord]) -> dict[str, Any]:
    """The profile by the definition: of each record, the current content's run starts at its
    earliest time after every other content; of its copies at that time, the largest stamp
    (``reference_snapshot``)."""
    by_key: dict[str, list[SourceRecord]] = {}
    for record in records:
        by_key.setdefault(record.key, []).append(record)
    snapshots = [reference_snapshot(versions) for versions in by_key.values()]
    return exported(build_profile("reference", snapshots, DEFAULT_RULES))


def exported(profile: Profile) -> dict[str, Any]:
    """The profile as exported, without its id and version (which name, not decide)."""
    return profile.model_dump(mode="json", exclude={"customer_id", "version"})


@pytest.mark.parametrize("store", sorted(KITS))
@settings(max_examples=examples(ci=15, deep=100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(versions=VERSIONS, mail=VERSIONS.map(lambda v: v[:3]), seed=st.integers(0, 2**32 - 1))
@example(versions=[("Ann", True, 0, 60), ("Ann", True, 0, 120)], mail=[], seed=1)  # one call: the smaller
@example(versions=[("Ann", True, 0, 120), ("Ann", True, 0, 60)], mail=[], seed=0)  # one by one: the first
@example(  # a late other content cuts a run: the start re-dated to its time without its stamp
    versions=[("Ann", True, 0, -30), ("Ann", True, 1, 120), ("Bo", True, 1, -30)], mail=[], seed=0
)
def test_copies_of_one_content_give_one_profile_in_any_order_and_batching(
    store: str, versions: list[Version], mail: list[Version], seed: int
) -> None:
    # GIVEN versions of a CRM contact, copies of one content among them at one time with other
    # stamps, and of the same person's newsletter record (its times tie with the contact's)
    records = [_record(v) for v in versions] + [_record(v, "mail") for v in mail]
    expected = reference(records)
    # WHEN a store is fed them shuffled (some twice), in batches of random sizes (and all again,
    # which writes nothing)
    profile = fed_shuffled(store, records, seed)
    # THEN its whole profile, times included, is the one the set of versions gives
    assert exported(profile) == expected


@pytest.mark.parametrize("store", sorted(KITS))
def test_a_run_cut_late_counts_from_its_next_copy_with_that_copy_s_stamp(store: str) -> None:
    # GIVEN Ann's contact read at 12:00:00 stamped 11:30, and read at 12:00:02 stamped two hours
    # ahead (ordered just before 12:00:02), stored together
    early, ahead = _record(("Ann", True, 0, -30)), _record(("Ann", True, 1, 120))
    late = _record(("Bo", True, 1, -30))  # other content of 11:30:02, delivered after them
    with opened_kit(store) as kit:
        ingest([early, ahead], kit.profiles, SETTINGS)
        # WHEN the other content arrives late: the run is cut, Ann counts from the copy stamped ahead
        assert ingest([late], kit.profiles, SETTINGS).stale == 1
        (profile,) = kit.profiles.iter_profiles()
    # THEN the profile is that copy's, with its stamp: what the three arriving the other way gives
    assert exported(profile) == reference([early, ahead, late])
    assert [s.updated_at for s in profile.sources] == [ahead.updated_at]
    assert profile.consent["email"].changed_at == ahead.updated_at


@pytest.mark.parametrize("store", sorted(KITS))
def test_a_later_stamp_of_the_start_rewrites_the_snapshot_counted_unchanged(store: str) -> None:
    # GIVEN Ann's contact read at 12:00:00 stamped an hour ahead, stored
    smaller, larger = _record(("Ann", True, 0, 60)), _record(("Ann", True, 0, 120))
    assert smaller.ordered_at == larger.ordered_at
    with opened_kit(store) as kit:
        ingest([smaller], kit.profiles, SETTINGS)
        (before,) = kit.profiles.iter_profiles()
        events = kit.profiles.history.list_history(before.customer_id).events
        # WHEN a copy of the same read stamped two hours ahead arrives
        result = ingest([larger], kit.profiles, SETTINGS)
        (after,) = kit.profiles.iter_profiles()
        # THEN the profile is the larger stamp's (as the two in one call, or the other way round),
        # the copy is counted unchanged, and the customer's history holds no new event
        assert exported(after) == reference([smaller, larger]) == reference([larger])
        assert (result.unchanged, result.written, result.touched) == (1, 0, 0)
        assert kit.profiles.history.list_history(after.customer_id).events == events
        # AND the smaller stamp delivered again changes nothing
        assert ingest([smaller], kit.profiles, SETTINGS).unchanged == 1
        assert exported(next(iter(kit.profiles.iter_profiles()))) == exported(after)


def _resolved(folder: Path, lines: list[dict[str, Any]], batch_size: int) -> list[dict[str, Any]]:
    """The profiles resolved, without their ids and versions (which name, not decide)."""
    drop = ("customer_id", "version")
    return [{k: v for k, v in p.items() if k not in drop} for p in resolved(folder, lines, batch_size)]


def test_resolve_exports_one_profile_for_copies_stamped_hours_ahead_in_any_order(tmp_path: Path) -> None:
    # GIVEN three copies of Ann's contact stamped 2, 5 and 3 hours ahead of now (a tool clock fast,
    # exporting it unchanged three times: one ordering time, the run's start), and her newsletter line
    now = datetime.now(UTC).replace(microsecond=0)
    stamps = [(now + timedelta(hours=h)).isoformat() for h in (2, 5, 3)]
    copies = [
        {"source": "crm", "id": "c1", "updated_at": at, "email": "ann@example.com", "city": "Leeds",
         "consent": {"email": True}}
        for at in stamps
    ]  # fmt: skip
    lines = [
        *copies,
        {"source": "mail", "id": "m1", "updated_at": "2026-01-01T00:00:00Z", "email": "ann@example.com"},
    ]
    orders = [lines, lines[::-1], [lines[1], lines[3], lines[0], lines[2]]]
    # WHEN resolved in three orders, one line at a time and all at once
    exported = [
        _resolved(tmp_path / f"{i}-{size}", o, size) for i, o in enumerate(orders) for size in (1, 20_000)
    ]
    # THEN every run exports the same profile, dated by the largest stamp
    assert all(e == exported[0] for e in exported), exported
    (ann,) = exported[0]
    assert datetime.fromisoformat(ann["provenance"]["city"]["updated_at"]) == now + timedelta(hours=5)
    assert datetime.fromisoformat(ann["consent"]["email"]["changed_at"]) == now + timedelta(hours=5)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_two_writers_raising_the_start_s_stamp_at_once_keep_the_larger(backend: str, tmp_path: Path) -> None:
    # GIVEN Ann's contact read at 12:00:00 stamped an hour ahead, stored
    made = BACKENDS[backend](tmp_path)
    store, other = next(made)
    one, two, three = (_record(("Ann", True, 0, m)) for m in (60, 120, 180))
    try:
        ingest([one], store, SETTINGS)

        def larger() -> None:
            assert ingest([three], other(), SETTINGS).unchanged == 1

        # WHEN a copy stamped two hours ahead is written, and another process writes the copy
        # stamped three hours ahead between that write's read and its commit
        b = Interleaved(store, lambda changesets: bool(changesets), larger)
        ingest([two], b, SETTINGS)
        assert b.fired == 1
        # THEN the larger stamp stays: the later commit was judged again against it
        (profile,) = store.iter_profiles()
        assert exported(profile) == reference([one, two, three])
        assert [s.updated_at for s in profile.sources] == [three.updated_at]
    finally:
        made.close()


@pytest.mark.parametrize("keep", [0, 1, 6, PAIRS - 1])
@pytest.mark.parametrize("store", sorted(KITS))
def test_a_kill_between_the_writes_of_larger_stamps_loses_nothing(store: str, keep: int) -> None:
    # GIVEN twelve people's contacts stored stamped +1 h, and a run of their unchanged copies stamped
    # +2 h (one read: one ordering time) killed after its first ``keep`` changesets were written
    smaller = [version(i, f"City{i}", NOW + HOUR) for i in range(PAIRS)]
    larger = [version(i, f"City{i}", NOW + 2 * HOUR) for i in range(PAIRS)]
    with opened_kit(store) as kit:
        ingest(smaller, kit.profiles, SETTINGS)
        killed = _Killed(kit.profiles, keep)
        with pytest.raises(RuntimeError, match="simulated kill"):
            ingest(larger, killed, SETTINGS)
        # WHEN the smaller stamps are delivered again, then the larger, then the smaller once more
        for batch in (smaller, larger, smaller):
            ingest(batch, kit.profiles, SETTINGS)
        # THEN every profile is dated by the larger stamp, and the store is consistent
        profiles = list(kit.profiles.iter_profiles())
        assert store_problems(profiles, kit.profiles.ident_owners()) == []
        assert sorted(p.sources[0].updated_at for p in profiles) == [NOW + 2 * HOUR] * PAIRS
