"""History events: ordered by time, deterministic ids, and a reason that cannot quote an identifier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from core.governance.history import HistoryEvent, event_id_for, history_sort_key

T = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def event(**changes: object) -> HistoryEvent:
    values: dict[str, object] = {
        "customer_id": "cus_a",
        "event_id": "merge-1",
        "at": T,
        "kind": "merge",
        "actor": "run:hubspot:r1",
        "reason": "shared email",
        "identifiers": ("email#ann@example.com",),
        "source_keys": ("hubspot:contact:123",),
    }
    values.update(changes)
    return HistoryEvent.model_validate(values)


def test_sort_keys_order_events_by_time_whatever_their_fractions_of_a_second() -> None:
    # GIVEN times with and without microseconds (isoformat would sort "10:00:00+00:00" after
    # "10:00:00.000001+00:00"), shuffled
    times = [T + timedelta(seconds=1), T + timedelta(microseconds=1), T, T - timedelta(microseconds=1)]
    keys = [history_sort_key(t, "e") for t in times]
    # THEN text order is time order
    assert sorted(keys) == [history_sort_key(t, "e") for t in sorted(times)]
    # AND the same instant in another zone has the same key
    assert history_sort_key(T.astimezone(timezone(timedelta(hours=5))), "e") == history_sort_key(T, "e")


def test_event_ids_are_deterministic_and_differ_per_customer_and_change() -> None:
    a = event_id_for("cus_a", "merge", T, "cus_b")
    assert a == event_id_for("cus_a", "merge", T, "cus_b")
    assert (
        len({a, event_id_for("cus_b", "merge", T, "cus_b"), event_id_for("cus_a", "merge", T, "cus_c")}) == 3
    )
    assert event(event_id=a).event_id == a


def test_a_reason_quoting_an_identifier_or_source_id_is_refused() -> None:
    with pytest.raises(ValidationError, match="reason quotes an identifier"):
        event(reason="joined on ANN@example.com")
    with pytest.raises(ValidationError, match="reason quotes an identifier"):
        event(reason="record 123 arrived")
    assert event(reason="shared email").reason == "shared email"


@pytest.mark.parametrize(
    "changes",
    [{"at": datetime(2026, 1, 5)}, {"event_id": "a#b"}, {"kind": "rename"}, {"reason": "x" * 501}],
)
def test_malformed_events_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        event(**changes)
