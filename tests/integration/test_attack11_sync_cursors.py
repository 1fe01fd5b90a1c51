"""attack11: every cursor moves past what it delivered, and hides nothing after it, on the seven
built-in connectors' sandboxes through ``core.sync.pull_into_store`` (what ``profilesync sync`` runs).

Records dated far in the past (1971) and far in the future (2099) are in the tool when it is first
synced; a page fails once (a 503 the client retries); records change after the cursor, on the very
second of the cursor's watermark, and a second later (stamped by the tool's clock). After each run the
store holds what a fresh full pull of the tool holds, and a run with nothing changed writes nothing
and pulls nothing but the 2099 record and the records changed in the ``CLOCK_SKEW`` before it.

Found and fixed: with a record stamped ahead of the clock, the watermark a walk hands on is capped at
the walk's start (``core.time_bound.TimeBound.cap``), which kept its microseconds; the tools stamp
whole seconds, so a change made later in the second the pull began was stamped before the watermark
and never asked for (HubSpot, Klaviyo, Salesforce, Stripe lost them; WooCommerce pulled that second's
records again on every run). ``TimeBound.from_now`` starts at the whole second now. Since the hand-off
is the start less ``CLOCK_SKEW`` (and no later than the tool's ``Date`` less it), the changes above are
minutes after it and no longer tell; the case's last runs (``_hand_off_to_the_second``) put changes a
second before the hand-off and on its second, and the hand-off kept with its microseconds, rounded to
the nearest second or cut to the minute turns them red (5, 7 and 7 of the 7 connectors).

Found and fixed: a record delivered on its cursor's watermark second and changed again within that
second (a tool stamping seconds: Shopify, WooCommerce, Salesforce, Klaviyo; the HubSpot sandbox stamps
seconds too) was never pulled again: the cursor remembered the ids it delivered at the watermark and
skipped them, whatever their content now. It now keeps tags of the versions delivered, the id with
the content (``connectors.cursor_tags.version_tag``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connectors._sandbox import json_response
from core.connector import Connector
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import PullReport, pull_into_store
from core.testing.clock import OurClock
from core.time_bound import CLOCK_SKEW
from profilesync.testing.contract import FAR_FUTURE, T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import (
    PLUGINS,
    SETTINGS,
    _as_a_fresh_pull,
    _assert_as_the_tool_holds,
    _connect,
    _held,
)

pytestmark = pytest.mark.slow


def _sandbox(name: str) -> Any:
    plugin, options = PLUGINS[name]
    assert plugin.sandbox is not None
    return plugin.sandbox(people=30, seed=5, **options)


def _failing(sandbox: Any, times: int) -> Callable[[], None]:
    """Make the sandbox's next page request after the first fail ``times`` times with a 503; the
    answer: a call that arms it again."""
    route = sandbox.route
    state = {"requests": 0, "left": 0}

    def failing(request: httpx.Request) -> httpx.Response:
        state["requests"] += 1
        if request.method == "GET" and state["requests"] >= 2 and state["left"] > 0:
            state["left"] -= 1
            return json_response(503, {"message": "Service temporarily unavailable (attack11)"})
        return route(request)

    sandbox.route = failing

    def arm() -> None:
        state["requests"], state["left"] = 0, times

    return arm


def _fresh(name: str, sandbox: Any) -> dict[str, str | None]:
    """A full pull of the tool as it is now, by a connector of its own (no state shared with the run's)."""
    connector = _connect(name, sandbox)
    try:
        return _as_a_fresh_pull(connector)
    finally:
        connector.close()


def _pull(connector: Connector, store: InMemoryProfileStore, state: InMemorySyncStateStore) -> PullReport:
    return pull_into_store(connector, store, state, settings=SETTINGS)


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_odd_dates_and_failing_pages_move_every_cursor_past_what_it_delivered(name: str) -> None:
    # (the tool's clock runs with ours: each second on moves ours to just past its next second, the
    # tool's with it, where the case waited for the wall clock; a change is never stamped ahead of
    # the tool's clock: a record stamped ahead is pulled again until the clock reaches it)
    with OurClock() as ours:
        _odd_dates_and_failing_pages(name, ours)


def _odd_dates_and_failing_pages(name: str, ours: OurClock) -> None:
    sandbox = _sandbox(name)
    # GIVEN a tool holding a record last changed in 1971 and one stamped 2099
    sandbox.add_records(1, at=datetime(1971, 1, 1, tzinfo=UTC))
    future = sandbox.add_records(1, at=FAR_FUTURE)
    arm = _failing(sandbox, 1)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect(name, sandbox)
    try:
        # WHEN it is synced while one page fails once
        arm()
        _pull(connector, store, state)
        _assert_as_the_tool_holds(store, _fresh(name, sandbox))
        # AND records change after the cursor (stamped by the tool's clock, a second on), and it is
        # synced again
        keys = sorted(k.split(":", 1)[1] for k in _held(store) if k.split(":", 1)[1] not in future)
        at = ours.next_second()
        sandbox.touch(set(keys[:3]), at=at)
        recent = {*keys[:3], *sandbox.add_records(1, at=at)}
        _pull(connector, store, state)
        _assert_as_the_tool_holds(store, _fresh(name, sandbox))
        # AND other records change on the very second of the watermark, and a second later, and
        # it is synced again while a page fails once
        sandbox.touch(set(keys[3:5]), at=at)
        recent |= {*keys[3:5], *sandbox.add_records(1, at=at)}
        later = ours.next_second()
        sandbox.touch(set(keys[5:7]), at=later)
        recent |= {*keys[5:7], *sandbox.add_records(1, at=later)}
        arm()
        _pull(connector, store, state)
        # THEN the store holds what the tool holds
        _assert_as_the_tool_holds(store, _fresh(name, sandbox))
        # AND a run with nothing changed writes nothing, and pulls nothing but the 2099 record (a
        # record stamped ahead of the clock is pulled again until the clock reaches it) and the
        # records changed in the CLOCK_SKEW before it (the margin for a tool clock behind ours:
        # the watermark capped after the 2099 record is the run's start less CLOCK_SKEW)
        quiet = _pull(connector, store, state)
        assert (quiet.ingest.written, quiet.ingest.new_customers) == (0, 0)
        assert quiet.pulled <= len(future) + len(recent)
        _hand_off_to_the_second(name, sandbox, connector, store, state, ours, keys[7:11], future)
    finally:
        connector.close()


def _hand_off_to_the_second(
    name: str,
    sandbox: Any,
    connector: Connector,
    store: InMemoryProfileStore,
    state: InMemorySyncStateStore,
    ours: OurClock,
    keys: list[str],
    future: set[str],
) -> None:
    """The hand-off is the run's start second less CLOCK_SKEW, to the second: not later (a change the
    tool stamps on that second is asked for), not earlier (what came before it is not pulled again).

    A run starting late in a second (.7) with the tool's clock ahead of ours (the hand-off rests on
    our start, not the tool's ``Date``) hands off ``start - CLOCK_SKEW``; records changed a second
    before that are delivered by the run, and records changed on that second after it. The next run
    brings the latter (a hand-off kept with its .7, or rounded up, asked from after them) and
    nothing else but the 2099 record (a hand-off rounded down, or cut to the minute, pulled the
    former again). Our clock moves on past CLOCK_SKEW first, so that the changes made before are
    all older than the hand-off."""
    # (a whole second whose hand-off is half a minute past a whole minute, more than CLOCK_SKEW on)
    start = ours.now().replace(microsecond=0) + CLOCK_SKEW + timedelta(seconds=3)
    start += timedelta(seconds=(30 - start.second) % 60)
    handoff = start - CLOCK_SKEW
    ours.move_to(start - timedelta(seconds=1))
    # GIVEN records changed a second before the hand-off the next run will give
    sandbox.touch(set(keys[:2]), at=handoff - timedelta(seconds=1))
    # WHEN that run begins late in a second, the tool's clock two seconds ahead of ours
    ours.move_to(start + timedelta(milliseconds=700))
    ours.freeze()
    sandbox.clock.set(start + timedelta(seconds=2))
    try:
        _pull(connector, store, state)
    finally:
        sandbox.clock.set(None)
        ours.run()
    # AND after it other records change on the hand-off's second (the tool's clock behind ours)
    sandbox.touch(set(keys[2:]), at=handoff)
    on_handoff = {*keys[2:], *sandbox.add_records(1, at=handoff)}
    after = _pull(connector, store, state)
    # THEN the next run brings them, and pulls nothing else but the 2099 record
    _assert_as_the_tool_holds(store, _fresh(name, sandbox))
    assert after.pulled <= len(future) + len(on_handoff)


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_a_record_changed_again_on_its_watermark_second_is_pulled(name: str) -> None:
    sandbox = _sandbox(name)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect(name, sandbox)
    try:
        # GIVEN a synced tool, one of whose records changes at T and is synced: the cursor's watermark
        _pull(connector, store, state)
        (key, *_) = sorted(k.split(":", 1)[1] for k in _held(store))
        at = T_CHANGES.replace(microsecond=0) + timedelta(seconds=30)
        sandbox.touch({key}, at=at)
        assert _pull(connector, store, state).pulled >= 1
        # WHEN it changes again within that second, and the tool is synced
        sandbox.touch({key}, at=at)
        _pull(connector, store, state)
        # THEN the store holds its second change, as a fresh full pull does
        _assert_as_the_tool_holds(store, _fresh(name, sandbox))
    finally:
        connector.close()
