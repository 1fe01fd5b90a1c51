"""A Salesforce Bulk walk resumed from its ``bulk:`` cursor hands on a watermark resting on the job's
own time (its ``createdDate``, on Salesforce's clock), as the walk that made the job did in one go.

Red before sfbulk19 (review revB19): a resumed walk never read the tool's clock and rested on its own
start. With Salesforce's clock 6 minutes behind ours (``test_a_resumed_bulk_walk_caps_at_the_tools_clock
[resumed]``) a contact added after the pull was never pulled and two contacts changed after it were kept
in their old versions; with the clocks in step and the walk resumed 10 minutes after its job was made
(``test_a_bulk_walk_resumed_ten_minutes_later``) the two changed contacts were kept in their old
versions: the changes made after the job's snapshot fell before the hand-off.

The sandbox's job answers are shaped as Salesforce documents its Bulk API 2.0 job info
(``GET /services/data/vXX.X/jobs/query/{jobId}``: ``id``, ``state``, ``createdDate`` as
``2026-01-02T03:04:05.000+0000`` on the org's clock; the official SDK's ``bulk2`` polls them in
``tests/unit/connectors/salesforce/test_official_sdk.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import connectors.salesforce._bulk as bulk
from connectors.sdk import PullCursor, parse_point
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from core.time_bound import CLOCK_SKEW, TimeBound
from profilesync.testing.contract import FAR_FUTURE
from tests.integration.test_attack4_pages_change_while_paged import (
    SETTINGS,
    _assert_as_the_tool_holds,
    _connect,
    _held,
)
from tests.integration.test_attack11_sync_cursors import _fresh, _sandbox


def _pages(state: InMemorySyncStateStore) -> dict[str, str | None]:
    """The page each stream's walk stands at, by stream (a ``bulk:`` page: a walk cut short)."""
    cursor = PullCursor.decode(state.get_sync_state("salesforce").cursor, "salesforce")
    return {name: s.page for name, s in cursor.streams.items()}


def _cut_short(state: InMemorySyncStateStore) -> bool:
    """Whether the pull stopped inside its walk of the streams (the next pull resumes it)."""
    return PullCursor.decode(state.get_sync_state("salesforce").cursor, "salesforce").active is not None


def _first_bulk_pull(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, InMemoryProfileStore]:
    """An org with a record stamped 2099, read by bulk jobs of 7 records a result set."""
    monkeypatch.setattr(bulk, "BULK_PAGE", 7)
    sandbox = _sandbox("salesforce")
    sandbox.add_records(1, at=FAR_FUTURE)
    connector = _connect("salesforce", sandbox)
    connector.bulk_threshold = 1  # a first pull by bulk job
    return sandbox, connector, InMemoryProfileStore()


