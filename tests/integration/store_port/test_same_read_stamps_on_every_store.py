"""Versions of one record stamped ahead of one read, on every store (tie21; revB19 item 5).

Two versions stamped more than ``CLOCK_SKEW`` ahead and read at one moment both order just before
that read's second (``SourceRecord.ordered_at``): a tie of ordering times. The later stamp is the
newer (a tool clock hours fast still stamps its changes in order), in one batch or one by one, in
either order, and after the stored item has moved (a merge) or a write was killed half-way. Before,
the tie went to the larger content hash: the later stamp lost in about 7 pairs of 12.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.normalise import NormaliseOptions, normalise_record
from core.pipeline import IngestSettings, ingest
from core.ports import Changeset
from core.schema import RecordDraft, SourceRecord
from core.testing.invariants import store_problems
from tests.integration.store_port.conftest import StoreKit

NO_SLEEP = IngestSettings(sleep=lambda _: None)
NOW = datetime(2026, 6, 1, 12, 0, 0, 300_000, tzinfo=UTC)
HOUR = timedelta(hours=1)
PAIRS = 12  # content pairs: about half of them ordered the wrong way by their hashes alone


def version(
    i: int, city: str, stamped: datetime, *, source: str = "crm", email: str | None = None
) -> SourceRecord:
    draft: dict[str, Any] = {
        "source": source,
        "source_id": str(i),
        "updated_at": stamped,
        "emails": [email or f"person{i}@example.com"],
        "traits": {"city": city},
    }
    record = normalise_record(RecordDraft(**draft), NormaliseOptions(now=NOW))
    assert isinstance(record, SourceRecord)
    return record


def cities(kit: StoreKit) -> dict[str, str]:
    profiles = list(kit.profiles.iter_profiles())
    assert store_problems(profiles, kit.profiles.ident_owners()) == []
    return {p.sources[0].id: p.traits["city"].value for p in profiles if len(p.sources) == 1}


def pairs() -> tuple[list[SourceRecord], list[SourceRecord]]:
    older = [version(i, f"Old{i}", NOW + HOUR) for i in range(PAIRS)]
    newer = [version(i, f"New{i}", NOW + 2 * HOUR) for i in range(PAIRS)]
    assert all(o.ordered_at == n.ordered_at < NOW for o, n in zip(older, newer, strict=True))  # a tie
    return older, newer


ARRANGEMENTS = {
    "one batch, older first": lambda o, n: [[v for pair in zip(o, n, strict=True) for v in pair]],
    "one batch, newer first": lambda o, n: [[v for pair in zip(n, o, strict=True) for v in pair]],
    "one by one, older first": lambda o, n: [o, n],
    "one by one, newer first": lambda o, n: [n, o],
}


@pytest.mark.parametrize("arrangement", sorted(ARRANGEMENTS))
def test_the_later_stamp_of_one_read_wins_in_any_batching_and_order(kit: StoreKit, arrangement: str) -> None:
    # GIVEN 12 records, each with a version stamped one hour ahead and one two hours ahead of one read
    older, newer = pairs()
    # WHEN they arrive in one batch or one by one, in either order
    results = [ingest(batch, kit.profiles, NO_SLEEP) for batch in ARRANGEMENTS[arrangement](older, newer)]
    # THEN every profile holds the version stamped later, and the older one was stale when it came last
    assert cities(kit) == {str(i): f"New{i}" for i in range(PAIRS)}
    if arrangement == "one by one, newer first":
        assert results[1].stale == PAIRS


def test_a_copy_stamped_later_of_the_first_content_wins_again(kit: StoreKit) -> None:
    # GIVEN A stamped +1 h, B stamped +2 h and A again stamped +3 h, all of one read (the tool changed
    # the field and changed it back)
    first, second, back = (
        version(0, c, NOW + h * HOUR) for c, h in (("Leeds", 1), ("York", 2), ("Leeds", 3))
    )
    # WHEN they arrive one by one, the copy of A before B
    for record in (first, back, second):
        ingest([record], kit.profiles, NO_SLEEP)
    # THEN A holds: its copy stamped +3 h is the newest observation, though its first came before B
    assert cities(kit) == {"0": "Leeds"}
    # AND B again, stamped +2 h, is stale
    assert ingest([second], kit.profiles, NO_SLEEP).stale == 1


@pytest.mark.parametrize("batching", ["one batch", "one by one"])
def test_the_snapshot_is_the_copy_stamped_after_the_other_content(kit: StoreKit, batching: str) -> None:
    # GIVEN A stamped +1 h, B stamped +2 h and A again stamped +3 h, all of one read
    versions = [version(0, c, NOW + h * HOUR) for c, h in (("Leeds", 1), ("York", 2), ("Leeds", 3))]
    # WHEN they arrive in that order, in one batch or one by one
    for batch in [versions] if batching == "one batch" else [[v] for v in versions]:
        ingest(batch, kit.profiles, NO_SLEEP)
    # THEN the snapshot is A stamped +3 h (the one after B), not its copy stamped before B
    [profile] = kit.profiles.iter_profiles()
    assert [(s.id, s.updated_at) for s in profile.sources] == [("0", NOW + 3 * HOUR)]
    assert profile.traits["city"].value == "Leeds"


def test_the_stamp_moves_with_its_item_in_a_merge(kit: StoreKit) -> None:
    # GIVEN the versions stamped +2 h stored, then records of another tool with the same emails, which
    # merge each pair of customers (the crm record's identifier item may move to the survivor)
    older, newer = pairs()
    ingest(newer, kit.profiles, NO_SLEEP)
    shop = [version(i, "Bath", NOW - HOUR, source="shop") for i in range(PAIRS)]
    ingest(shop, kit.profiles, NO_SLEEP)
    # WHEN the versions stamped +1 h of the same read arrive
    result = ingest(older, kit.profiles, NO_SLEEP)
    # THEN they are stale: every profile keeps the crm version stamped later
    assert result.stale == PAIRS
    profiles = list(kit.profiles.iter_profiles())
    assert sorted(p.traits["city"].value for p in profiles) == sorted(f"New{i}" for i in range(PAIRS))


class _Killed:
    """Wraps a store: its first commit writes its first ``keep`` changesets and then raises, like a
    process killed between two writes."""

    def __init__(self, store: Any, keep: int) -> None:
        self._store, self.keep, self.killed = store, keep, False

    def commit(self, changesets: Sequence[Changeset]) -> list[Changeset]:
        if not self.killed and len(changesets) > self.keep:
            self.killed = True
            self._store.commit(changesets[: self.keep])
            raise RuntimeError("simulated kill")
        result: list[Changeset] = self._store.commit(changesets)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.mark.parametrize("keep", [0, 1, 6, PAIRS - 1])
def test_a_kill_between_the_writes_of_the_later_stamp_loses_nothing(kit: StoreKit, keep: int) -> None:
    # GIVEN the versions stamped +1 h stored, and a run of the versions stamped +2 h killed after its
    # first ``keep`` changesets were written
    older, newer = pairs()
    ingest(older, kit.profiles, NO_SLEEP)
    killed = _Killed(kit.profiles, keep)
    with pytest.raises(RuntimeError, match="simulated kill"):
        ingest(newer, killed, NO_SLEEP)
    # WHEN the older versions are delivered again, then the batch, then the older versions once more
    ingest(older, kit.profiles, NO_SLEEP)
    ingest(newer, kit.profiles, NO_SLEEP)
    again = ingest(older, kit.profiles, NO_SLEEP)
    # THEN every profile holds the later stamp, and the older versions are stale
    assert cities(kit) == {str(i): f"New{i}" for i in range(PAIRS)}
    assert again.stale == PAIRS
