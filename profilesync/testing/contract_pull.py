"""The contract's pulling tests: full and incremental pulls, ties across a page boundary, resuming from
any cursor, records dated ahead of the clock, and records deleted at the vendor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors._sandbox import DeletesRecords
from core.connector import Connector
from core.merge import record_hash
from core.normalise import normalise_record, normalise_timestamp
from core.pipeline import IngestSettings, ingest
from core.ports import RETIRED_HASH
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from profilesync.testing.contract_harness import FAR_FUTURE, T_CHANGES, ContractHarness, _content, _key


def _newer_or_same(pulled: dict[str, Any], full: dict[str, Any]) -> bool:
    """Whether the ``updated_at`` of a pulled draft's content is at or after a full pull's."""
    return bool(normalise_timestamp(pulled["updated_at"]) >= normalise_timestamp(full["updated_at"]))


class PullContract(ContractHarness):
    """Pulling; see profilesync.testing.contract."""

    # --- pulling ------------------------------------------------------------------------------
    def test_full_pull_returns_every_record_exactly_once(self, sandbox: Any, connector: Connector) -> None:
        # GIVEN a seeded sandbox with more than one page of records
        sandbox.add_records(self.page_size(sandbox) + 1, at=T_CHANGES)
        # WHEN the connector pulls everything
        drafts, cursor = self.pull_drafts(connector, None)
        # THEN every object comes back once, and a cursor is handed back for the next run
        counts = Counter(_key(d) for d in drafts)
        assert [k for k, n in counts.items() if n > 1] == []
        assert set(counts) == sandbox.record_keys()
        assert cursor is not None
        assert {d.source for d in drafts} == {self.plugin.spec.name}

    def test_incremental_after_changes_returns_exactly_the_changed_records(
        self, sandbox: Any, connector: Connector
    ) -> None:
        # GIVEN a full pull and its cursor
        _, cursor = self.pull_drafts(connector, None)
        # WHEN a few records change later, and the connector pulls from the cursor
        changed = set(sorted(sandbox.record_keys())[::9][:7])
        sandbox.touch(changed, at=T_CHANGES)
        drafts, _ = self.pull_drafts(connector, cursor)
        # THEN exactly the changed records come back, each once
        keys = [_key(d) for d in drafts]
        assert sorted(keys) == sorted(changed)

    def test_edits_pulled_incrementally_are_what_the_store_keeps(
        self, sandbox: Any, connector: Connector
    ) -> None:
        # GIVEN a full pull merged into a store
        store = InMemoryProfileStore()
        drafts, cursor = self.pull_drafts(connector, None)
        self._merge(drafts, store)
        # WHEN records change later, and an incremental pull is merged too
        changed = set(sorted(sandbox.record_keys())[::9][:10])
        sandbox.touch(changed, at=T_CHANGES)
        drafts, _ = self.pull_drafts(connector, cursor)
        self._merge(drafts, store)
        # THEN the store keeps each changed record as the tool now holds it: an edit is newer than
        # what it replaces (a vendor object with no modification time of its own, such as a Stripe
        # customer changed through an event, must not carry its creation time: the store took half of
        # such edits for stale, by the tie-break on the content hash)
        fresh, _ = self.pull_drafts(connector, None)
        now = {
            f"source#{o.key}": record_hash(o)
            for o in (normalise_record(d) for d in fresh if _key(d) in changed)
            if isinstance(o, SourceRecord)
        }
        assert now, "no changed record normalised"
        kept = {key: owner.record_hash for key, owner in store.get_owners(sorted(now)).items()}
        lost = sorted(k for k, v in now.items() if kept.get(k) != v)
        assert lost == [], f"edits pulled but not kept by the store: {lost}"

    @staticmethod
    def _merge(drafts: list[RecordDraft], store: InMemoryProfileStore) -> None:
        records = [o for o in (normalise_record(d) for d in drafts) if isinstance(o, SourceRecord)]
        ingest(records, store, IngestSettings(sleep=lambda _: None))

    def test_union_of_incremental_pulls_equals_a_full_refresh_with_ties_across_a_page_boundary(
        self, sandbox: Any, connector: Connector
    ) -> None:
        # GIVEN what a first full pull saw
        drafts, cursor = self.pull_drafts(connector, None)
        latest = {_key(d): _content(d) for d in drafts}
        # WHEN more records than a page arrive on one timestamp, some change, and incremental pulls run
        # between the changes. Round 3 adds records on the very timestamp round 2 stopped at, which a
        # cursor using ">" would miss. (A record changed twice within one vendor timestamp tick cannot be
        # told apart by any timestamp cursor, so every change below lands on a fresh tick or new record.)
        seeded = sorted(sandbox.record_keys())
        second = timedelta(seconds=1)
        rounds: list[Callable[[], object]] = [
            lambda: sandbox.add_records(self._ties(sandbox), at=T_CHANGES),
            lambda: sandbox.touch(set(seeded[::5]), at=T_CHANGES + second),
            lambda: sandbox.add_records(2, at=T_CHANGES + second),
            lambda: sandbox.touch(set(seeded[1::7]), at=T_CHANGES + 2 * second),
        ]
        for change in rounds:
            change()
            got, cursor = self.pull_drafts(connector, cursor)
            counts = Counter(_key(d) for d in got)
            assert [k for k, n in counts.items() if n > 1] == [], "an incremental pull duplicated records"
            latest.update({_key(d): _content(d) for d in got})
        # THEN the union of what was pulled equals a fresh full refresh, record for record
        fresh, _ = self.pull_drafts(connector, None)
        expected = {_key(d): _content(d) for d in fresh}
        if not self.full_pull_has_modification_times:
            # A full pull can only date such objects by their creation; a pulled change is newer.
            assert all(_newer_or_same(latest[k], expected[k]) for k in expected.keys() & latest.keys())
            latest = {k: {**c, "updated_at": None} for k, c in latest.items()}
            expected = {k: {**c, "updated_at": None} for k, c in expected.items()}
        assert latest == expected

    def test_a_pull_resumed_from_any_page_cursor_loses_nothing(
        self, sandbox: Any, connector: Connector
    ) -> None:
        # GIVEN a sandbox with at least three pages
        sandbox.add_records(2 * self.page_size(sandbox) + 5, at=T_CHANGES)
        pages = self.pull_pages(connector, None)
        assert len(pages) >= 3
        everything = sandbox.record_keys()
        # WHEN the pull is cut short after page k and resumed from that page's cursor
        for k in range(len(pages) - 1):
            before = [_key(d) for _, ds in pages[: k + 1] for d in ds]
            resumed, _ = self.pull_drafts(connector, pages[k][0].cursor)
            # THEN together they hold every record, none twice
            together = before + [_key(d) for d in resumed]
            assert sorted(together) == sorted(everything), (
                f"resuming after page {k + 1} lost or repeated records"
            )

    def test_a_record_dated_in_the_far_future_hides_no_later_edit(
        self, sandbox: Any, connector: Connector
    ) -> None:
        # GIVEN a full pull, then a record stamped 2099 (a typo, a device clock) pulled incrementally:
        # on main it became the cursor's watermark, and 0 of 11 later edits ever arrived
        # WHEN 10 records are edited and 2 are added after that pull, at the real clock as a vendor
        # stamps them, in two rounds with an incremental pull after each
        def pull(cursor: str | None) -> tuple[set[str], str | None]:
            drafts, after = self.pull_drafts(connector, cursor)
            return {_key(d) for d in drafts}, after

        changed, arrived = changes_after_a_future_record(sandbox, pull)
        # THEN every edit and every new record arrived
        assert changed <= arrived, f"changes lost after a future-dated record: {sorted(changed - arrived)}"

    @pytest.mark.parametrize("hours", [1, 10, 23])
    def test_a_record_stamped_hours_ahead_within_the_skew_hides_no_later_edit(
        self, sandbox: Any, connector: Connector, hours: int
    ) -> None:
        # GIVEN a record stamped some hours ahead of the real clock, within the day of skew a vendor's
        # clock may run ahead (a local time written as UTC: Sydney's is 10 hours ahead), pulled
        # incrementally: it was kept as stamped, and so was the watermark it carried, so every edit
        # made before that time was older than the cursor and was never asked for (0 of 12 arrived)
        def pull(cursor: str | None) -> tuple[set[str], str | None]:
            drafts, after = self.pull_drafts(connector, cursor)
            return {_key(d) for d in drafts}, after

        # WHEN 10 records are edited and 2 are added at the real clock, with a pull after each round
        changed, arrived = changes_after_a_future_record(sandbox, pull, timedelta(hours=hours))
        # THEN every edit and every new record arrived: a cursor never starts after its pull began
        assert changed <= arrived, f"changes lost after a record {hours} h ahead: {sorted(changed - arrived)}"

    def test_a_correction_of_a_record_stamped_hours_ahead_is_stored(
        self, sandbox: Any, connector: Connector
    ) -> None:
        # GIVEN records stamped 10 hours ahead of the real clock (within the day of skew), synced into
        # a store: their stamp is kept, and it used to order them too, so a correction stamped at
        # the real clock was older than the stored version and dropped as stale
        store, state = InMemoryProfileStore(), InMemorySyncStateStore()
        settings = IngestSettings(sleep=lambda _: None)
        pull_into_store(connector, store, state, settings=settings)
        before = sandbox.record_keys()
        sandbox.add_records(1, at=datetime.now(UTC).replace(microsecond=0) + timedelta(hours=10))
        ahead = sandbox.record_keys() - before
        pull_into_store(connector, store, state, settings=settings)
        # WHEN they are edited at the real clock and synced again
        sandbox.touch(ahead, at=datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1))
        pull_into_store(connector, store, state, settings=settings)
        # THEN the store holds the edited versions: what a full pull now reads
        drafts, _ = self.pull_drafts(connector, None)
        current = {
            record.key: record_hash(record)
            for record in (normalise_record(d) for d in drafts if _key(d) in ahead)
            if isinstance(record, SourceRecord)
        }
        assert current, f"none of {sorted(ahead)} normalises"
        stored = store.get_owners([f"source#{key}" for key in current])
        held = {
            key: stored[f"source#{key}"].record_hash if f"source#{key}" in stored else None for key in current
        }
        assert held == current, "an edit of a record stamped ahead was dropped as stale"

    # --- deletions at the vendor ---------------------------------------------------------------
    def test_a_record_deleted_at_the_vendor_is_gone_from_the_profile_after_the_next_incremental_pull(
        self, sandbox: Any, connector: Connector
    ) -> None:
        spec = self.plugin.spec
        if "deletions" not in spec.capabilities:
            pytest.skip(f"{spec.name} cannot report deletions: {spec.deletions or 'it does not say why'}")
        assert isinstance(sandbox, DeletesRecords), (
            "a connector that reports deletions needs a sandbox that makes them"
        )
        # GIVEN a store synced from the tool, and one of its people known to another tool too
        store, state = InMemoryProfileStore(), InMemorySyncStateStore()
        erasure = InMemoryErasureStore(store, state)
        settings = IngestSettings(sleep=lambda _: None)
        pull_into_store(connector, store, state, settings=settings, erasure=erasure)
        people = [
            o
            for o in (normalise_record(d) for d in self.pull_drafts(connector, None)[0])
            if isinstance(o, SourceRecord)
            and o.level == "person"
            and any(i.kind == "email" for i in o.identifiers)
        ]
        gone = people[len(people) // 2]
        email = next(i.value for i in gone.identifiers if i.kind == "email")
        other = normalise_record(
            RecordDraft(source="elsewhere", source_id="kept-1", updated_at=T_CHANGES, emails=[email])
        )
        assert isinstance(other, SourceRecord)
        ingest([other], store, settings)
        owner = store.get_owners([f"source#{gone.key}"])[f"source#{gone.key}"].customer_id
        before = {r.key for p in store.iter_profiles() if p.customer_id == owner for r in p.sources}
        assert {gone.key, other.key} <= before
        # WHEN the tool deletes that record, and the next incremental pull runs
        sandbox.delete_records({f"{gone.object_type}:{gone.source_id}"}, at=T_CHANGES + timedelta(seconds=1))
        report = pull_into_store(connector, store, state, settings=settings, erasure=erasure)
        # THEN the record is gone from every profile, and its id names no stored record (an order of
        # the person may still hold it as its owner link, with the tombstone's hash); the person's
        # other records all stay (the ones only the deleted record tied to them, such as its orders
        # joined by its id, as a profile of their own, as a resolution from scratch would make them)
        assert report.retired is not None, report.as_json()
        assert report.retired.retired == 1, report.as_json()
        link = store.get_owners([f"source#{gone.key}"]).get(f"source#{gone.key}")
        assert link is None or link.record_hash == RETIRED_HASH
        held = {r.key: p.customer_id for p in store.iter_profiles() for r in p.sources}
        assert gone.key not in held
        assert before - {gone.key} <= set(held)
        (profile,) = [p for p in store.iter_profiles() if p.customer_id == held[other.key]]
        assert gone.key not in {r.key for r in profile.sources}
        # AND nothing else was retired, and the next pull retires nothing again
        again = pull_into_store(connector, store, state, settings=settings, erasure=erasure)
        assert again.retired is None or again.retired.retired == 0


def changes_after_a_future_record(
    sandbox: Any,
    pull: Callable[[str | None], tuple[set[str], str | None]],
    ahead: timedelta | None = None,
) -> tuple[set[str], set[str]]:
    """The contract's far-future case, for the suite and for ``bench/bad_input.py``: a full pull, a
    record stamped 2099 (or ``ahead`` of the real clock) pulled incrementally, then 10 edits and 2 new
    records at the real clock in two rounds with a pull after each. ``pull(cursor)`` gives ``(record
    keys, next cursor)``; the answer is ``(keys changed after the future record, keys that arrived
    after it)``."""
    _, cursor = pull(None)
    before = sandbox.record_keys()
    stamp = FAR_FUTURE if ahead is None else datetime.now(UTC).replace(microsecond=0) + ahead
    sandbox.add_records(1, at=stamp)
    future = sandbox.record_keys() - before
    got, cursor = pull(cursor)
    assert future <= got, "the future-dated record itself did not arrive"
    changed = set(sorted(before)[:10])
    arrived: set[str] = set()
    for step, keys in enumerate((sorted(changed)[:5], sorted(changed)[5:])):
        at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1 + step)
        known = sandbox.record_keys()
        sandbox.touch(set(keys), at=at)
        sandbox.add_records(1, at=at)
        changed |= sandbox.record_keys() - known
        got, cursor = pull(cursor)
        arrived |= got
    return changed, arrived
