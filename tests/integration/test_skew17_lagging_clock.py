"""skew17: a tool whose clock runs behind ours loses no change, once a record is stamped ahead.

A record stamped 2099 is read as the pull's start (``core.time_bound``), so it is the newest a walk
delivers and its time becomes the watermark, capped by ``TimeBound.cap``. The cap used to be our
own start second: a tool whose clock runs 10 s behind ours stamps a change made just after the pull
earlier than that second, and the next pull, asking from it, never got the change (HubSpot,
Mailchimp, Klaviyo, Shopify, Salesforce and WooCommerce lost it: ``{'never pulled':
['hubspot:contact:223']}``). The cap is now ``start - CLOCK_SKEW``: a tool's clock may run that far
behind ours; the records re-pulled from that window are unchanged and write nothing.

Each case: a tool with a 2099 record and its clock ``lag`` behind ours is pulled; after the pull, in
real time, the tool stamps a change to two records and a new record (by its clock, after the pull's
moment on it and before our start second); the next pull must bring them. A lag past the margin used
to be a documented limit (strict xfails; all but WooCommerce lost the change): every connector now
caps its hand-off at the tool's own clock too, the ``Date`` of its walk's first answer less
``CLOCK_SKEW`` (``connectors.tool_clock``). An answer without a readable ``Date`` falls back to our
clock (counted), and a tool clock hours ahead of ours never carries the hand-off past our own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from connectors.tool_clock import UNDATED_ANSWERS
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from core.testing.clock import OurClock
from core.time_bound import CLOCK_SKEW
from profilesync.testing.contract import FAR_FUTURE
from tests.integration.test_attack4_pages_change_while_paged import (
    PLUGINS,
    SETTINGS,
    _assert_as_the_tool_holds,
    _connect,
    _held,
)
from tests.integration.test_attack11_sync_cursors import _fresh, _sandbox

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def ours() -> Iterator[OurClock]:
    """Our clock, moved on a second where each case waited for the wall clock to pass one."""
    with OurClock() as clock:
        yield clock


#: A lag past the margin: the change is stamped before a watermark capped on our clock alone (it was
#: not asked for, before the hand-off was capped at the tool's clock too).
PAST = CLOCK_SKEW + timedelta(minutes=1)


def _lags() -> list[object]:
    return [
        pytest.param(name, lag, id=f"{name}-{label}")
        for name in sorted(PLUGINS)
        for label, lag in (
            ("10s", timedelta(seconds=10)),
            ("under", CLOCK_SKEW - timedelta(seconds=10)),
            ("past", PAST),
        )
    ]


@pytest.mark.parametrize(("name", "lag"), _lags())
def test_a_tool_clock_behind_ours_loses_no_change_after_a_record_stamped_ahead(
    name: str, lag: timedelta, ours: OurClock
) -> None:
    _lagging_change_is_pulled(name, _sandbox(name), lag, ours)


def _lagging_change_is_pulled(name: str, sandbox: Any, lag: timedelta, ours: OurClock) -> None:
    sandbox.add_records(1, at=FAR_FUTURE)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect(name, sandbox)
    try:
        start = ours.now()
        sandbox.clock.set(ours.now() - lag)
        pull_into_store(connector, store, state, settings=SETTINGS)
        _assert_as_the_tool_holds(store, _fresh(name, sandbox))
        # After the pull, the tool (``lag`` behind) stamps changes at its next second (our clock is
        # moved on to it, where the case waited for the wall clock).
        at = (ours.now() - lag).replace(microsecond=0) + timedelta(seconds=1)
        ours.move_to(max(ours.now(), at + lag + timedelta(milliseconds=50)))
        sandbox.clock.set(at)
        assert at < start.replace(microsecond=0), (at, start)  # before our start second: the case
        keys = sorted(k.split(":", 1)[1] for k in _held(store))
        sandbox.touch(set(keys[:2]), at=at)
        sandbox.add_records(1, at=at)
        sandbox.clock.set(ours.now() - lag)
        pull_into_store(connector, store, state, settings=SETTINGS)
        _assert_as_the_tool_holds(store, _fresh(name, sandbox))
    finally:
        connector.close()


def _dated(sandbox: Any, date: str | None) -> None:
    """Every answer of ``sandbox`` with ``date`` as its ``Date`` header (None: without one)."""
    handle: Callable[[httpx.Request], httpx.Response] = sandbox.handle

    def answer(request: httpx.Request) -> httpx.Response:
        response = handle(request)
        del response.headers["date"]
        if date is not None:
            response.headers["Date"] = date
        return response

    sandbox.handle = answer  # (read by sandbox.settings(): the connector's transport)


@pytest.mark.parametrize(
    "date", [None, "garbled", "Sun, 06 Nov 1994 08:49:37 GMT"], ids=["missing", "garbled", "years-old"]
)
@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_an_answer_without_a_readable_date_falls_back_to_our_clock(
    name: str, date: str | None, ours: OurClock
) -> None:
    # GIVEN a tool 10 s behind ours whose answers carry no readable Date (a proxy dropped it, or
    # garbled it) or one more than a day old (a cache's), holding a record stamped 2099
    sandbox = _sandbox(name)
    _dated(sandbox, date)
    before = UNDATED_ANSWERS[name]
    _lagging_change_is_pulled(name, sandbox, timedelta(seconds=10), ours)
    # THEN the hand-off rested on our clock (within CLOCK_SKEW of it: nothing lost), and the
    # answers were counted
    assert UNDATED_ANSWERS[name] > before


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_a_current_date_without_its_zone_is_read_as_the_tools_clock(name: str, ours: OurClock) -> None:
    # GIVEN a tool 10 s behind ours whose answers carry a current Date without its zone (read as GMT,
    # as RFC 9110's asctime form is: the tool's clock, not a fallback), holding a record stamped 2099
    sandbox = _sandbox(name)
    _dated(sandbox, (ours.now() - timedelta(seconds=10)).strftime("%a, %d %b %Y %H:%M:%S"))
    before = UNDATED_ANSWERS[name]
    _lagging_change_is_pulled(name, sandbox, timedelta(seconds=10), ours)
    # THEN the hand-off rested on it (nothing lost), and no answer was counted as undated
    assert UNDATED_ANSWERS[name] == before


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_a_tool_clock_hours_ahead_of_ours_does_not_carry_the_handoff_past_our_own(
    name: str, ours: OurClock
) -> None:
    # GIVEN a tool whose clock runs 3 hours ahead of ours, holding a record stamped by it
    sandbox = _sandbox(name)
    fast = ours.now().replace(microsecond=0) + timedelta(hours=3)
    sandbox.clock.set(fast)
    sandbox.add_records(1, at=fast)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect(name, sandbox)
    try:
        pull_into_store(connector, store, state, settings=SETTINGS)
        _assert_as_the_tool_holds(store, _fresh(name, sandbox))
        # WHEN its clock is put right and it changes two records and adds one, on our clock
        sandbox.clock.set(None)
        at = ours.next_second()
        keys = sorted(k.split(":", 1)[1] for k in _held(store))
        sandbox.touch(set(keys[:2]), at=at)
        sandbox.add_records(1, at=at)
        pull_into_store(connector, store, state, settings=SETTINGS)
        # THEN the next pull brings them: the hand-off was no later than our start less CLOCK_SKEW,
        # not the tool's clock less CLOCK_SKEW (3 hours ahead of every change made after it)
        _assert_as_the_tool_holds(store, _fresh(name, sandbox))
    finally:
        connector.close()


#: A version stamped ahead is ordered just before the second it was read in (core.time_bound.read_before).
#: By our clock, a tool whose clock runs behind ours stamped its correction before that, and ingest
#: took the correction as older (every connector but Stripe, whose correction is stamped 2099 too).
#: rob24: by the tool's clock at the read, the ``Date`` of the answer that carried it (``RawPage.read``,
#: ``core.normalise.read_on_tool_clock``).
@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_a_record_stamped_ahead_corrected_by_a_tool_clock_behind_ours_is_kept(
    name: str, ours: OurClock
) -> None:
    # GIVEN a tool 10 s behind ours holding a record stamped 2099, pulled
    lag = timedelta(seconds=10)
    sandbox = _sandbox(name)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect(name, sandbox)
    try:
        ahead = sandbox.add_records(1, at=FAR_FUTURE)
        sandbox.clock.set(ours.now() - lag)
        pull_into_store(connector, store, state, settings=SETTINGS)
        # WHEN the tool corrects it a second later, by its clock, and it is pulled
        ours.move_to(ours.now() + timedelta(seconds=1.1))
        at = (ours.now() - lag).replace(microsecond=0)
        sandbox.clock.set(at)
        sandbox.touch(ahead, at=at)
        pull_into_store(connector, store, state, settings=SETTINGS)
        # THEN the store holds the correction
        _assert_as_the_tool_holds(store, _fresh(name, sandbox))
    finally:
        connector.close()
