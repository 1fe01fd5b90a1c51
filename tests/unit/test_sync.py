"""The sync use cases against a connector fake at the port: cursors, quarantine, push skipping."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from core.connector import (
    ConnectorSpec,
    EraseOutcome,
    Payload,
    PushOutcome,
    RawPage,
)
from core.errors import ConflictError
from core.pipeline import IngestSettings
from core.ports import SyncState
from core.push import enriched_traits, primary_email
from core.schema import Identifier, Profile, RecordDraft
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import SAVED, changed_profiles, pull_into_store, push_profiles

NO_SLEEP = IngestSettings(sleep=lambda _: None)


class ListConnector:
    """Serves a list of flat records in pages of ``page_size``; the cursor is the next offset."""

    spec = ConnectorSpec(
        name="fake",
        kind="crm",
        description="test",
        default_base_url="https://fake.invalid",
        push_batch_size=2,
    )

    def __init__(self, rows: list[dict[str, Any]], page_size: int = 2, fail_after: int | None = None) -> None:
        self.rows = rows
        self.page_size = page_size
        self.fail_after = fail_after
        self.pushed: list[list[Payload]] = []
        self.reject: dict[str, bool] = {}  # customer_id -> retryable

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        offset = int(cursor or 0)
        pages = 0
        while offset < len(self.rows):
            if self.fail_after is not None and pages == self.fail_after:
                raise RuntimeError("connection lost")
            chunk = self.rows[offset : offset + self.page_size]
            offset += len(chunk)
            pages += 1
            yield RawPage(chunk, str(offset))
        if not pages:
            yield RawPage([], str(offset))

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        return [
            RecordDraft(
                source="fake",
                source_id=str(r["id"]),
                updated_at=r.get("updated_at", "2026-01-01T00:00:00Z"),
                emails=[r["email"]] if r.get("email") else [],
                traits={"first_name": r.get("name", "")},
                raw=r,
            )
            for r in page.records
        ]

    def from_profile(self, profile: Profile) -> Payload | None:
        email = primary_email(profile)
        return None if email is None else Payload(profile.customer_id, email, enriched_traits(profile))

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        self.pushed.append(list(payloads))
        out = []
        for p in payloads:
            if p.customer_id in self.reject:
                retryable = self.reject[p.customer_id]
                out.append(PushOutcome(p.customer_id, ok=False, error="rejected", retryable=retryable))
                if retryable:
                    del self.reject[p.customer_id]  # succeeds next time
            else:
                out.append(PushOutcome(p.customer_id, ok=True, remote_id=f"r-{p.match_key}"))
        return out

    def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
        return [EraseOutcome(i, found=False) for i in identifiers]

    def close(self) -> None:
        pass


def _rows(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "email": f"p{i}@example.com", "name": f"P{i}"} for i in range(n)]


def test_pull_saves_the_cursor_after_each_page_and_resumes_from_it() -> None:
    # GIVEN a connector of 5 records in pages of 2 that fails while fetching the third page
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    rows = _rows(5)
    with pytest.raises(RuntimeError):
        pull_into_store(ListConnector(rows, fail_after=2), store, state, settings=NO_SLEEP)
    # THEN the two durable pages are stored and the cursor points after them
    assert state.get_sync_state("fake").cursor == "4"
    assert len(list(store.iter_profiles())) == 4
    # WHEN the next run resumes from the saved cursor
    report = pull_into_store(ListConnector(rows), store, state, settings=NO_SLEEP)
    # THEN only the rest is pulled, and nothing is missing
    assert report.cursor_before == "4"
    assert report.pulled == 1
    assert len(list(store.iter_profiles())) == 5


def test_a_full_refresh_ignores_the_saved_cursor_and_changes_nothing_already_stored() -> None:
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = ListConnector(_rows(3))
    pull_into_store(connector, store, state, settings=NO_SLEEP)
    # WHEN pulled again from scratch
    report = pull_into_store(connector, store, state, cursor=None, settings=NO_SLEEP)
    # THEN every record is read again and recognised as unchanged
    assert report.full_refresh
    assert report.pulled == 3
    assert report.ingest.unchanged == 3
    assert report.ingest.written == 0


def test_malformed_records_are_quarantined_with_reasons_before_the_cursor_moves() -> None:
    # GIVEN a page where one record has no email and one has a broken timestamp
    rows = [
        {"id": 1, "email": "ok@example.com"},
        {"id": 2, "email": ""},
        {"id": 3, "email": "late@example.com", "updated_at": "yesterday-ish"},
    ]
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    report = pull_into_store(ListConnector(rows, page_size=3), store, state, settings=NO_SLEEP)
    # THEN the good one is stored, the two bad ones are kept with readable reasons and counted
    assert report.normalised == 1
    assert report.quarantined == 2
    assert sum(report.quarantine_reasons.values()) == 2
    assert {e.key for e in state.quarantined} == {"fake:contact:2", "fake:contact:3"}
    assert all(e.reason for e in state.quarantined)
    assert json.loads(state.quarantined[1].raw)["updated_at"] == "yesterday-ish"
    assert state.get_sync_state("fake").cursor == "3"
    # AND the report saved with the cursor says the same
    assert json.loads(state.get_sync_state("fake").report)["quarantined"] == 2


def test_two_runs_saving_from_the_same_state_conflict_instead_of_moving_the_cursor_back() -> None:
    state = InMemorySyncStateStore()
    first = state.put_sync_state(SyncState("fake", "10"))
    # WHEN a second run saves from the state it read before the first run saved
    with pytest.raises(ConflictError):
        state.put_sync_state(SyncState("fake", "4", version=0))
    # THEN the first run's cursor stands
    assert state.get_sync_state("fake").cursor == "10"
    assert first.version == 1


def test_push_sends_changed_profiles_in_full_batches_and_nothing_the_second_time() -> None:
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = ListConnector(_rows(5))
    pulled = pull_into_store(connector, store, state, settings=NO_SLEEP)
    profiles = changed_profiles(store, pulled.ingest.customers)
    # WHEN pushed twice
    first = push_profiles(connector, profiles, state)
    second = push_profiles(connector, profiles, state)
    # THEN the first push makes ceil(5 / 2) calls and the second none
    assert (first.sent, first.pushed, first.calls) == (5, 5, 3)
    assert [len(b) for b in connector.pushed] == [2, 2, 1]
    assert (second.calls, second.skipped_unchanged) == (0, 5)


def test_a_changed_profile_is_pushed_again_and_only_it() -> None:
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    rows = _rows(4)
    connector = ListConnector(rows)
    pull_into_store(connector, store, state, settings=NO_SLEEP)
    push_profiles(connector, list(store.iter_profiles()), state)
    # WHEN a second record of one person arrives under another id
    rows.append({"id": 99, "email": "p1@example.com", "name": "Other", "updated_at": "2026-02-01T00:00:00Z"})
    report = pull_into_store(connector, store, state, settings=NO_SLEEP)
    # THEN only the touched customer's profile is considered, and its payload did not change
    profiles = changed_profiles(store, report.ingest.customers)
    assert len(profiles) == 1
    again = push_profiles(connector, profiles, state)
    assert again.calls == 0


def test_retryable_push_failures_are_retried_and_permanent_ones_reported_not_saved() -> None:
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = ListConnector(_rows(4))
    pull_into_store(connector, store, state, settings=NO_SLEEP)
    profiles = list(store.iter_profiles())
    connector.reject = {profiles[0].customer_id: True, profiles[1].customer_id: False}
    # WHEN pushed
    report = push_profiles(connector, profiles, state)
    # THEN the retryable one went again and landed; the permanent one is reported and not remembered
    assert report.retried == 1
    assert report.pushed == 3
    assert [f.customer_id for f in report.failed] == [profiles[1].customer_id]
    assert set(state.get_pushed("fake", [p.customer_id for p in profiles])) == {
        p.customer_id for p in profiles if p.customer_id != profiles[1].customer_id
    }
    # AND the next push tries only the failed one again
    connector.reject = {}
    assert push_profiles(connector, profiles, state).sent == 1


def test_saved_cursor_is_the_default_and_an_explicit_cursor_overrides_it() -> None:
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = ListConnector(_rows(4))
    pull_into_store(connector, store, state, settings=NO_SLEEP)
    report = pull_into_store(connector, store, state, cursor="3", settings=NO_SLEEP)
    assert report.pulled == 1
    assert pull_into_store(connector, store, state, cursor=SAVED, settings=NO_SLEEP).pulled == 0


def test_payloads_of_different_groups_never_share_a_push_request() -> None:
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()

    class GroupedConnector(ListConnector):
        def from_profile(self, profile: Profile) -> Payload | None:
            payload = super().from_profile(profile)
            assert payload is not None
            group = "add" if payload.match_key.endswith(("1@example.com", "3@example.com")) else "update"
            return Payload(payload.customer_id, payload.match_key, payload.body, group=group)

    connector = GroupedConnector(_rows(5))
    pull_into_store(connector, store, state, settings=NO_SLEEP)
    # WHEN 3 "update" and 2 "add" payloads are pushed in batches of 2
    report = push_profiles(connector, list(store.iter_profiles()), state)
    # THEN each request holds one group only, and the batches are as full as the groups allow
    assert all(len({p.group for p in batch}) == 1 for batch in connector.pushed)
    assert sorted((batch[0].group, len(batch)) for batch in connector.pushed) == [
        ("add", 2),
        ("update", 1),
        ("update", 2),
    ]
    assert report.calls == 3
