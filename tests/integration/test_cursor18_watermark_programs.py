"""cursor18: programs of changes on a cursor's watermark second, the next second and far ahead, with
pages failing, lose nothing on the seven built-in connectors' sandboxes.

Each program is a run of steps on the tool's clock, which never goes back: records change (or are
added) on the second the tool is at, which is the second the last pull's watermark is on when
nothing newer came since; or the clock moves on a second, or an hour; or a record is stamped 2099
(a clock far ahead). Each step is synced through ``core.sync.pull_into_store`` (what ``profilesync
sync`` runs), some of them while a page fails once, and the store must then hold what a fresh full
pull of the tool holds, record for record. A last run with nothing changed writes nothing.

Before the cursors kept the version delivered (``connectors.cursor_tags.version_tag``) and dated a
version pulled again on its second after the ones delivered there (``connectors.cursor_seconds``),
a record changed twice on one second was kept in its first change for good on HubSpot, Klaviyo,
Salesforce, Shopify and WooCommerce; a record changed A, B, back to A on one second was kept in B
(WooCommerce's order status). Mailchimp lost a member changed onto the watermark second (its
cursor carried an offset past the members read there into the next pull; one that joined the
second sorted before them was stepped over) and a member changed again on it (mail18).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.testing.clock import OurClock
from profilesync.testing.contract import FAR_FUTURE, T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import (
    PLUGINS,
    _assert_as_the_tool_holds,
    _connect,
    _held,
)
from tests.integration.test_attack11_sync_cursors import _failing, _fresh, _pull, _sandbox

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("CURSOR_PROGRAM_EXAMPLES", "3"))

#: One step: where the tool's clock goes ("same" second, "next" second, an "hour" on, or a record
#: stamped "2099"), which held records change (indices into them), how many records are added, and
#: whether a page of the pull after it fails once.
_STEP = st.tuples(
    st.sampled_from(["same", "same", "next", "hour"]),
    st.lists(st.integers(0, 29), max_size=3),
    st.integers(0, 1),
    st.booleans(),
)


PROGRAMMED = sorted(PLUGINS)


@pytest.mark.parametrize("name", PROGRAMMED)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=st.lists(_STEP, min_size=2, max_size=5))
def test_changes_on_the_watermark_second_and_after_are_all_pulled(
    name: str, program: list[tuple[str, list[int], int, bool]]
) -> None:
    _run(name, program)


def test_mailchimp_a_member_changed_into_the_watermark_block_is_pulled() -> None:
    # (the smallest case the programs found: one member changed and one added on a second, pulled;
    # then another member changed on that second)
    _run("mailchimp", [("same", [1], 1, False), ("same", [0], 0, False)])


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_a_record_changed_again_on_its_second_after_a_record_stamped_ahead_is_kept(name: str) -> None:
    # (the smallest case the programs found once they could stamp a record 2099: the watermark is
    # then capped at the pull's start less CLOCK_SKEW, below the second both changes are on. Before
    # the cursors kept the versions delivered above it, connectors.cursor_ahead, HubSpot, Klaviyo,
    # Salesforce, Shopify and WooCommerce kept the first change when its content hash won)
    _run(name, [("2099", [0], 0, False), ("same", [0], 0, False)])


def _run(name: str, program: list[tuple[str, list[int], int, bool]]) -> None:
    sandbox = _sandbox(name)
    arm = _failing(sandbox, 1)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect(name, sandbox)
    # The tool's clock, on whole seconds, in the past of ours (a change is never stamped ahead of
    # the tool's clock; the past keeps the program clear of the pull's own second).
    at = T_CHANGES.replace(microsecond=0) + timedelta(seconds=30)
    try:
        _pull(connector, store, state)
        for move, picks, added, fail in program:
            # (never past the tool's clock now; a record stamped 2099 caps the watermark at a pull's
            # start less CLOCK_SKEW, so the tool's clock is then on its real second: one further
            # behind is test_skew17_lagging_clock's case)
            now = datetime.now(UTC).replace(microsecond=0)
            if move == "next":
                at = min(at + timedelta(seconds=1), now)
            elif move == "hour":
                at = min(at + timedelta(hours=1), now)
            elif move == "2099":
                at = max(at, now)
            keys = sorted(k.split(":", 1)[1] for k in _held(store))
            # GIVEN the tool changes records on its second (or holds one stamped 2099)
            if move == "2099":
                sandbox.add_records(1, at=FAR_FUTURE)
            sandbox.touch({keys[i % len(keys)] for i in picks}, at=at)
            if added:
                sandbox.add_records(added, at=at)
            # WHEN it is synced (a page failing once)
            if fail:
                arm()
            _pull(connector, store, state)
            # THEN the store holds what a fresh full pull of the tool holds
            _assert_as_the_tool_holds(store, _fresh(name, sandbox))
        # AND a run with nothing changed writes nothing
        quiet = _pull(connector, store, state)
        assert (quiet.ingest.written, quiet.ingest.new_customers) == (0, 0)
    finally:
        connector.close()


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_a_record_stamped_ahead_and_corrected_on_the_second_it_was_read_is_kept(name: str) -> None:
    # (found by the programs, red on all seven until a version stamped ahead was ordered just before
    # the second it was read in, core.time_bound.read_before: ordered at its read, with its
    # microseconds, a correction the tool stamped on that second was taken as stale and the 2099
    # version kept. Stripe also spelled the 2099 stamp two ways in the record's hashed note.)
    sandbox = _sandbox(name)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect(name, sandbox)
    with OurClock() as ours:
        try:
            _pull(connector, store, state)
            # GIVEN a record stamped 2099, pulled on the second ``read``: our clock (and the tool's,
            # which runs with it) is moved to the start of a second and stopped there while the pull
            # runs (a pull over a second later, on a loaded machine, is another case: a correction
            # stamped a second before the read, a tool clock behind ours)
            read = ours.next_second(past=timedelta(milliseconds=10))
            ours.freeze()
            ahead = sandbox.add_records(1, at=FAR_FUTURE)
            _pull(connector, store, state)
            # (the pull took time: what is read next is read later in the second, never on the
            # millisecond of that read, where two 2099 versions would tie, core.time_bound.read_before)
            ours.move_to(read + timedelta(milliseconds=100))
            ours.run()
            # WHEN the tool corrects it, stamping that second (never past its clock)
            sandbox.touch(ahead, at=read)
            _pull(connector, store, state)
            # THEN the store holds the correction
            _assert_as_the_tool_holds(store, _fresh(name, sandbox))
        finally:
            connector.close()
