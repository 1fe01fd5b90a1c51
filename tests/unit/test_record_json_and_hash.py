"""``core.record_json.record_json_and_hash``: a record's JSON and hash from one serialisation.

The normalising worker of ``profilesync resolve`` keeps both with each record. The hash's bytes are
cut out of the JSON rather than serialised again, so both must be exactly what ``record_json`` and
``core.content_hash.record_hash`` give, for any record: values holding the very text that is cut
(``,"updated_at":"`` in a trait, a quote, a backslash), times at other offsets, consent decisions
at the record's own time (the same ``datetime``, an equal one written otherwise, another time),
children with an owner, summaries, a time read ahead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import core.record_json
from core.merge import RECORD_HASH_MEMO, record_hash
from core.record_json import RECORD_JSON_MEMO, record_json, record_json_and_hash
from core.schema import (
    ConsentState,
    DroppedValue,
    Identifier,
    Order,
    OrderSummary,
    SourceRecord,
    assemble_model,
)
from tests.hypothesis_profiles import examples
from tests.unit.test_record_hash_memo import _records

# Text that looks like the JSON around the parts that are cut, and what JSON escapes.
_NASTY = [',"updated_at":"', ',"read_at":', '{"granted":true,"changed_at":"', '"}', "\\", '"', "é", "\u2028"]
_TEXT = st.one_of(
    st.text(max_size=12), st.sampled_from(_NASTY), st.lists(st.sampled_from(_NASTY)).map("".join)
)
_ZONES = st.sampled_from([UTC, timezone(timedelta(0)), timezone(timedelta(hours=5, minutes=30)), None])


@st.composite
def _times(draw: st.DrawFn) -> datetime:
    moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    return moment.replace(tzinfo=draw(_ZONES))


def _same_instant_otherwise(moment: datetime) -> datetime:
    """An equal time that is another object, written at another offset where it can be."""
    if moment.tzinfo is None:
        return moment.replace(microsecond=moment.microsecond)  # equal, another object
    return moment.astimezone(timezone(timedelta(hours=-3)))


@st.composite
def _records_made(draw: st.DrawFn) -> SourceRecord:
    updated_at = draw(_times())
    consent: dict[str, ConsentState] = {}
    for channel in draw(st.lists(_TEXT, max_size=4, unique=True)):
        how = draw(st.sampled_from(["same object", "equal", "other"]))
        if how == "same object":
            changed_at = updated_at
        elif how == "equal":
            changed_at = _same_instant_otherwise(updated_at)
        else:
            changed_at = draw(_times())
        consent[channel] = assemble_model(
            ConsentState,
            {
                "granted": draw(st.booleans()),
                "changed_at": changed_at,
                "dated_by_record": draw(st.booleans()),
                # a decision's run (core.consent_carry) is written by ingest, never by normalising:
                # the compiled worker's parity (test_native28w_worker_parity) draws from here too
                "contrary_at": None,
                "run_at": (),
            },
        )
    orders = tuple(
        assemble_model(
            Order,
            {
                "id": draw(_TEXT),
                "total": draw(st.decimals(allow_nan=False, allow_infinity=False, places=2)),
                "currency": "EUR",
                "created_at": draw(st.sampled_from([updated_at, draw(_times())])),
                "status": draw(st.sampled_from(["paid", "refunded"])),
            },
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    child = draw(st.booleans())
    summary = None
    if draw(st.booleans()):
        summary = assemble_model(
            OrderSummary,
            {
                "orders": 3,
                "paid": {"EUR": 2},
                "totals": {"EUR": Decimal("10.50")},
                "first_paid_at": updated_at,
                "last_paid_at": None,
            },
        )
    values: dict[str, Any] = {
        "source": draw(_TEXT),
        "object_type": draw(_TEXT),
        "source_id": draw(_TEXT),
        "updated_at": updated_at,
        "identifiers": tuple(
            assemble_model(Identifier, {"kind": kind, "value": draw(_TEXT)})
            for kind in draw(st.lists(st.sampled_from(["email", "phone", "source"]), max_size=3))
        ),
        "traits": draw(st.dictionaries(_TEXT, _TEXT, max_size=3)),
        "consent": consent,
        "orders": orders,
        "dropped": tuple(
            assemble_model(DroppedValue, {"field": draw(_TEXT), "value": draw(_TEXT), "reason": draw(_TEXT)})
            for _ in range(draw(st.integers(0, 1)))
        ),
        "level": "child" if child else "person",
        "owner": draw(st.one_of(st.none(), _TEXT)) if child else None,
        "order_summary": summary,
        "read_at": draw(st.one_of(st.none(), st.just(updated_at), _times())),
    }
    return assemble_model(SourceRecord, values)


def _both_ways(record: SourceRecord) -> tuple[tuple[str, str], tuple[str, str]]:
    """``(json, hash)`` by the one serialisation and by the two functions, each on a fresh copy
    (``model_copy`` keeps the values, datetimes and all, and drops what was kept). The two are
    called in the worker's former order, and the kept entries must be in that order too: a pickled
    record is then the bytes it was."""
    once, twice = record.model_copy(), record.model_copy()
    record_json_and_hash(once)
    hashed = record_hash(twice)
    assert list(once.__dict__) == [*twice.__dict__, RECORD_JSON_MEMO]
    return (once.__dict__[RECORD_JSON_MEMO], once.__dict__[RECORD_HASH_MEMO]), (record_json(twice), hashed)


@settings(max_examples=examples(ci=100, deep=400), deadline=None)
@given(_records_made())
def test_any_record_gets_the_json_and_hash_of_the_two_functions(record: SourceRecord) -> None:
    once, separately = _both_ways(record)
    assert once == separately


def test_a_population_gets_them_from_one_serialisation(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN normalised records of a population (consent at the record's time among them) WHEN both
    are worked out THEN they are the two functions', and none needed a second serialisation."""
    records = _records(200, seed=12)
    assert any(s.changed_at is r.updated_at for r in records for s in r.consent.values())
    expected = [_both_ways(r)[1] for r in records]

    def second_serialisation(record: SourceRecord) -> str:
        raise AssertionError("the hash was serialised on its own")

    monkeypatch.setattr(core.record_json, "record_hash", second_serialisation)
    for record, (json_text, hashed) in zip(records, expected, strict=True):
        record_json_and_hash(record)
        assert (record.__dict__[RECORD_JSON_MEMO], record.__dict__[RECORD_HASH_MEMO]) == (json_text, hashed)


def test_a_consent_time_written_otherwise_is_hashed_the_general_way() -> None:
    """GIVEN a decision at the record's own time written at another offset WHEN both are worked out
    THEN the hash leaves its time out, as record_hash does (the text cut would not find it)."""
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    record = next(r for r in _records(40, seed=3) if not r.consent)
    other = ConsentState.assemble(granted=True, changed_at=_same_instant_otherwise(at), dated_by_record=False)
    record = record.model_copy(update={"updated_at": at, "consent": {"email": other}})
    once, separately = _both_ways(record)
    assert once == separately
    moved = record.model_copy(
        update={
            "consent": {"email": ConsentState.assemble(granted=True, changed_at=at, dated_by_record=False)}
        }
    )
    assert _both_ways(moved)[0][1] == once[1]  # the decision's time is left out either way


def test_what_was_kept_already_is_kept() -> None:
    record = _records(5, seed=1)[0]
    hashed = record_hash(record)
    record_json_and_hash(record)
    assert record.__dict__[RECORD_HASH_MEMO] is hashed
    assert record.__dict__[RECORD_JSON_MEMO] == record.model_dump_json()
