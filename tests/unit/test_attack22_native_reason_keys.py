"""attack22: the compiled path quotes a record's id in its event's reason exactly as the Python path.

core/governance/history.py's ``quotes_identifier`` takes a key's value after its first ``#`` when it
holds one, else after its last ``:``; native/src/lib.rs's ``quotes_arrived`` mirrors it. A record
key holds a ``#`` when the tool's name or object type does (``shop#eu:contact:new``), and then the
two readings differ ("eu:contact:new" is not quoted by "a new record", "new" is). Neither
tests/unit/test_rust27_native_parity.py (hypothesis rarely draws a source with ``#`` and an id the
reason holds) nor ``profilesync resolve`` (a scratch store writes no events: the reason counts only
in the sizes) catches a ``quotes_arrived`` that drops the ``#`` branch: built and run here, that
mutation passed both, and fails this test. Non-scratch, as every DynamoDB and kept SQLite store is.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.identity import customer_id_for
from core.ingest_fresh import _Arrival, _source_event_rows, _string_json
from core.ingest_native import NativeRows
from core.schema import Identifier, SourceRecord

try:
    import profilesync_native
except ImportError as error:
    pytest.skip(f"profilesync_native is not built (make native): {error}", allow_module_level=True)

AT = datetime(2026, 6, 1, 12, 30, 15, 250000, tzinfo=UTC)

#: (source, object type, id): keys whose value after ``#`` and after the last ``:`` differ in
#: whether "a new record" quotes them, both ways round, and non-ASCII ones (Python's lower()).
KEYS = [
    ("shop#eu", "contact", "new"),
    ("shop#eu", "contact", "RECORD"),
    ("crm", "contact#new", "x"),
    ("crm", "type", "a#rec"),
    ("crm", "c#x", "cord"),
    ("crm#", "contact", "new"),
    ("ИМЯ#new", "contact", "Новый"),
    ("crm", "contact", "#new:x"),
]


@pytest.mark.parametrize(("source", "object_type", "source_id"), KEYS)
def test_the_reason_quotes_the_key_as_the_python_path(source: str, object_type: str, source_id: str) -> None:
    # GIVEN one record whose key holds a "#" before its last ":" (or after it)
    def record() -> SourceRecord:
        return SourceRecord(
            source=source,
            object_type=object_type,
            source_id=source_id,
            updated_at=AT,
            identifiers=(Identifier(kind="email", value="ann@example.com"),),
        )

    arrival = _Arrival(AT, "ingest")
    survivor = customer_id_for(record().key)
    cid_json = _string_json(survivor)
    fixed = arrival.event_chars(cid_json)
    # WHEN both paths write its SOURCE row and its source_arrived event (a store that keeps events)
    expected = _source_event_rows([record()], survivor, cid_json, arrival, fixed, False)
    got = NativeRows(profilesync_native).source_event_rows(
        [record()], survivor, cid_json, arrival, fixed, False
    )
    # THEN the same event (its reason quoting the id or not) and the same sizes
    assert got is not None
    assert got[1] == expected[1]
    assert got[3] == expected[3]
