"""The contract every connector passes against its own sandbox, built in or plugin.

Subclass ``ConnectorContract`` in a test module and name the plugin::

    from connectors.hubspot import PLUGIN
    from profilesync.testing.contract import ConnectorContract

    class TestContract(ConnectorContract):
        plugin = PLUGIN

pytest then runs every ``test_*`` method below against a fresh sandbox. The sandbox must satisfy
``connectors._sandbox.SandboxControl``. Class attributes tune the suite: ``people`` (sandbox size),
``seed``, ``sandbox_options`` (extra arguments for the sandbox factory), and ``tie_count`` (how many
records share one timestamp in the page-boundary test; by default three more than a page, so the tie
always crosses a boundary).

What is checked: a full pull returns every record exactly once; the union of incremental pulls
equals a full refresh, ties across a page boundary included; an incremental pull after changes
returns exactly the changed records, and merged into a store they are what it keeps; a pull resumed
from any page's cursor loses nothing; 429s (with ``Retry-After: 0`` and with none), 5xx, timeouts
and truncated bodies are retried with real backoff and the pull completes; a wrong credential fails
fast with a clear, secret-free error; every pulled record normalises or is quarantined with a
reason; a record dated 2099, or hours ahead within the skew, hides no later edit; junk elements in a
page (a string where a record should be) are quarantined and the rest of the page is mapped; pushing
the same profiles twice makes no call the second time, and the echo of a push changes nothing; a
push in ``update`` mode creates nobody, and one in ``upsert`` mode creates only people whose consent
allows the tool's channel (and updates them, never creates them again, the next time); erase removes
the person, by email and by the ids of their records (after which the sandbox holds no email or
phone of theirs, and asking again is answered "absent").
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
import pytest

from connectors._http import ConnectorAuthError, RetryPolicy
from connectors._sandbox import DeletesRecords
from core.connector import Connector, ConnectorPlugin, RawPage
from core.merge import record_hash
from core.normalise import normalise_record, normalise_timestamp
from core.pipeline import IngestSettings, ingest
from core.ports import RETIRED_HASH
from core.push import primary_email
from core.schema import Identifier, Profile, Quarantined, RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import changed_profiles, pull_into_store, push_profiles
from core.tool_erasure import ErasesPushedRecords

#: Where the sandbox clock stands while the suite changes records (after every seeded timestamp).
T_CHANGES = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
#: A record's time far ahead of any clock (more than ``core.time_bound``'s default skew of a day).
FAR_FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
_FLOOR = 0.01


class SleepRecorder:
    """Stands in for ``time.sleep`` in the retry policy: records each wait, never blocks."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _key(draft: RecordDraft) -> str:
    return f"{draft.object_type}:{draft.source_id}"


def _content(draft: RecordDraft) -> dict[str, Any]:
    return draft.model_dump(mode="json", exclude={"raw"})


def _newer_or_same(pulled: dict[str, Any], full: dict[str, Any]) -> bool:
    """Whether the ``updated_at`` of a pulled draft's content is at or after a full pull's."""
    return bool(normalise_timestamp(pulled["updated_at"]) >= normalise_timestamp(full["updated_at"]))


