"""Attack (attack4): the tool changes while a pull is paging through it, and nothing is lost.

Every built-in connector is pulled into a store through ``pull_into_store`` against its own sandbox;
after the first page is durable (the pull's progress callback), records the walk already passed are
changed, records are added, and (where the vendor reports deletions) one record the walk passed is
deleted. The next incremental pull then runs. Whatever order the vendor pages in, the store must
then hold exactly what a fresh full pull of the tool holds, record for record: a change made behind
the walk must not be skipped by the walk and then by the cursor it hands on.

The same holds for a full pull killed between two pages, changed at the tool, then resumed from its
saved cursor.

Found: Stripe's full pull read the events (``customer.updated``, ``charge.refunded``,
``customer.deleted``) only to set their watermark, and dropped those of objects its list streams had
already returned: a customer renamed, a charge refunded or a customer deleted while a full pull
paged was never pulled (the rename and the refund were lost for good, the deleted customer stayed
in its profile); a full pull killed and resumed lost them likewise.
"""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors import hubspot, klaviyo, mailchimp, salesforce, shopify, stripe, woocommerce
from connectors._http import RetryPolicy
from connectors._sandbox import DeletesRecords
from core.connector import Connector, ConnectorPlugin
from core.pipeline import IngestSettings
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import PullReport, pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.hypothesis_profiles import examples

PLUGINS: dict[str, tuple[ConnectorPlugin, dict[str, Any]]] = {
    # (limits far above what these tests send: at its sandbox's defaults, HubSpot's 100 requests per
    # 10 s and 5 searches a second, the connector paced in real time, 3.9 s slept by one test of
    # tests/integration/test_cursor18_aba_upgrade.py alone; tests/unit/connectors/hubspot tests the
    # limits and the pacing)
    "hubspot": (hubspot.PLUGIN, {"rate_limit_per_10s": 10_000, "search_requests_per_second": 1_000}),
    # (pages of 25: at its default 1,000 each walk crossed its page edges with 2,005 records added)
    "mailchimp": (mailchimp.PLUGIN, {"page_size": 25}),
    "klaviyo": (klaviyo.PLUGIN, {}),
    # (the sandbox's read limit, which its connector paces at: at test mode's 25 a second each walk
    # waited seconds of real time)
    "stripe": (stripe.PLUGIN, {"requests_per_second": 10_000}),
    # (pages of 25: at the 249 customers and 99 orders a page of its default, each walk crossed its
    # page edges with 505 records added to the sandbox, and the incremental case 505 more)
    "shopify": (shopify.PLUGIN, {"rate_scale": 1000.0, "page_size": 25}),
    # (query batches of 200, the fewest Salesforce's batchSize asks for: at its default 2,000 each
    # walk crossed its page edges with 4,005 records in the sandbox)
    "salesforce": (salesforce.PLUGIN, {"bulk_threshold": 0, "batch_size": 200}),
    "woocommerce": (woocommerce.PLUGIN, {"requests_per_10s": 2500}),
}
SETTINGS = IngestSettings(sleep=lambda _: None)


def _sandbox(name: str) -> Any:
    plugin, options = PLUGINS[name]
    assert plugin.sandbox is not None
    sandbox = plugin.sandbox(people=60, seed=11, **options)
    sandbox.add_records(2 * _page_size(name, sandbox) + 5, at=T_CHANGES)
    return sandbox


def _page_size(name: str, sandbox: Any) -> int:
    """The page size of the connector ``sandbox``'s settings build (an option may ask for fewer)."""
    connector = _connect(name, sandbox)
    try:
        return connector.spec.page_size
    finally:
        connector.close()


def _connect(name: str, sandbox: Any) -> Connector:
    retry = RetryPolicy(max_attempts=10, backoff_floor=0.01, backoff_cap=0.1, sleep=lambda _: None)
    return PLUGINS[name][0].build(dataclasses.replace(sandbox.settings(), retry=retry))


