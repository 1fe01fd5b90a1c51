"""profilesync.erased_quarantine: which malformed records of a ``resolve --endpoint-url`` run belong to
an erased person. Any content a quarantined line can carry gives an answer, never an exception (a
crash would stop the run); a record holding a suppressed address, phone or record id in any
spelling the normaliser folds is hers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.normalise import NormaliseOptions
from core.schema import Quarantined
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry
from profilesync.erased_quarantine import erased_check

SALT = "attack3-unit"


def _check(*keys: str) -> SuppressionCheck:
    store = InMemorySuppressionStore()
    check = SuppressionCheck(store, SALT)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    store.suppress([SuppressionEntry(check.hash(k), "email", "req-1", at) for k in keys])
    return check


ERASED = erased_check(
    _check(
        "email#ann@example.com",
        "phone#+442079460018",
        "source#crm:contact:ann-1",
        "mailbox#annsmith@gmail.com",
    ),
    NormaliseOptions(),
)


def _quarantined(raw: dict[str, Any] | None) -> Quarantined:
    return Quarantined(source="crm", source_id="x", reason="updated_at missing or invalid", raw=raw)


def test_her_malformed_records_in_any_spelling_are_hers() -> None:
    for raw in (
        {"source": "shop", "id": "9", "updated_at": "soon", "email": "  ANN@Example.COM "},
        {"source": "shop", "id": "9", "updated_at": "soon", "email": ["x@example.com", "Ann@example.com"]},
        {"source": "shop", "id": "9", "updated_at": "soon", "phone": "020 7946 0018", "country": "GB"},
        {"source": "shop", "id": "9", "updated_at": "soon", "email": "A.nn.Smith+x@googlemail.com"},
        {"source": "crm", "id": "ann-1", "updated_at": "soon", "email": "new@example.com"},
        {"line": '{"source": "crm", "id": "7", "email": "Ann@Example.com", "phone": "+4420'},  # truncated
        {  # a record the store refused: its normalised dump
            "source": "crm",
            "object_type": "contact",
            "source_id": "7",
            "identifiers": [{"kind": "email", "value": "ann@example.com"}],
        },
    ):
        assert ERASED(_quarantined(raw)), raw


def test_other_peoples_records_and_lines_that_are_no_object_are_not_hers() -> None:
    for raw in (
        {"source": "shop", "id": "9", "updated_at": "soon", "email": "bob@example.com"},
        {"line": '{"email": "bob@example.com", "id": "ann-1"'},  # no JSON: only addresses are read
        {},
        None,
    ):
        assert not ERASED(_quarantined(raw)), raw


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["source", "id", "object_type", "email", "phone", "country", "updated_at", "orders"])
        | st.text(max_size=8),
        JSON,
        max_size=8,
    )
)
def test_any_content_gets_an_answer(raw: dict[str, Any]) -> None:
    assert ERASED(_quarantined(raw)) in (True, False)
