"""``record_event`` builds its event without validation; it must be the validated model, field for field.

core.governance.changes.record_event runs once per record written. It assembles the ``HistoryEvent``
from values valid by construction (core.schema.assemble_model) and validates only when a value
might not be (a time outside UTC, a reason quoting an identifier). Here every event it makes is
compared with ``HistoryEvent.model_validate`` of the same fields: equal, the same JSON a store
writes, the same sort key; a clock in another zone and a source id the reason quotes take the
validated path (the time turned to UTC, the reason dropped).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from core.governance.changes import record_event
from core.governance.history import HistoryEvent
from core.normalise import normalise_record
from core.schema import RecordDraft, SourceRecord

_IDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
_KEYS = st.lists(
    st.one_of(
        _IDS.map(lambda name: f"email#{name}@example.com"),
        st.sampled_from(["phone#+442079460018", "source#crm:contact:c1", "source#shop:customer:new"]),
    ),
    max_size=3,
    unique=True,
)


def _record(source: str, source_id: str) -> SourceRecord:
    draft = RecordDraft(
        source=source, source_id=source_id, updated_at="2026-03-01T10:00:00Z", emails=["a@b.co"]
    )
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord)
    return record


def _validated(event: HistoryEvent) -> HistoryEvent:
    """The same event through validation (what record_event built before)."""
    return HistoryEvent.model_validate(event.model_dump())


@settings(max_examples=150, deadline=None)
@given(
    source=st.sampled_from(["crm", "shop", "email"]),
    source_id=_IDS,
    existed=st.booleans(),
    joined_by=_KEYS,
    at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    actor=st.sampled_from(["run:crm:1", "arn:aws:iam::123456789012:role/x", "review:ann"]),
)
def test_every_event_equals_the_validated_model(
    source: str, source_id: str, existed: bool, joined_by: list[str], at: datetime, actor: str
) -> None:
    # GIVEN any record, new or changed, joined by any keys, at any UTC time
    record = _record(source, source_id)

    # WHEN its event is built
    event = record_event(
        "cus_abc123", record, "0" * 32, existed=existed, joined_by=joined_by, actor=actor, at=at
    ).event

    # THEN it is the validated model: equal, the same stored JSON, the same sort key
    validated = _validated(event)
    assert event == validated
    assert event.model_dump_json() == validated.model_dump_json()
    assert event.sort_key == validated.sort_key
    assert event.model_dump() == HistoryEvent.model_validate(event.model_dump()).model_dump()


def test_a_time_in_another_zone_is_validated_into_utc() -> None:
    # GIVEN a clock that answers in UTC+2
    at = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))

    # WHEN an event is built THEN its time is the same instant in UTC, as validation gives it
    event = record_event(
        "cus_abc", _record("crm", "c1"), "0" * 32, existed=False, joined_by=(), actor="a", at=at
    ).event
    assert event.at.tzinfo is UTC
    assert event.at == at
    assert event.model_dump_json() == _validated(event).model_dump_json()


def test_a_reason_that_would_quote_a_source_id_is_dropped() -> None:
    # GIVEN a record whose id is a word of the reason ("a new record")
    record = _record("crm", "record")

    # WHEN its event is built THEN the reason is dropped, as the validated path drops it
    event = record_event(
        "cus_abc", record, "0" * 32, existed=False, joined_by=(), actor="a", at=datetime.now(UTC)
    ).event
    assert event.reason == ""
    assert event == _validated(event)