def _held(store: InMemoryProfileStore) -> dict[str, str | None]:
    """Each live record the store holds, by key, with the hash of the version it keeps (without its
    time: a Stripe object has none, a full pull dates it by its creation, a pulled change by its event)."""
    keys = [f"source#{r.key}" for p in store.iter_profiles() for r in p.sources]
    return {k.removeprefix("source#"): o.record_hash for k, o in store.get_owners(keys).items()}


def _as_a_fresh_pull(connector: Connector) -> dict[str, str | None]:
    """What a full pull of the tool as it is now gives, by record key and version hash."""
    store = InMemoryProfileStore()
    pull_into_store(connector, store, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)
    return _held(store)


def _assert_as_the_tool_holds(store: InMemoryProfileStore, fresh: dict[str, str | None]) -> None:
    """The store holds every record of ``fresh`` (a full pull of the tool now), in that version,
    and no other."""
    held = _held(store)
    wrong = {
        "never pulled": sorted(set(fresh) - set(held)),
        "deleted at the tool, still in a profile": sorted(set(held) - set(fresh)),
        "kept in an old version": sorted(k for k in fresh.keys() & held.keys() if held[k] != fresh[k]),
    }
    assert wrong == {key: [] for key in wrong}


def _delete_one(sandbox: Any, keys: list[str], at: Any) -> None:
    """Delete the first of ``keys`` the vendor deletes (Stripe deletes customers, not charges)."""
    for key in keys:
        with contextlib.suppress(ValueError):
            sandbox.delete_records({key}, at=at)
            return


@pytest.mark.slow
@pytest.mark.parametrize("first", ["full", "incremental"])
@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_records_changed_added_and_deleted_behind_a_walk_are_all_in_after_the_next_pull(
    name: str, first: str
) -> None:
    sandbox = _sandbox(name)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    connector = _connect(name, sandbox)
    try:
        if first == "incremental":
            # GIVEN a synced store, and more than two pages of new records since its cursor
            pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
            sandbox.add_records(2 * connector.spec.page_size + 5, at=T_CHANGES + timedelta(seconds=5))
        passed: list[str] = []
        changed_at = T_CHANGES + timedelta(seconds=30)

        def behind_the_walk(report: PullReport) -> None:
            if report.pages != 1:
                return
            # WHEN, once the first page is in, records it held change, new ones arrive, and one it
            # held is deleted at the vendor
            passed.extend(sorted(_held(store))[:12])
            keys = {k.split(":", 1)[1] for k in passed}
            sandbox.touch(set(sorted(keys)[:6]), at=changed_at)
            sandbox.add_records(3, at=changed_at)
            if isinstance(sandbox, DeletesRecords) and "deletions" in connector.spec.capabilities:
                _delete_one(sandbox, sorted(keys - set(sorted(keys)[:6]), reverse=True), changed_at)

        walk = pull_into_store(
            connector, store, state, settings=SETTINGS, erasure=erasure, progress=behind_the_walk
        )
        assert walk.pages >= 2, "the walk must have more than one page"
        assert passed
        # AND the next incremental pull runs
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        # THEN the store holds every record the tool holds, each as the tool holds it now
        fresh = _as_a_fresh_pull(connector)
    finally:
        connector.close()
    _assert_as_the_tool_holds(store, fresh)


