"""The worker's compiled hand-over (native/src/worker_handover.rs) reads back the Python path's models.

The normalising worker pickles its chunks (profilesync.parallel_normalise's ``_pickled``) with a
reducer whose pickles name ``profilesync_native.reassemble`` where the extension is on, which the
resolving process reads the models back through.
The Python reducer and ``core.schema_base._reassemble`` are the oracle: a chunk of hypothesis
records of every shape (with the memos the worker keeps), quarantined lines and batch ends, read
back from the compiled pickle, must be the models the Python pickle gives: the same classes, the
same ``__dict__`` entries in the same order, the same fields set (the class's shared set, or the
model's own), nothing private or extra, and the same bytes when pickled again by the Python path.

Mutation this catches (built and run against it): a reducer without its check that the model
holds its class's shared set of fields (a model validated with defaults, whose own set is
smaller, then read back with every field set) fails
``test_a_model_with_its_own_fields_set_reads_back_as_the_python_paths`` (run against
parallel_normalise's ``_reducer``, and against a compiled reducer of native/ that this
branch measured slower than the Python one and dropped).
"""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import profilesync.parallel_normalise as parallel
import profilesync.resolve_native as resolve_native
from connectors.jsonl.batched import BatchEnd
from core.record_json import record_json_and_hash
from core.schema import _ALL_FIELDS, Identifier, Quarantined, SourceRecord, assemble_model
from tests.native_support import NATIVE as _NATIVE
from tests.native_support import needs_native
from tests.unit.test_record_json_and_hash import _records_made
from tests.unit.test_rust27_native_parity import _RECORD

pytestmark = needs_native

AT = datetime(2026, 6, 1, 12, 30, 15, 250000, tzinfo=UTC)


def _pickled(chunk: list[Any], monkeypatch: pytest.MonkeyPatch, compiled: bool) -> bytes:
    with monkeypatch.context() as patch:
        patch.setattr(resolve_native, "_MODULE", _NATIVE if compiled else None)
        return parallel._pickled(chunk)


def _models(item: Any) -> list[Any]:
    """``item`` and every schema model it holds, depth first (the models pickle rebuilds)."""
    found = [item]
    values = item.__dict__.values() if hasattr(item, "__pydantic_fields_set__") else ()
    for value in values:
        for inner in (
            value if isinstance(value, tuple) else value.values() if isinstance(value, dict) else [value]
        ):
            if hasattr(inner, "__pydantic_fields_set__"):
                found.extend(_models(inner))
    return found


def _same_models(got: list[Any], expected: list[Any]) -> None:
    for got_item, expected_item in zip(got, expected, strict=True):
        for got_model, model in zip(_models(got_item), _models(expected_item), strict=True):
            assert type(got_model) is type(model)
            if not hasattr(model, "__pydantic_fields_set__"):
                assert got_model == model  # a batch end
                continue
            assert list(got_model.__dict__.items()) == list(model.__dict__.items())
            assert got_model.__pydantic_fields_set__ == model.__pydantic_fields_set__
            if model.__pydantic_fields_set__ is _ALL_FIELDS.get(type(model)):
                assert got_model.__pydantic_fields_set__ is model.__pydantic_fields_set__
            assert got_model.__pydantic_private__ is None
            assert got_model.__pydantic_extra__ is None


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(records=st.lists(st.one_of(_records_made(), _RECORD), min_size=1, max_size=5), memos=st.booleans())
def test_a_chunk_reads_back_as_the_python_paths_models(
    records: list[SourceRecord], memos: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a chunk as the worker sends it: records (with their JSON and hash kept, or not),
    # a quarantined line and a batch end
    if memos:
        for record in records:
            record_json_and_hash(record)
    quarantined = Quarantined(source="crm", source_id="x", reason="no id", raw={"a": [1, "\x00"]})
    chunk: list[Any] = [*records, quarantined, BatchEnd()]
    # WHEN it is pickled by the compiled reducer and by the Python one, and read back
    compiled_bytes = _pickled(chunk, monkeypatch, compiled=True)
    python_bytes = _pickled(chunk, monkeypatch, compiled=False)
    assert b"profilesync_native" not in python_bytes
    got, expected = pickle.loads(compiled_bytes), pickle.loads(python_bytes)
    # THEN the same models, and the same bytes when the Python path pickles them again (not the
    # first pickle's bytes: a set read back may iterate in another order than the one pickled)
    _same_models(got, expected)
    assert _pickled(got, monkeypatch, compiled=False) == _pickled(expected, monkeypatch, compiled=False)


def test_a_model_with_its_own_fields_set_reads_back_as_the_python_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a record validated from values that leave its defaults unset (its own fields set)
    record = SourceRecord.model_validate(
        {"source": "crm", "object_type": "contact", "source_id": "1", "updated_at": AT, "identifiers": []}
    )
    SourceRecord.assemble(**dict(record))  # the class's shared set of fields exists, and is not its own
    assert _ALL_FIELDS[SourceRecord] != record.__pydantic_fields_set__
    # WHEN it crosses by the compiled reducer and by the Python one
    got = pickle.loads(_pickled([record], monkeypatch, compiled=True))
    expected = pickle.loads(_pickled([record], monkeypatch, compiled=False))
    # THEN it keeps its own set either way (what ``model_dump(exclude_unset=True)`` reads)
    _same_models(got, expected)
    assert got[0].model_dump(exclude_unset=True) == record.model_dump(exclude_unset=True)


def test_the_worker_pickles_for_the_compiled_reassemble_unless_it_is_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the extension built WHEN the worker builds its pickler's table THEN the compiled reducer
    assert _NATIVE is not None
    assert resolve_native.handover_reassemble() is _NATIVE.reassemble
    assert parallel._dispatch_table()[SourceRecord] is not parallel._reduce_model
    # (and an assembled model, as the normaliser builds them, names the compiled ``reassemble``)
    assembled = assemble_model(Identifier, {"kind": "email", "value": "a@b.example"})
    assert b"profilesync_native" in _pickled([assembled], monkeypatch, compiled=True)
    # AND without it, the Python reducer
    monkeypatch.setattr(resolve_native, "_MODULE", None)
    assert resolve_native.handover_reassemble() is None
    assert parallel._dispatch_table()[SourceRecord] is parallel._reduce_model
