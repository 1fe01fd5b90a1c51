"""The compiled common path (native/, ``profilesync_native``) writes the Python path's bytes.

core.ingest_native chooses the extension's functions where it is installed; the Python path is
their oracle. These tests feed both the same records of every shape the canonical schema allows
(hypothesis builds ``SourceRecord`` from its own field types: any Unicode in ids, traits and
keys, empty and huge texts, every optional field missing or set, times of any year and offset)
and compare the outputs: the customer id, the JSON strings, the BLAKE2b digests, every row
``core.ingest_fresh._rows`` builds for a new customer (the SOURCE rows, the ``source_arrived``
events, the IDENT, HOLDER and PROFILE rows, the sizes counted against the limits), and the
memos each path leaves on the records (the pickled record's bytes depend on their order).
A text the extension cannot read (a lone surrogate) goes to the Python path, which then does
what it does without the extension.

Mutations of native/src/lib.rs these tests catch (each built and run against them): the size
counted by ``key_json.len()`` (bytes) instead of ``chars().count()`` (code points, as Python's
``len``), and the event's reason written as "a new record" whatever ``quotes_arrived`` says
(a record whose id is "new"): both fail ``test_source_rows_and_events_are_the_python_paths_bytes``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

import core.ingest_native as native_module
from core.identity import customer_id_for
from core.ingest_fresh import _Arrival, _rows, _source_event_rows, _string_json
from core.ingest_native import NativeRows
from core.ingest_settings import IngestSettings
from core.record_json import record_json_and_hash
from core.schema import ConsentState, DroppedValue, Identifier, Order, OrderSummary, SourceRecord
from tests.native_support import NATIVE as _NATIVE
from tests.native_support import needs_native

pytestmark = needs_native

AT = datetime(2026, 6, 1, 12, 30, 15, 250000, tzinfo=UTC)

#: Any Unicode but lone surrogates (which no record read from UTF-8 holds), with the characters
#: hand-written JSON gets wrong weighted in: quotes, backslashes, controls, DEL, separators.
_ANY = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(['"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "#", ":", "é", "K", "İ", "ß"]),
    )
)
_TEXT = st.one_of(_ANY, _ANY.map(lambda text: text * 500), st.just(""))
_TIME = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]),
)
_MONEY = st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9)
_IDENT = st.builds(Identifier, kind=st.sampled_from(["email", "phone", "source"]), value=_TEXT)
_RECORD = st.builds(
    SourceRecord,
    source=st.one_of(_TEXT, st.sampled_from(["crm", "shop"])),
    object_type=st.one_of(_TEXT, st.just("contact")),
    source_id=st.one_of(_TEXT, st.sampled_from(["new", "record", "REC", "a#b", "w re"])),
    updated_at=_TIME,
    identifiers=st.lists(_IDENT, max_size=4).map(tuple),
    traits=st.dictionaries(_TEXT, _TEXT, max_size=3),
    consent=st.dictionaries(
        _TEXT, st.builds(ConsentState, granted=st.booleans(), changed_at=_TIME), max_size=2
    ),
    orders=st.lists(
        st.builds(Order, total=_MONEY, currency=st.sampled_from(["EUR", "USD"]), created_at=_TIME), max_size=2
    ).map(tuple),
    dropped=st.lists(st.builds(DroppedValue, field=_TEXT, value=_TEXT, reason=_TEXT), max_size=2).map(tuple),
    level=st.sampled_from(["person", "child"]),
    owner=st.one_of(st.none(), _TEXT),
    order_summary=st.one_of(st.none(), st.builds(OrderSummary)),
    read_at=st.one_of(st.none(), _TIME),
    undated=st.booleans(),
)


def _fresh_copies(records: list[SourceRecord]) -> list[SourceRecord]:
    """The records again, without the memos (key, hash, JSON) a path leaves on them."""
    return [record.model_copy() for record in records]


def _distinct(records: list[SourceRecord]) -> list[SourceRecord]:
    """One record per key (a batch's newest versions, as core.ingest_fresh receives a group)."""
    return list({record.key: record for record in records}.values())


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(key=_TEXT, data=st.binary(max_size=300), size=st.integers(1, 64))
def test_the_customer_id_the_json_string_and_the_digest_are_the_python_paths(
    key: str, data: bytes, size: int
) -> None:
    # GIVEN any text and bytes WHEN the extension writes them THEN as the Python path writes them
    assert _NATIVE is not None
    assert _NATIVE.customer_id(key) == customer_id_for(key)
    assert _NATIVE.json_string(key) == TypeAdapter(str).dump_json(key).decode() == _string_json(key)
    assert _NATIVE.blake2b_hex(data, size) == hashlib.blake2b(data, digest_size=size).hexdigest()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    records=st.lists(_RECORD, min_size=1, max_size=4),
    actor=st.one_of(st.just("ingest"), _ANY),
    at=_TIME.map(lambda t: t.astimezone(UTC)),
    memos=st.booleans(),
    scratch=st.booleans(),
)
def test_source_rows_and_events_are_the_python_paths_bytes(
    records: list[SourceRecord], actor: str, at: datetime, memos: bool, scratch: bool
) -> None:
    # GIVEN one group of records, with their hash and JSON worked out (as the worker sends them) or not
    assert _NATIVE is not None
    group = sorted(_distinct(records), key=lambda r: r.key)
    python_group, native_group = _fresh_copies(group), _fresh_copies(group)
    if memos:
        for record in [*python_group, *native_group]:
            record_json_and_hash(record)
    arrival = _Arrival(at, actor)
    survivor = customer_id_for(group[0].key)
    cid_json = _string_json(survivor)
    fixed = arrival.event_chars(cid_json)
    # WHEN the Python loop and the compiled one write its SOURCE rows and events
    expected = _source_event_rows(python_group, survivor, cid_json, arrival, fixed, scratch)
    got = NativeRows(_NATIVE).source_event_rows(native_group, survivor, cid_json, arrival, fixed, scratch)
    # THEN the same rows, texts, sizes and records by key, and the same memos left in the same order
    assert got is not None
    sources, events, by_key, chars = got
    assert (sources, events, chars) == expected[0:2] + expected[3:]
    assert list(by_key) == list(expected[2])
    assert [list(r.__dict__) for r in native_group] == [list(r.__dict__) for r in python_group]
    assert all(got_r is native_group[i] for i, got_r in enumerate(by_key.values()))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    records=st.lists(_RECORD, min_size=1, max_size=4),
    actor=st.one_of(st.just("ingest"), _ANY),
    scratch=st.booleans(),
)
def test_every_row_of_a_new_customer_is_the_python_paths(
    records: list[SourceRecord], actor: str, scratch: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a group of records that founds one new customer
    assert _NATIVE is not None
    group = _distinct(records)
    ingest_settings = IngestSettings(clock=lambda: AT, actor=actor)

    def rows(native: NativeRows | None, copies: list[SourceRecord]) -> Any:
        with monkeypatch.context() as patch:
            patch.setattr(native_module, "ROWS", native)
            return _rows(copies, ingest_settings, _Arrival(AT, actor), 10_000, {}, scratch)

    # WHEN core.ingest_fresh builds its rows without the extension and with it
    python_group, native_group = _fresh_copies(group), _fresh_copies(group)
    expected = rows(None, python_group)
    got = rows(NativeRows(_NATIVE), native_group)
    # THEN every row is the same (or both leave the group to the planner), the same guardrail hits
    assert got == expected
    assert [list(r.__dict__) for r in native_group] == [list(r.__dict__) for r in python_group]


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    source_id=st.text(alphabet=st.characters(), min_size=1).filter(
        lambda t: any(0xD800 <= ord(c) <= 0xDFFF for c in t)
    )
)
def test_a_key_the_extension_cannot_read_goes_to_the_python_path(source_id: str) -> None:
    # GIVEN a record whose key holds a lone surrogate (not UTF-8: the extension cannot read it)
    assert _NATIVE is not None
    record = SourceRecord.model_construct(
        source="crm", object_type="contact", source_id=source_id, updated_at=AT, identifiers=()
    )
    # WHEN the compiled path is asked THEN it declines (None, or the Python path's id), never raises
    arrival = _Arrival(AT, "ingest")
    assert NativeRows(_NATIVE).source_event_rows([record], "cus_x", '"cus_x"', arrival, 0, False) is None
    try:
        expected = customer_id_for(record.key)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            NativeRows(_NATIVE).customer_id(record.key)
    else:
        assert NativeRows(_NATIVE).customer_id(record.key) == expected