class _KilledError(Exception):
    """The run dies between two pages (a Lambda timing out, a deploy)."""


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_a_full_pull_killed_mid_walk_and_resumed_after_changes_loses_nothing(name: str) -> None:
    sandbox = _sandbox(name)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    connector = _connect(name, sandbox)

    def killed_after_two_pages(report: PullReport) -> None:
        if report.pages == 2:
            raise _KilledError

    try:
        # GIVEN a first full pull killed once two pages are durable
        with pytest.raises(_KilledError):
            pull_into_store(connector, store, state, settings=SETTINGS, progress=killed_after_two_pages)
        saved = state.get_sync_state(name).cursor
        assert saved is not None, "the cursor of the durable pages was not saved"
        # WHEN, before it is resumed, records already pulled change, new ones arrive, one is deleted
        keys = sorted(k.split(":", 1)[1] for k in _held(store))
        changed_at = T_CHANGES + timedelta(seconds=30)
        sandbox.touch(set(keys[:5]), at=changed_at)
        sandbox.add_records(3, at=changed_at)
        if isinstance(sandbox, DeletesRecords) and "deletions" in connector.spec.capabilities:
            _delete_one(sandbox, list(reversed(keys[5:])), changed_at)
        # AND the pull resumes from its saved cursor, and the next incremental pull runs
        resumed = pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        assert resumed.cursor_before == saved
        assert state.get_sync_state(name).cursor != saved, "the cursor did not move"
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        fresh = _as_a_fresh_pull(connector)
    finally:
        connector.close()
    # THEN the store holds what the tool holds
    _assert_as_the_tool_holds(store, fresh)


@pytest.mark.parametrize("resume", [False, True], ids=["walk-on", "resumed"])
@pytest.mark.parametrize(
    "name", sorted(n for n, (p, _) in PLUGINS.items() if "deletions" in p.spec.capabilities)
)
def test_the_record_a_page_token_names_deleted_before_the_next_page_stops_no_pull(
    name: str, resume: bool
) -> None:
    """A vendor that pages with the id of the last record read (Stripe's ``starting_after``) refuses
    that id once the record is deleted: the walk, and every pull resumed from its saved cursor,
    failed with the same 400 for good (the cursor never moved again)."""
    sandbox = _sandbox(name)
    connector = _connect(name, sandbox)
    try:
        # GIVEN the first page of a full pull
        pages = connector.pull(None)
        first = next(pages)
        drafts = [d for d in connector.to_records(first) if not d.deleted]
        # WHEN the last record it listed (the one the next page is asked after) is deleted at the tool
        last = drafts[-1]
        sandbox.delete_records({f"{last.object_type}:{last.source_id}"})
        # THEN the walk goes on (or a pull resumed from the first page's cursor does), and together
        # with the first page it returns every record the tool still holds
        rest = connector.pull(first.cursor) if resume else pages
        seen = {f"{d.object_type}:{d.source_id}" for d in drafts}
        for page in rest:
            seen |= {f"{d.object_type}:{d.source_id}" for d in connector.to_records(page) if not d.deleted}
    finally:
        connector.close()
    assert sorted(sandbox.record_keys() - seen) == []


