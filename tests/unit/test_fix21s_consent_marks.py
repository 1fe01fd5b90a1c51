"""fix21s: a consent decision with no time of its own is marked ``dated_by_record``; its time, carried
from an earlier version of the record (core.consent_carry), is no change of the record's content.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.consent_carry import carry_consent_times, chained
from core.content_hash import record_hash
from core.normalise import normalise_record
from core.record_json import RECORD_JSON_MEMO, record_json, record_json_and_hash
from core.schema import RecordDraft, SourceRecord


def _record(updated_at: str, consent: dict[str, Any], title: str = "Acheteuse") -> SourceRecord:
    draft = RecordDraft(
        source="salesforce",
        object_type="contact",
        source_id="0035g00000Lm1aAAF",
        updated_at=updated_at,
        emails=["lea.martin@example.fr"],
        traits={"job_title": title},
        consent=consent,
    )
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord), record
    return record


#: A decision as the Salesforce and Mailchimp connectors map one with no time of its own.
OFF = {"email": {"granted": False, "dated_by_record": True}}
ON = {"email": {"granted": True, "dated_by_record": True}}


def _marks(consent: dict[str, Any]) -> bool:
    return _record("2026-10-05T02:00:00Z", consent).consent["email"].dated_by_record


def test_a_decision_is_marked_only_when_the_connector_says_so() -> None:
    """Only a connector knows that a time is its record's and not the decision's (Salesforce's
    checkbox, Mailchimp's unsubscribe): a decision without a time is not marked by the normaliser, so
    a flat record's ``{"email": true}`` keeps deciding as before (tests/integration/test_times19_*)."""
    assert _marks(
        {"email": {"granted": False, "changed_at": "2026-10-05T02:00:00Z", "dated_by_record": True}}
    )
    assert _marks({"email": {"granted": False, "dated_by_record": True}}) is True
    assert _marks({"email": False}) is False
    assert _marks({"email": {"granted": False}}) is False
    assert _marks({"email": {"granted": True, "changed_at": "2026-10-01T10:00:00Z"}}) is False
    assert (
        _marks({"email": {"granted": True, "changed_at": "2026-10-01T10:00:00Z", "dated_by_record": 1}})
        is False
    )


def test_the_mark_is_written_only_when_true_and_read_back() -> None:
    own = _record("2026-10-05T02:00:00Z", {"email": {"granted": True, "changed_at": "2026-10-01T10:00:00Z"}})
    assert "dated_by_record" not in own.model_dump_json()  # a record stored before serialises as then
    marked = _record("2026-10-05T02:00:00Z", OFF)
    assert '"dated_by_record":true' in marked.model_dump_json()
    back = SourceRecord.model_validate_json(marked.model_dump_json())
    assert back.consent["email"].dated_by_record is True
    assert SourceRecord.model_validate_json(own.model_dump_json()).consent["email"].dated_by_record is False


def test_a_marked_decision_hashes_as_the_unmarked_one_stored_before() -> None:
    """A snapshot stored before the mark (same decision at the record's own time, unmarked) is not
    taken for changed when the connector now marks it."""
    marked = _record("2026-10-05T02:00:00Z", OFF)
    unmarked = _record(
        "2026-10-05T02:00:00Z", {"email": {"granted": False, "changed_at": "2026-10-05T02:00:00Z"}}
    )
    assert unmarked.consent["email"].dated_by_record is False
    assert record_hash(marked) == record_hash(unmarked)


def test_a_carried_time_is_kept_and_hashes_as_the_version() -> None:
    first = _record("2024-03-01T08:00:00Z", OFF)
    edited = _record("2026-10-05T02:00:00Z", OFF, title="Directrice achats")
    carried = carry_consent_times(first, edited)
    state = carried.consent["email"]
    assert (state.granted, state.changed_at, state.dated_by_record) == (False, first.updated_at, True)
    assert carried.traits == edited.traits
    assert carried.updated_at == edited.updated_at
    assert record_hash(carried) == record_hash(edited)
    # read back from the store (no hash kept): the same hash, and one serialisation gives both
    stored = SourceRecord.model_validate_json(record_json(carried))
    assert stored.consent["email"].changed_at == first.updated_at
    assert record_hash(stored) == record_hash(edited)
    again = SourceRecord.model_validate_json(record_json(carried))
    record_json_and_hash(again)
    assert again.__dict__[RECORD_JSON_MEMO] == record_json(carried)
    assert record_hash(again) == record_hash(edited)


def test_only_the_same_decision_dated_by_its_record_is_carried() -> None:
    first = _record("2024-03-01T08:00:00Z", OFF)
    granted = _record("2026-10-05T02:00:00Z", ON)
    # a change of decision is dated anew, and keeps when the other one was last seen (left30: a late
    # version older than that cannot date it, core.consent_carry)
    changed = carry_consent_times(first, granted).consent["email"]
    assert (changed.granted, changed.changed_at) == (True, granted.updated_at)
    assert (changed.contrary_at, changed.run_at) == (first.updated_at, ())
    own_time = _record(
        "2026-10-05T02:00:00Z", {"email": {"granted": False, "changed_at": "2026-10-04T00:00:00Z"}}
    )
    assert carry_consent_times(first, own_time) is own_time  # the tool's own time is kept
    assert carry_consent_times(None, granted) is granted  # a first version takes its own time
    assert carry_consent_times(granted, first) is first  # never a later time


def test_versions_chained_in_time_order_whatever_order_they_came_in() -> None:
    v1 = _record("2024-03-01T08:00:00Z", OFF)
    v2 = _record("2025-02-01T08:00:00Z", {}, title="Acheteuse senior")  # the box unticked
    v3 = _record("2026-10-05T02:00:00Z", OFF, title="Directrice achats")
    v4 = _record("2026-10-20T02:00:00Z", OFF, title="Directrice")
    at = datetime(2026, 10, 5, 2, tzinfo=UTC)
    for versions in ([v1, v2, v3, v4], [v4, v3, v2, v1], [v3, v1, v4, v2]):
        newest = chained(versions)
        assert newest is not None
        assert newest.updated_at == v4.updated_at
        assert newest.consent["email"].changed_at == at  # the re-tick of 2026-10-05, not 2024
    assert chained([]) is None
