"""A version stamped ahead of its read is ordered just before the second it was read in, on every store.

Normalisation reads a time more than a day ahead (2099) as the moment it read it, and orders one
within the day by that moment (``SourceRecord.ordered_at``). Ordered at the read itself, with its
microseconds, a correction the tool stamped on that second (whole seconds: made just after the read)
was older than the version it corrects and dropped as stale: the 2099 version was kept
(tests/integration/test_cursor18_watermark_programs.py, on all seven connectors). Such a time is
known only to be no later than the read, so it orders in the millisecond before that second
(``core.time_bound.read_before``), versions read later after ones read earlier. The order is a
property of each version alone: the same versions, in any order and any batching, give one result.
"""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.content_hash import record_hash
from core.pipeline import IngestSettings, ingest
from core.storage.memory import InMemoryProfileStore

from .conftest import KITS, StoreKit
from .test_time_ahead_on_every_store import version as _version

#: The second the versions are read around, and when a version stamped 2099 is read.
S = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
FAR = datetime(2099, 1, 1, tzinfo=UTC)
NO_SLEEP = IngestSettings(sleep=lambda _: None)


def _kit(name: str, folder: Path) -> contextlib.AbstractContextManager[StoreKit]:
    return contextlib.contextmanager(KITS[name])(folder)


def _held(store: object) -> tuple[str | None, str | None]:
    """The city the one profile holds and the hash of the version its record keeps."""
    [profile] = store.iter_profiles()  # type: ignore[attr-defined]
    owners = store.get_owners(["source#crm:contact:1"])  # type: ignore[attr-defined]
    return profile.traits["city"].value, owners["source#crm:contact:1"].record_hash


@pytest.mark.parametrize("name", sorted(KITS))
@pytest.mark.parametrize("order", ["2099 first", "correction first"])
@pytest.mark.parametrize("ahead", [FAR, S + timedelta(hours=10)], ids=["2099", "10h-ahead"])
def test_a_correction_stamped_on_the_second_a_version_stamped_ahead_was_read_wins(
    name: str, order: str, ahead: datetime, tmp_path: Path
) -> None:
    # GIVEN a version stamped ahead, read at S.300, and the tool's correction stamped S, read later
    wrong = _version("Leeds", ahead, S + timedelta(milliseconds=300))
    fixed = _version("York", S, S + timedelta(seconds=2))
    versions = [wrong, fixed] if order == "2099 first" else [fixed, wrong]
    with _kit(name, tmp_path) as kit:
        # WHEN both are ingested, one after the other
        for version in versions:
            ingest([version], kit.profiles, NO_SLEEP)
        # THEN the correction is what the store keeps
        assert _held(kit.profiles) == ("York", record_hash(fixed))


#: A version: its city, when it was stamped (a second around S, 10 hours ahead, or 2099) and when
#: it was read (milliseconds after S).
_VERSION = st.tuples(
    st.sampled_from(["Leeds", "York", "Bath"]),
    st.sampled_from(["-1s", "S", "+1s", "10h", "2099"]),
    st.integers(0, 2500),
)
_STAMPS = {
    "-1s": S - timedelta(seconds=1),
    "S": S,
    "+1s": S + timedelta(seconds=1),
    "10h": S + timedelta(hours=10),
    "2099": FAR,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KITS))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=st.lists(_VERSION, min_size=2, max_size=5), seed=st.integers(0, 2**32 - 1))
def test_versions_stamped_ahead_give_one_result_in_any_order_and_batching(
    name: str, drawn: list[tuple[str, str, int]], seed: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # GIVEN versions of one record, some stamped ahead of when they were read
    versions = [_version(c, _STAMPS[s], S + timedelta(milliseconds=ms)) for c, s, ms in drawn]
    # WHEN ingested one by one in the order drawn into memory, and shuffled in random batches here
    reference = InMemoryProfileStore()
    for version in versions:
        ingest([version], reference, NO_SLEEP)
    rng = random.Random(seed)
    shuffled = rng.sample(versions, len(versions))
    with _kit(name, tmp_path_factory.mktemp(name)) as kit:
        while shuffled:
            size = rng.randint(1, len(shuffled))
            ingest(shuffled[:size], kit.profiles, NO_SLEEP)
            shuffled = shuffled[size:]
        # THEN both hold the same version: the latest by ordering time (ties by content)
        assert _held(kit.profiles) == _held(reference)