_CHANGE = st.sampled_from(["touch", "add", "delete"])


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plan=st.lists(st.tuples(st.integers(1, 4), _CHANGE, st.integers(0, 10_000)), min_size=1, max_size=5),
    kill_at=st.one_of(st.none(), st.integers(1, 4)),
)
@pytest.mark.parametrize(
    "name", sorted(n for n, (p, _) in PLUGINS.items() if "deletions" in p.spec.capabilities)
)
def test_changes_at_any_page_of_walks_killed_anywhere_end_as_the_tool_holds(
    name: str, plan: list[tuple[int, str, int]], kill_at: int | None
) -> None:
    """Any changes (records edited, added, deleted) after any page of a full pull, which may be
    killed after any page and resumed: after the next incremental pull the store holds what the
    tool holds."""
    sandbox = _sandbox(name)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    connector = _connect(name, sandbox)
    clock = [T_CHANGES]

    def change(report: PullReport) -> None:
        for page, what, pick in plan:
            if page != report.pages:
                continue
            clock[0] += timedelta(seconds=2)
            keys = sorted(sandbox.record_keys())
            key = keys[pick % len(keys)]
            if what == "touch":
                sandbox.touch({key}, at=clock[0])
            elif what == "add":
                sandbox.add_records(1, at=clock[0])
            else:
                _delete_one(sandbox, [key], clock[0])
        if kill_at is not None and report.pages == kill_at and not killed:
            killed.append(True)
            raise _KilledError

    killed: list[bool] = []
    try:
        with contextlib.suppress(_KilledError):
            pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure, progress=change)
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        fresh = _as_a_fresh_pull(connector)
    finally:
        connector.close()
    _assert_as_the_tool_holds(store, fresh)


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_one_record_edited_again_after_each_sync_is_pulled_each_time(name: str) -> None:
    """The newest record of the last pull (alone on its watermark) is edited again, nothing else
    changes, and the next pull runs: Mailchimp's walk re-reads the member at its offset to check
    the block did not shift, found the edited member there, took it for one already read (its id
    was on the watermark) and returned nothing: the second edit was lost for good."""
    plugin, options = PLUGINS[name]
    assert plugin.sandbox is not None
    sandbox = plugin.sandbox(people=30, seed=3, **options)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect(name, sandbox)
    try:
        # GIVEN a synced store
        pull_into_store(connector, store, state, settings=SETTINGS)
        key = sorted(k for k in sandbox.record_keys() if f"{name}:{k}" in _held(store))[0]
        # WHEN one record is edited, synced, edited again and synced again
        pulled = []
        for minutes in (1, 2):
            sandbox.touch({key}, at=T_CHANGES + timedelta(minutes=minutes))
            pulled.append(pull_into_store(connector, store, state, settings=SETTINGS).pulled)
        fresh = _as_a_fresh_pull(connector)
    finally:
        connector.close()
    # THEN each sync pulled it, and the store keeps its last version
    assert all(pulled), pulled
    held = _held(store)
    assert held[f"{name}:{key}"] == fresh[f"{name}:{key}"]


_ROUND = st.lists(st.tuples(_CHANGE, st.integers(0, 10_000), st.integers(0, 3)), min_size=1, max_size=4)


# 4 drawn rounds in ``make test`` (8 in ``make test-deep``), the two found kept explicit in both.
@settings(max_examples=examples(ci=4, deep=8), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rounds=st.lists(_ROUND, min_size=1, max_size=4))
# Found by hypothesis on Stripe: a customer renamed at :01, then again asked to be stamped :00 (the
# sandbox listed the second event after the first, which Stripe's clock cannot: it kept the first
# name); a customer renamed and deleted on the second of the newest event (the fresh full pull read
# both events as changes made during it, and the update brought the deleted customer back).
@example(rounds=[[("touch", 62, 1), ("add", 0, 0), ("add", 0, 0), ("touch", 204, 0)], [("touch", 0, 0)]])
@example(rounds=[[("touch", 9986, 0), ("delete", 9986, 0)]])
@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_changes_between_syncs_in_any_order_end_as_the_tool_holds(
    name: str, rounds: list[list[tuple[str, int, int]]]
) -> None:
    """Rounds of changes (the same record edited again, a record deleted then its key picked
    again, several on one second), each followed by an incremental sync: the store ends as the
    tool holds it."""
    plugin, options = PLUGINS[name]
    assert plugin.sandbox is not None
    sandbox = plugin.sandbox(people=30, seed=3, **options)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    connector = _connect(name, sandbox)
    deletes = isinstance(sandbox, DeletesRecords) and "deletions" in plugin.spec.capabilities
    try:
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        for number, changes in enumerate(rounds):
            for what, pick, second in changes:
                at = T_CHANGES + timedelta(minutes=number, seconds=second)
                keys = sorted(sandbox.record_keys())
                key = keys[pick % len(keys)]
                if what == "touch":
                    sandbox.touch({key}, at=at)
                elif what == "add":
                    sandbox.add_records(1, at=at)
                elif deletes:
                    _delete_one(sandbox, [key], at)
            pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        fresh = _as_a_fresh_pull(connector)
    finally:
        connector.close()
    _assert_as_the_tool_holds(store, fresh)