@pytest.mark.parametrize("max_pages", [None, 1], ids=["one_go", "resumed"])
def test_a_resumed_bulk_walk_caps_at_the_tools_clock(
    max_pages: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN Salesforce's clock 6 minutes behind ours (more than CLOCK_SKEW) and a first pull by bulk
    job, in one go or resumed a result set at a time, WHEN two contacts change and one is added just
    after it (stamped on Salesforce's clock) and the next pull runs THEN the store holds what the org
    holds."""
    sandbox, connector, store = _first_bulk_pull(monkeypatch)
    state = InMemorySyncStateStore()
    lag = CLOCK_SKEW + timedelta(minutes=1)
    try:
        ours = datetime.now(UTC)
        sandbox.clock.set(datetime.now(UTC) - lag)
        for _ in range(50):
            pull_into_store(connector, store, state, settings=SETTINGS, max_pages=max_pages)
            if max_pages is None or not _cut_short(state):
                break
        assert not _cut_short(state)
        # (the next whole second on Salesforce's clock, once it is there)
        at = (datetime.now(UTC) - lag).replace(microsecond=0) + timedelta(seconds=1)
        time.sleep(max(0.0, (at + lag - datetime.now(UTC)).total_seconds()) + 0.05)
        sandbox.clock.set(at)
        assert at < ours.replace(microsecond=0)
        keys = sorted(k.split(":", 1)[1] for k in _held(store))
        sandbox.touch(set(keys[:2]), at=at)
        sandbox.add_records(1, at=at)
        sandbox.clock.set(datetime.now(UTC) - lag)
        pull_into_store(connector, store, state, settings=SETTINGS)
        _assert_as_the_tool_holds(store, _fresh("salesforce", sandbox))
    finally:
        connector.close()


def _resumed_from(now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every walk started from here on starts at ``now`` by our clock."""
    monkeypatch.setattr(bulk.TimeBound, "from_now", classmethod(lambda cls, *_: TimeBound(now)))


def test_a_bulk_walk_resumed_ten_minutes_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a first pull by bulk job cut short after its first result set (clocks in step) WHEN two
    contacts change, the walk is resumed 10 minutes later (past CLOCK_SKEW) to its end, and the next
    pull runs THEN the store holds what the org holds, and the resumed walk handed on a watermark no
    later than the job's createdDate less CLOCK_SKEW. The ``bulk:`` page is written as before this
    change (``bulk:{job id}:{Sforce-Locator}``): a cursor in flight across an upgrade resumes."""
    sandbox, connector, store = _first_bulk_pull(monkeypatch)
    state = InMemorySyncStateStore()
    try:
        pull_into_store(connector, store, state, settings=SETTINGS, max_pages=1)  # a job, a result set
        jobs = dict(sandbox.jobs)
        (job,) = jobs
        assert _pages(state)["contacts"] == f"bulk:{job}:Nw"  # the 7th row, base64 as Salesforce's locator
        created = parse_point(jobs[job]["info"]["createdDate"])
        assert created is not None
        at = datetime.now(UTC).replace(microsecond=0)
        keys = sorted(k.split(":", 1)[1] for k in _held(store))
        sandbox.touch(set(keys[:2]), at=at)  # after the job's snapshot
        with monkeypatch.context() as later:
            _resumed_from(at + timedelta(minutes=10), later)
            for _ in range(50):
                pull_into_store(connector, store, state, settings=SETTINGS, max_pages=1)
                if _pages(state).get("contacts") is None:
                    break
            cursor = PullCursor.decode(state.get_sync_state("salesforce").cursor, "salesforce")
            handed = cursor.state("contacts").since
            assert handed is not None
            assert handed <= created - CLOCK_SKEW
            while _cut_short(state):
                pull_into_store(connector, store, state, settings=SETTINGS, max_pages=1)
        pull_into_store(connector, store, state, settings=SETTINGS)
        _assert_as_the_tool_holds(store, _fresh("salesforce", sandbox))
    finally:
        connector.close()


def _without_created_date(sandbox: Any) -> Callable[[httpx.Request], httpx.Response]:
    route = sandbox.route

    def answer(request: httpx.Request) -> httpx.Response:
        response = route(request)
        path = request.url.path
        if request.method == "GET" and "/jobs/query/" in path and not path.endswith("/results"):
            info = response.json()
            info.pop("createdDate", None)
            return httpx.Response(response.status_code, json=info, headers=dict(response.headers))
        return response

    return answer


@pytest.mark.parametrize("loss", ["job_deleted", "no_created_date"])
def test_a_resumed_bulk_job_that_does_not_say_when_it_ran_reads_the_stream_again(
    loss: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a first pull by bulk job cut short after its first result set WHEN the job is gone (404)
    or its answer has no createdDate, and the pull is resumed THEN the stream is read again from the
    start (a new job: no hand-off without the job's time) and the store holds what the org holds."""
    sandbox, connector, store = _first_bulk_pull(monkeypatch)
    state = InMemorySyncStateStore()
    try:
        pull_into_store(connector, store, state, settings=SETTINGS, max_pages=1)
        (first,) = sandbox.jobs
        if loss == "job_deleted":
            sandbox.jobs.clear()
        else:
            monkeypatch.setattr(sandbox, "route", _without_created_date(sandbox))
        pull_into_store(connector, store, state, settings=SETTINGS, max_pages=1)
        assert set(sandbox.jobs) - {first}, "a new job reads the stream again"
        assert not (_pages(state)["contacts"] or "").startswith(f"bulk:{first}:")
        monkeypatch.undo()
        pull_into_store(connector, store, state, settings=SETTINGS)
        _assert_as_the_tool_holds(store, _fresh("salesforce", sandbox))
    finally:
        connector.close()
