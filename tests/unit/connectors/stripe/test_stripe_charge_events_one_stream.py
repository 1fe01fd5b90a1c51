"""The charge events (``charge.refunded``, ``charge.captured``, ``charge.expired``) read as one stream.

Read as three streams, one a type, each ordered the events of a second by its own count: a charge
captured (read by one sync) and refunded on the same second (read by the next) had two versions at
``S`` + 1 us and the content hash chose, so the refunded charge went back to "paid" about half the
time (revC22: 7 of 12). One stream (``GET /v1/events`` with ``types[]``, which Stripe's spec allows,
"up to 20") counts that second's events once, in Stripe's newest-first order. The charges are made,
captured and refunded with Stripe's own SDK against the served sandbox, every answer checked against
Stripe's spec. A cursor of the three streams is folded into the one (``_cursor_upgrade``).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.sdk import PullCursor, StreamState
from connectors.stripe._cursor_upgrade import CHARGE_STREAM, upgraded
from connectors.stripe._declaration import FORMER_CHARGE_STREAMS, STREAMS, event_types
from connectors.stripe._sandbox import StripeSandbox
from profilesync.testing.spec_objects import _document
from tests.unit.connectors.stripe.test_stripe_authorisations import _held_and_synced, _Syncs

pytest.importorskip("stripe")

_KEY = b"k" * 32


def _refund_on_the_last_event_second(sandbox: StripeSandbox, charge_id: str) -> None:
    # Stripe's clock in the sandbox: max(at, the object's last event): the capture's second.
    sandbox.touch({f"charge:{charge_id}"}, at=datetime(2000, 1, 1, tzinfo=UTC))
    seconds = {e["created"] for e in sandbox.events.values() if e["data"]["object"]["id"] == charge_id}
    assert len(seconds) <= 2, seconds  # authorised, then captured and refunded on one second


@pytest.mark.parametrize("amount", range(1001, 1013))
def test_a_refund_on_the_second_of_a_capture_the_last_sync_read_wins(
    client: Any, sandbox: StripeSandbox, amount: int
) -> None:
    # GIVEN an authorisation, synced, captured and synced again (counted)
    buyer, held, syncs = _held_and_synced(client, sandbox, amount, "eur")
    client.v1.charges.capture(held.id)
    syncs.run()
    assert syncs.profile(buyer.id).computed.lifetime_value
    # WHEN it is refunded whole on the second of its capture, and the account synced again
    _refund_on_the_last_event_second(sandbox, held.id)
    syncs.run()
    # THEN the refund wins (red before: 7 of these 12 went back to "paid", by the content hash)
    assert syncs.profile(buyer.id).computed.lifetime_value == {}


def test_the_charge_stream_asks_for_its_types_as_stripes_spec_allows() -> None:
    (stream,) = [s for s in STREAMS if s.name == CHARGE_STREAM]
    params = {p["name"]: p for p in _document("stripe-api.json")["paths"]["/v1/events"]["get"]["parameters"]}
    assert "type" not in stream.params  # "You may pass either `type` or `types`, but not both."
    assert params["types"]["schema"]["type"] == "array"
    assert "up to 20" in params["types"]["description"]
    assert event_types(stream) == (
        "charge.refunded",
        "charge.captured",
        "charge.expired",
        "charge.succeeded",
        "charge.failed",
    )


def _cursor(syncs: _Syncs) -> PullCursor:
    return PullCursor.decode(syncs.state._states["stripe"].cursor, "stripe")


def _as_before(syncs: _Syncs, names: tuple[str, ...]) -> None:
    """The account's cursor as a version before ``charge_changes`` wrote it: its state under ``names``."""
    found = syncs.state._states["stripe"]
    cursor = _cursor(syncs)
    streams = {k: v for k, v in cursor.streams.items() if k != CHARGE_STREAM}
    streams.update(dict.fromkeys(names, cursor.state(CHARGE_STREAM)))
    syncs.state._states["stripe"] = dataclasses.replace(found, cursor=PullCursor(streams).encode())


@pytest.mark.parametrize("names", [FORMER_CHARGE_STREAMS, ("charge_updates",)], ids=["three", "refunds-only"])
def test_a_capture_after_a_cursor_of_the_former_streams_is_read_by_the_first_pull_after_the_upgrade(
    client: Any, sandbox: StripeSandbox, names: tuple[str, ...]
) -> None:
    # GIVEN an authorisation synced by a version that read the charge events as three streams (or,
    # before it, refunds alone), then captured
    buyer, held, syncs = _held_and_synced(client, sandbox, 4200, "eur")
    _as_before(syncs, names)
    client.v1.charges.capture(held.id)
    # WHEN the upgraded connector syncs
    syncs.run()
    # THEN the capture is counted, and the cursor names the one stream only
    assert syncs.profile(buyer.id).computed.lifetime_value == {"EUR": Decimal("42.00")}
    streams = set(_cursor(syncs).streams)
    assert CHARGE_STREAM in streams
    assert not streams & set(FORMER_CHARGE_STREAMS)


_T = [datetime(2026, 3, d, tzinfo=UTC) for d in (1, 2, 3)]


def test_the_one_stream_starts_at_the_oldest_watermark_of_the_three_with_the_ids_seen_there() -> None:
    # The streams walked one after the other: a refund made while the later ones were walked is after
    # charge_updates' end and before their watermarks; starting at the newest would lose it.
    old = PullCursor(
        {
            "customers": StreamState(_T[0]),
            "charge_updates": StreamState(_T[2], ("r1",)),
            "charge_captures": StreamState(_T[1], ("c1", "c2")),
            "charge_expiries": StreamState(_T[1], ("e1",)),
        }
    )
    new = PullCursor.decode(upgraded(old.encode(), _KEY), "stripe")
    assert set(new.streams) == {"customers", CHARGE_STREAM}
    assert new.state(CHARGE_STREAM) == StreamState(_T[1], ("c1", "c2", "e1"))
    assert new.active is None


def test_a_former_stream_without_a_watermark_leaves_the_one_stream_without_one() -> None:
    old = PullCursor({"charge_updates": StreamState(_T[2]), "charge_captures": StreamState(_T[1])})
    new = PullCursor.decode(upgraded(old.encode(), _KEY), "stripe")
    assert set(new.streams) == set()  # reads every charge event Stripe holds (30 days)


def test_a_walk_in_progress_on_a_former_stream_goes_on_with_the_one_stream_from_its_start() -> None:
    walking = StreamState(_T[1], ("c1",), high=_T[2], at_high=("c9",), page="evt_9")
    old = PullCursor(
        {n: walking if n == "charge_captures" else StreamState(_T[2]) for n in FORMER_CHARGE_STREAMS},
        active="charge_captures",
    )
    new = PullCursor.decode(upgraded(old.encode(), _KEY), "stripe")
    assert new.active == CHARGE_STREAM
    assert new.state(CHARGE_STREAM) == StreamState(_T[1], ("c1",))


def test_a_cursor_of_this_version_is_left_as_it_is() -> None:
    cursor = PullCursor({CHARGE_STREAM: StreamState(_T[0], ("x",))}, active=CHARGE_STREAM).encode()
    assert upgraded(cursor, _KEY) == cursor
