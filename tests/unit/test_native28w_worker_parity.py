"""The normalising worker's compiled JSON and hash (native/src/worker.rs) keep the Python path's memos.

``profilesync_native.record_json_and_hash`` does what ``core.record_json.record_json_and_hash``
does: each record's JSON (pydantic's serialiser), its content hash cut out of that JSON and hashed
with BLAKE2b, and the hashed length, kept in the record's ``__dict__`` in the same order (the
pickled record, which crosses to the resolving process, is then the same bytes). The Python path
is the oracle: hypothesis records of every shape the canonical schema allows (any Unicode incl.
non-BMP, NUL, empty and 500-fold texts, every optional field missing or set, times of any year
and offset) and of the shapes that make the cut hard (text that looks like the JSON cut around,
consent decisions at the record's own time as the same object, as an equal time written
otherwise, or carried ``dated_by_record``), compared memo for memo and byte for byte.

Mutations of native/src/worker.rs these tests catch (each built and run against them): the
``changed_at is not at`` check dropped (an equal time at another offset then cut as the record's
own: a different hash) fails ``test_the_compiled_memos_are_the_python_paths``; ``rfind`` of the
tail replaced by ``find`` (a child's trait named ``read_at`` cut as the field) fails
``test_a_trait_named_like_the_fields_cut_is_not_cut`` (hypothesis's texts never found it).
"""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticSerializationError

import profilesync.resolve_native as resolve_native
from core.content_hash import RECORD_HASH_MEMO, record_hash
from core.record_json import RECORD_JSON_MEMO
from core.record_json import record_json_and_hash as python_json_and_hash
from core.schema import SourceRecord
from tests.native_support import NATIVE as _NATIVE
from tests.native_support import needs_native
from tests.unit.test_record_json_and_hash import _records_made
from tests.unit.test_rust27_native_parity import _RECORD

pytestmark = needs_native

AT = datetime(2026, 6, 1, 12, 30, 15, 250000, tzinfo=UTC)


def _compiled(record: SourceRecord) -> None:
    """The extension's call alone, without the fallback: an error here is a test failure."""
    assert _NATIVE is not None
    _NATIVE.record_json_and_hash(record, record_hash)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(record=st.one_of(_records_made(), _RECORD), hashed_first=st.booleans())
def test_the_compiled_memos_are_the_python_paths(record: SourceRecord, hashed_first: bool) -> None:
    # GIVEN a record of any shape, twice without memos (and maybe with its hash already kept)
    python, compiled = record.model_copy(), record.model_copy()
    if hashed_first:
        record_hash(python)
        record_hash(compiled)
    # WHEN the Python path and the compiled call keep its JSON and hash
    python_json_and_hash(python)
    _compiled(compiled)
    # THEN the same memos, in the same order, and the same pickled bytes
    assert list(compiled.__dict__.items()) == list(python.__dict__.items())
    assert compiled.__dict__[RECORD_JSON_MEMO] == record.model_dump_json()
    assert pickle.dumps(compiled) == pickle.dumps(python)
    # AND a second call keeps them as they are
    _compiled(compiled)
    assert list(compiled.__dict__.items()) == list(python.__dict__.items())


@pytest.mark.parametrize("level", ["person", "child"])
def test_a_trait_named_like_the_fields_cut_is_not_cut(level: str) -> None:
    # GIVEN records whose traits are named as the fields the hash leaves out: their JSON holds
    # ``,"read_at":`` and ``,"updated_at":"`` unescaped inside the traits as well
    traits = {"a": "1", "read_at": "x", "updated_at": "y", "level": "person", "owner": "z"}
    record = SourceRecord.model_validate(
        {
            "source": "crm",
            "object_type": "contact",
            "source_id": "1",
            "updated_at": AT,
            "identifiers": [],
            "traits": traits,
            "level": level,
            "owner": "o" if level == "child" else None,
            "read_at": AT,
        }
    )
    python, compiled = record.model_copy(), record.model_copy()
    # WHEN both paths keep the JSON and hash THEN the same memos (the field, not the trait, is cut)
    python_json_and_hash(python)
    _compiled(compiled)
    assert list(compiled.__dict__.items()) == list(python.__dict__.items())


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    source_id=st.text(alphabet=st.characters(), min_size=1).filter(
        lambda t: any(0xD800 <= ord(c) <= 0xDFFF for c in t)
    )
)
def test_a_text_the_serialiser_refuses_keeps_nothing_and_the_python_path_decides(source_id: str) -> None:
    # GIVEN a record holding a lone surrogate (JSON's "\ud800" escape parses to one)
    record = SourceRecord.model_construct(
        source="crm", object_type="contact", source_id=source_id, updated_at=AT, identifiers=()
    )
    # WHEN the compiled call is asked THEN it raises before keeping anything
    with pytest.raises(PydanticSerializationError, match="surrogates not allowed") as refused:
        _compiled(record)
    assert RECORD_HASH_MEMO not in record.__dict__
    assert RECORD_JSON_MEMO not in record.__dict__
    # AND the worker's function raises what the Python path raises (the worker quarantines nothing
    # new: the same error reaches the caller either way)
    with pytest.raises(type(refused.value)):
        python_json_and_hash(record.model_copy())
    with pytest.raises(type(refused.value)):
        resolve_native.record_json_and_hash(record)


def test_the_worker_takes_the_compiled_call_unless_it_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the extension built WHEN the worker asks for its function THEN it is the compiled one
    assert resolve_native.UNAVAILABLE == ""
    assert resolve_native.worker_json_and_hash() is resolve_native.record_json_and_hash
    # AND with PROFILESYNC_NATIVE=off, the Python path's
    monkeypatch.setenv("PROFILESYNC_NATIVE", "off")
    module, why = resolve_native._load()
    assert module is None
    assert why == "PROFILESYNC_NATIVE is off"
    monkeypatch.setattr(resolve_native, "_MODULE", module)
    assert resolve_native.worker_json_and_hash() is python_json_and_hash
