"""The normalising worker's models assembled by native/src/norm_assemble.rs are the Python path's.

``core.normalise.use_assembler`` lets the normalising worker of ``profilesync resolve`` build its
models with ``profilesync_native.assemble_model`` (chosen by profilesync.resolve_native) instead of
``core.schema_base.assemble_model``. The Python function is the oracle: on hypothesis drafts of
every shape (tests/unit/test_normalise.py's ``drafts``), ``normalise_record`` gives, both ways, the
same classes, the same ``__dict__`` entries in order, the class's shared set of fields (the same
object), nothing private or extra, and the same pickled bytes (``_Frozen.__reduce__`` writes a set
of fields that is not the shared one, so a model assembled with its own set pickles otherwise).

Mutations this catches (each built and run): ``assemble_model`` giving the model a copy of
``values`` fails ``test_the_model_holds_the_values_dict_itself``; giving it a fresh set of all its
fields instead of the shared one fails the hypothesis test (the ``is`` check and the pickled bytes).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import core.normalise._money as money
import core.normalise._record as record_module
import profilesync.resolve_native as resolve_native
from core.normalise import NormaliseOptions, normalise_record, use_assembler
from core.schema import _ALL_FIELDS, Identifier, RecordDraft, assemble_model
from tests.native_support import NATIVE, needs_native
from tests.unit.test_normalise import drafts

pytestmark = needs_native

OPTIONS = NormaliseOptions(now=datetime(2026, 6, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def python_assembler() -> Iterator[None]:
    use_assembler(None)
    yield
    use_assembler(None)


def _normalised(draft: RecordDraft, compiled: bool) -> Any:
    use_assembler(NATIVE.assemble_model if compiled and NATIVE is not None else None)
    # (the cached identifiers were built by whichever assembler ran first: built again each way)
    record_module._email_identifier.cache_clear()
    record_module._phone_identifier.cache_clear()
    try:
        return normalise_record(draft, OPTIONS)
    finally:
        use_assembler(None)


def _models(item: Any) -> list[Any]:
    """``item`` and every schema model it holds, depth first."""
    found = [item]
    for value in item.__dict__.values():
        inner = value if isinstance(value, tuple) else value.values() if isinstance(value, dict) else [value]
        found.extend(m for v in inner if hasattr(v, "__pydantic_fields_set__") for m in _models(v))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(draft=drafts())
def test_normalised_records_are_the_python_paths_models(draft: RecordDraft, python_assembler: None) -> None:
    """GIVEN any draft WHEN normalised with the compiled assembler and with core.schema's
    THEN the same models, sharing their class's set of fields, pickled to the same bytes."""
    expected = _normalised(draft, compiled=False)
    got = _normalised(draft, compiled=True)
    assert pickle.dumps(got) == pickle.dumps(expected)
    for got_model, model in zip(_models(got), _models(expected), strict=True):
        assert type(got_model) is type(model)
        assert list(got_model.__dict__.items()) == list(model.__dict__.items())
        assert got_model.__pydantic_fields_set__ == model.__pydantic_fields_set__
        if model.__pydantic_fields_set__ is _ALL_FIELDS.get(type(model)):  # (a validated one has its own)
            assert got_model.__pydantic_fields_set__ is model.__pydantic_fields_set__
        assert got_model.__pydantic_private__ is None
        assert got_model.__pydantic_extra__ is None


def test_the_model_holds_the_values_dict_itself() -> None:
    """GIVEN a values dict WHEN assembled THEN it is the model's ``__dict__`` (no copy), as
    core.schema_base's."""
    assert NATIVE is not None
    values = {"kind": "email", "value": "ann@example.com"}
    made = NATIVE.assemble_model(Identifier, values)
    assert made.__dict__ is values
    assert made == assemble_model(Identifier, dict(values))
    assert made.__pydantic_fields_set__ is _ALL_FIELDS[Identifier]


def test_a_class_not_seen_yet_goes_to_the_python_function() -> None:
    """GIVEN a model class with no shared set of fields yet WHEN assembled THEN the Python path
    makes it and its set, and the next one shares it."""
    assert NATIVE is not None

    class Fresh(Identifier):
        pass

    first = NATIVE.assemble_model(Fresh, {"kind": "phone", "value": "+442079460018"})
    second = NATIVE.assemble_model(Fresh, {"kind": "phone", "value": "+442079460019"})
    assert type(first) is Fresh
    assert first.__pydantic_fields_set__ is _ALL_FIELDS[Fresh] is second.__pydantic_fields_set__


def test_the_worker_chooses_the_compiled_assembler_and_none_restores_core_schemas(
    monkeypatch: pytest.MonkeyPatch, python_assembler: None
) -> None:
    """GIVEN the extension on or off WHEN the worker asks THEN native's function or None; and
    ``use_assembler`` sets both normalisers' modules (None: core.schema's own)."""
    monkeypatch.setattr(resolve_native, "_MODULE", NATIVE)
    assert NATIVE is not None
    assert resolve_native.worker_assembler() is NATIVE.assemble_model
    use_assembler(resolve_native.worker_assembler())
    assert record_module.assemble_model is money.assemble_model is NATIVE.assemble_model
    monkeypatch.setattr(resolve_native, "_MODULE", None)
    assert resolve_native.worker_assembler() is None
    use_assembler(None)
    assert record_module.assemble_model is money.assemble_model is assemble_model