class ConnectorContract:
    """Shared connector tests; see the module docstring."""

    plugin: ClassVar[ConnectorPlugin]
    people: ClassVar[int] = 120
    seed: ClassVar[int] = 7
    tie_count: ClassVar[int | None] = None
    sandbox_options: ClassVar[dict[str, Any]] = {}
    """Extra keyword arguments for ``plugin.sandbox(...)``, e.g. a rate-limit scale for fast tests."""
    full_pull_has_modification_times: ClassVar[bool] = True
    """False for a vendor whose objects carry no modification time (Stripe customers and charges):
    a full pull dates them by their creation, while a change pulled from the vendor's events carries
    the event's time, so the two agree on everything but ``updated_at``, which is never older."""

    # --- fixtures and helpers -----------------------------------------------------------------
    @pytest.fixture
    def sandbox(self) -> Any:
        if self.plugin.sandbox is None:
            pytest.skip(f"{self.plugin.spec.name} ships no sandbox")
        return self.plugin.sandbox(people=self.people, seed=self.seed, **self.sandbox_options)

    @pytest.fixture
    def sleeps(self) -> SleepRecorder:
        return SleepRecorder()

    @pytest.fixture
    def connector(self, sandbox: Any, sleeps: SleepRecorder) -> Iterator[Connector]:
        connector = self.connect(sandbox, sleeps)
        try:
            yield connector
        finally:
            connector.close()

    def connect(self, sandbox: Any, sleeps: SleepRecorder | None = None, **overrides: Any) -> Connector:
        """A connector wired to ``sandbox`` in-process, with retries that record instead of sleeping."""
        retry = RetryPolicy(
            max_attempts=10, backoff_floor=_FLOOR, backoff_cap=0.1, sleep=sleeps or SleepRecorder()
        )
        settings = dataclasses.replace(sandbox.settings(), retry=retry, **overrides)
        return self.plugin.build(settings)

    @staticmethod
    def pull_pages(connector: Connector, cursor: str | None) -> list[tuple[RawPage, list[RecordDraft]]]:
        """Each page and the records mapped from it; tombstones (records deleted at the vendor, which
        a full pull through Salesforce's queryAll also returns) are left out."""
        return [
            (page, [d for d in connector.to_records(page) if not d.deleted])
            for page in connector.pull(cursor)
        ]

    @classmethod
    def pull_drafts(cls, connector: Connector, cursor: str | None) -> tuple[list[RecordDraft], str | None]:
        pages = cls.pull_pages(connector, cursor)
        assert pages, "pull must yield at least one page (an empty one carries the cursor)"
        drafts = [d for _, ds in pages for d in ds]
        return drafts, pages[-1][0].cursor

    def _ties(self) -> int:
        return self.tie_count or self.plugin.spec.page_size + 3

    # --- pulling ------------------------------------------------------------------------------
    def test_full_pull_returns_every_record_exactly_once(self, sandbox: Any, connector: Connector) -> None:
        # GIVEN a seeded sandbox with more than one page of records
        sandbox.add_records(self.plugin.spec.page_size + 1, at=T_CHANGES)
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
            lambda: sandbox.add_records(self._ties(), at=T_CHANGES),
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
        sandbox.add_records(2 * self.plugin.spec.page_size + 5, at=T_CHANGES)
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

    def test_junk_elements_in_a_page_are_quarantined_and_the_rest_of_the_page_is_mapped(
        self, sandbox: Any, sleeps: SleepRecorder
    ) -> None:
        # GIVEN a vendor whose record lists hold junk: in every answer, the records of one id bucket
        # in five are replaced by a string, a null, a number or a list (a non-object in Stripe's
        # data list used to fail its page on every run, forever)
        sandbox.add_records(self.plugin.spec.page_size + 1, at=T_CHANGES)
        junk = JunkInjector(sandbox.settings().transport)
        connector = self.connect(sandbox, sleeps, transport=junk)
        try:
            # WHEN the connector pulls everything and maps every page
            pages = self.pull_pages(connector, None)
        finally:
            connector.close()
        # THEN every page maps to one draft per element, and every junk element is quarantined
        drafts = [d for page, ds in pages for d in ds]
        assert all(len(ds) == len(page.records) for page, ds in pages)
        outcomes = [normalise_record(d) for d in drafts]
        bad = [o for o in outcomes if isinstance(o, Quarantined) and "not an object" in o.reason]
        handed = sum(1 for page, _ in pages for record in page.records if not isinstance(record, dict))
        if not handed:
            pytest.skip("no junk reached a page: the records came another way (a CSV export?)")
        assert len(bad) == handed
        assert all(q.source == self.plugin.spec.name for q in bad)
        # AND every record arrived that was not itself replaced by junk in every answer holding it
        got = {_key(d) for d in drafts if not d.problem}
        missing = {k for k in sandbox.record_keys() - got if k.rsplit(":", 1)[-1] not in junk.replaced}
        assert missing == set()

    @pytest.mark.parametrize("retry_after", ["0", None, "1"])
    def test_throttling_server_errors_timeouts_and_truncated_bodies_are_retried_to_completion(
        self, sandbox: Any, sleeps: SleepRecorder, retry_after: str | None
    ) -> None:
        # GIVEN a sandbox that throttles, fails, times out and cuts bodies short on a share of requests
        # (half of all requests fail, over at least five pages, so every run meets several faults)
        sandbox.add_records(4 * self.plugin.spec.page_size, at=T_CHANGES)
        sandbox.faults = dataclasses.replace(
            sandbox.faults,
            throttle=0.25,
            server_error=0.12,
            timeout=0.06,
            truncate=0.07,
            retry_after=retry_after,
            seed=11,
        )
        connector = self.connect(sandbox, sleeps)
        try:
            # WHEN the connector pulls everything
            drafts, _ = self.pull_drafts(connector, None)
        finally:
            connector.close()
        # THEN the pull completes with every record once
        keys = [_key(d) for d in drafts]
        assert sorted(keys) == sorted(sandbox.record_keys())
        assert sandbox.stats.throttled > 0
        # AND every retry waited (no tight loop), honouring a positive Retry-After
        assert sleeps.waits, "faults were injected but the client never waited"
        assert min(sleeps.waits) >= _FLOOR
        if retry_after == "1":
            assert max(sleeps.waits) >= 1.0

    def test_a_wrong_credential_fails_fast_with_a_clear_error(self, sandbox: Any) -> None:
        # GIVEN a connector whose credentials are not the sandbox's
        good = sandbox.settings()
        wrong = {name: _wrong(value) for name, value in good.credentials.items()}
        connector = self.connect(sandbox, credentials=wrong)
        before = sandbox.stats.requests
        # WHEN it pulls
        with pytest.raises(ConnectorAuthError) as caught:
            for _ in connector.pull(None):
                pass
        connector.close()
        # THEN it stops at once, naming the setting to fix and never the secret itself
        assert sandbox.stats.requests - before <= 2
        message = str(caught.value)
        assert any(f"PROFILESYNC_{c.name.upper()}" in message for c in self.plugin.spec.credentials)
        for value in [*wrong.values(), *good.credentials.values()]:
            assert value not in message

    def test_every_pulled_record_normalises_or_is_quarantined_with_a_reason(
        self, connector: Connector
    ) -> None:
        # GIVEN everything the sandbox holds, realistic mess included
        drafts, _ = self.pull_drafts(connector, None)
        # WHEN each draft is normalised
        outcomes = [normalise_record(d) for d in drafts]
        # THEN each is a record or quarantined with a reason, and most people make it through
        quarantined = [o for o in outcomes if isinstance(o, Quarantined)]
        assert all(isinstance(o, SourceRecord | Quarantined) for o in outcomes)
        assert all(q.reason.strip() for q in quarantined)
        assert all(q.source == self.plugin.spec.name for q in quarantined)
        assert len(quarantined) <= 0.1 * len(outcomes)

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

    # --- pushing and erasing ------------------------------------------------------------------
    def _synced_profiles(self, connector: Connector) -> tuple[list[Profile], InMemoryProfileStore]:
        store = InMemoryProfileStore()
        drafts, _ = self.pull_drafts(connector, None)
        records = [o for o in (normalise_record(d) for d in drafts) if isinstance(o, SourceRecord)]
        ingest(records, store, IngestSettings(sleep=lambda _: None))
        return list(store.iter_profiles()), store

    def test_a_second_push_of_the_same_profiles_makes_no_api_call(
        self, sandbox: Any, connector: Connector
    ) -> None:
        # GIVEN profiles built from the sandbox's own records
        profiles, _ = self._synced_profiles(connector)
        state = InMemorySyncStateStore()
        # WHEN they are pushed once
        first = push_profiles(connector, profiles, state)
        # THEN the tool holds the enriched traits, in full batches
        assert first.failed == []
        assert first.pushed > 0
        batch = self.plugin.spec.push_batch_size
        assert first.calls == -(-first.sent // batch)
        pushed_any = next(p for p in profiles if connector.from_profile(p) is not None)
        email = primary_email(pushed_any)
        assert email is not None
        assert pushed_any.customer_id in {str(v) for v in sandbox.pushed_traits(email).values()}
        # AND a second push of the same profiles sends nothing at all
        before = sandbox.stats.requests
        second = push_profiles(connector, profiles, state)
        assert second.calls == 0
        assert second.skipped_unchanged == first.sent
        assert sandbox.stats.requests == before

    def test_the_echo_of_a_push_changes_nothing(self, sandbox: Any, connector: Connector) -> None:
        # GIVEN a store synced from the sandbox, its cursor saved, and the profiles pushed back
        store = InMemoryProfileStore()
        state = InMemorySyncStateStore()
        settings = IngestSettings(sleep=lambda _: None)
        pull_into_store(connector, store, state, settings=settings)
        profiles = list(store.iter_profiles())
        push_profiles(connector, profiles, state)
        # WHEN the next incremental pull brings the pushed records back (their modified time moved)
        echo = pull_into_store(connector, store, state, settings=settings)
        # THEN no profile needs pushing again: the loop stops here
        again = push_profiles(connector, changed_profiles(store, echo.ingest.customers), state)
        assert again.calls == 0
        assert echo.ingest.new_customers == 0

    def _with_strangers(self, connector: Connector) -> tuple[list[Profile], dict[str, bool | None]]:
        """The profiles of everyone the tool holds, plus six strangers (people only another tool knows)
        whose consent for the tool's channel is granted, refused or undecided; and each stranger's
        email with that consent."""
        profiles, store = self._synced_profiles(connector)
        channel = self.plugin.spec.push_rules.channel or "email"
        consents: dict[str, bool | None] = {}
        drafts = []
        for n, granted in enumerate((True, False, None, True, False, None)):
            email = f"stranger{n}.{self.plugin.spec.name}@elsewhere.example.com"
            consents[email] = granted
            drafts.append(
                RecordDraft(
                    source="elsewhere",
                    source_id=f"stranger-{n}",
                    updated_at=T_CHANGES,
                    emails=[email],
                    traits={"first_name": "Stranger", "last_name": f"Number{n}"},
                    consent={}
                    if granted is None
                    else {channel: {"granted": granted, "changed_at": T_CHANGES}},
                )
            )
        records = [o for o in map(normalise_record, drafts) if isinstance(o, SourceRecord)]
        result = ingest(records, store, IngestSettings(sleep=lambda _: None))
        return profiles + changed_profiles(store, result.customers), consents

    def test_a_push_in_update_mode_creates_nobody(self, sandbox: Any, connector: Connector) -> None:
        # GIVEN everyone the tool holds and six strangers, whatever their consent
        profiles, consents = self._with_strangers(connector)
        before = sandbox.record_keys()
        # WHEN they are pushed in update mode
        report = push_profiles(connector, profiles, InMemorySyncStateStore(), mode="update")
        # THEN the people the tool holds got their traits, and not one stranger was created
        assert report.failed == []
        assert report.updated > 0
        assert report.created == 0
        # (a connector may have nothing to send for a stranger: from_profile None, counted as no payload)
        strangers = [p for p in profiles if _is_stranger(p) and connector.from_profile(p) is not None]
        assert report.skipped_by_mode == len(strangers)
        assert not [email for email in consents if sandbox.holds(email)]
        assert sandbox.record_keys() == before

    def test_a_push_in_upsert_mode_creates_only_people_whose_consent_allows_the_channel(
        self, sandbox: Any, connector: Connector
    ) -> None:
        rules = self.plugin.spec.push_rules
        if "upsert" not in rules.modes:
            pytest.skip(f"{self.plugin.spec.name} pushes in update mode only")
        # GIVEN everyone the tool holds and six strangers: consent granted, refused, undecided (twice)
        profiles, consents = self._with_strangers(connector)
        state = InMemorySyncStateStore()
        # WHEN they are pushed in upsert mode
        report = push_profiles(connector, profiles, state, mode="upsert")
        # THEN a stranger the connector has something to send for exists in the tool exactly when the
        # tool's channel asks no consent or theirs is granted, and the report counts them as created
        # (the rest as skipped by consent)
        offered = {
            email
            for p in profiles
            if _is_stranger(p) and connector.from_profile(p) is not None
            for email in (i.value for i in p.identifiers if i.kind == "email")
        }
        allowed = {e for e in offered if rules.channel is None or consents.get(e) is True}
        assert report.failed == []
        assert {email for email in consents if sandbox.holds(email)} == allowed
        assert report.created == len(allowed)
        assert report.skipped_by_consent == len(offered) - len(allowed)
        # AND the next push of changed traits updates the people it created: nobody is created twice
        held = sandbox.record_keys()
        for profile in profiles:
            last = state.get_pushed(self.plugin.spec.name, [profile.customer_id]).get(profile.customer_id)
            if last is not None and _is_stranger(profile):
                state.put_pushed([dataclasses.replace(last, payload_hash="changed since")])
        again = push_profiles(connector, profiles, state, mode="update")
        assert again.failed == []
        assert (again.created, again.updated) == (0, len(allowed))
        assert sandbox.record_keys() == held

    def test_erase_removes_the_person_from_the_tool(self, sandbox: Any, connector: Connector) -> None:
        # GIVEN a person the tool holds
        drafts, _ = self.pull_drafts(connector, None)
        email = next(
            o.identifiers[0].value
            for o in (normalise_record(d) for d in drafts)
            if isinstance(o, SourceRecord) and o.identifiers and o.identifiers[0].kind == "email"
        )
        assert sandbox.holds(email)
        # WHEN they are erased
        (outcome,) = connector.erase([Identifier(kind="email", value=email)])
        # THEN the tool no longer has them, and erasing again finds nothing
        assert outcome.found
        assert not sandbox.holds(email)
        (again,) = connector.erase([Identifier(kind="email", value=email)])
        assert not again.found

    def test_erasing_a_persons_records_by_id_leaves_nothing_of_them_in_the_tool(
        self, sandbox: Any, connector: Connector
    ) -> None:
        # GIVEN a person the tool holds: every record a pull maps to their email, and the raw values
        drafts, _ = self.pull_drafts(connector, None)
        pairs = [(d, o) for d in drafts if isinstance(o := normalise_record(d), SourceRecord)]
        email = next(i.value for _, o in pairs for i in o.identifiers if i.kind == "email")
        theirs = [(d, o) for d, o in pairs if any(i.key == f"email#{email}" for i in o.identifiers)]
        ids = [o.source_identifier for _, o in theirs]
        raw = {
            v.strip() for d, _ in theirs for v in [*d.emails, *d.phones] if isinstance(v, str) and v.strip()
        }
        assert raw
        assert all(v.lower() in sandbox.holdings().lower() for v in raw)
        # WHEN the tool is asked to erase those records, by their ids (as an erasure asks)
        outcomes = connector.erase(ids)
        # THEN each was erased (or went with another: an order with its customer), and nothing the
        # tool holds carries the person's email or phone
        assert all(o.found or o.absent for o in outcomes), [o.detail for o in outcomes]
        assert any(o.found for o in outcomes)
        held = sandbox.holdings().lower()
        assert not [v for v in raw if v.lower() in held]
        assert not sandbox.holds(email)
        # AND asking again is answered "absent": the tool confirms nothing is left under those ids
        again = connector.erase(ids)
        assert all(not o.found and o.absent for o in again), [o.detail for o in again]

    def test_a_record_a_push_wrote_is_erased_through_its_remote_id(
        self, sandbox: Any, connector: Connector
    ) -> None:
        if not isinstance(connector, ErasesPushedRecords):
            pytest.skip("this connector's pushes create no record of their own (its remote ids name none)")
        # GIVEN profiles pushed to the tool, each push remembered with the remote id it answered
        profiles, _ = self._synced_profiles(connector)
        state = InMemorySyncStateStore()
        push_profiles(connector, profiles, state)
        pushed = state.get_pushed(connector.spec.name, [p.customer_id for p in profiles])
        remote = next(s.remote_id for s in pushed.values() if s.remote_id)
        # WHEN the record a remote id names is erased (an erasure asks for what its pushes created)
        identifier = connector.pushed_identifier(remote)
        assert identifier is not None
        assert identifier.kind == "source"
        (outcome,) = connector.erase([identifier])
        # THEN the tool erased it, and confirms it gone when asked again
        assert outcome.found, outcome.detail
        (again,) = connector.erase([identifier])
        assert again.absent


def _is_stranger(profile: Profile) -> bool:
    """A profile made only from the contract's own ``elsewhere`` records (see ``_with_strangers``)."""
    return bool(profile.sources) and all(ref.source == "elsewhere" for ref in profile.sources)


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


class JunkInjector:
    """An httpx transport that wraps a sandbox's: in every JSON answer, the objects of its largest
    list of objects (the page's records) whose id falls in one bucket of five are replaced by junk,
    and their ids noted in ``replaced`` (the tail of a GID, as record keys hold it). The choice is
    by id, so a record is junk in every answer that holds it, as a vendor's broken record would be;
    replacing keeps the vendor's offsets and counts true, so offset paging reads on as it would."""

    JUNK: ClassVar[tuple[Any, ...]] = ("junk", None, 42, ["a", "b"])
    #: The fields a record key may be made of, noted for a replaced element (Mailchimp keys a
    #: member by its ``contact_id``; the bucket is chosen by ``id``).
    ID_FIELDS: ClassVar[tuple[str, ...]] = ("id", "Id", "contact_id")

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.replaced: set[str] = set()
        self._count = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = self.inner.handle_request(request)
        if "json" not in response.headers.get("content-type", ""):
            return response
        response.read()
        try:
            body = json.loads(response.content)
        except ValueError:
            return response
        target = max(_object_lists(body), key=len, default=None)
        if target is None or len(target) < 2:
            return response  # (a probe of one record is left alone)
        for index, element in enumerate(target):
            key = str(element.get("id", element.get("Id", ""))).rsplit("/", 1)[-1]
            if key and zlib.crc32(key.encode()) % 5 == 0:
                self.replaced |= {
                    str(element[f]).rsplit("/", 1)[-1] for f in self.ID_FIELDS if element.get(f)
                }
                target[index] = self.JUNK[self._count % len(self.JUNK)]
                self._count += 1
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-encoding")
        }
        return httpx.Response(response.status_code, headers=headers, json=body, request=request)

    def close(self) -> None:
        self.inner.close()


def _object_lists(value: Any) -> Iterator[list[dict[str, Any]]]:
    """Every list of objects in a JSON value."""
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            yield value
        for v in value:
            yield from _object_lists(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _object_lists(v)


def _wrong(value: str) -> str:
    # Keep the shape (a Mailchimp key keeps its -dc suffix) so only the secret part is wrong.
    head, sep, tail = value.rpartition("-")
    if sep and 2 <= len(tail) <= 5:
        return f"wrong{head[::-1][:8]}{sep}{tail}"
    return f"wrong-{value[::-1][:12]}"


__all__ = [
    "FAR_FUTURE",
    "T_CHANGES",
    "ConnectorContract",
    "JunkInjector",
    "SleepRecorder",
    "changes_after_a_future_record",
]
