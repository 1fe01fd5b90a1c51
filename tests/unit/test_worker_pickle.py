"""The normalising worker pickles its chunks with a dispatch table, into ``pickle.dumps``'s bytes.

``profilesync.parallel_normalise._pickled`` finds the schema's models in its pickler's dispatch
table rather than asking each for ``__reduce_ex__``. The resolving process reads the chunks as it
did, so the bytes must be exactly ``pickle.dumps(chunk)``'s: for assembled records with their hash,
JSON and key kept, validated models with a fields set of their own, quarantine entries, batch ends,
profiles, and records of any content. These tests hold the Python reducer to those bytes; with the
compiled extension on, the worker's pickles name its ``reassemble`` instead
(tests/unit/test_native28w_handover_parity.py holds those).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import profilesync.parallel_normalise as parallel
from connectors.jsonl.batched import BATCH_END
from core.merge import build_profile
from core.record_json import record_json_and_hash
from core.schema import ConsentState, Identifier, Profile, Quarantined, SourceRecord
from tests.hypothesis_profiles import examples
from tests.unit.test_record_hash_memo import _records
from tests.unit.test_record_json_and_hash import _records_made


@pytest.fixture(autouse=True, scope="module")
def _python_reducer() -> Any:
    """The Python path's pickles (``core.schema_base._reassemble``), extension or not."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parallel, "handover_reassemble", lambda: None)
        yield


def _chunk() -> list[Any]:
    records: list[Any] = []
    for record in _records(80, seed=21):
        record_json_and_hash(record)
        _ = record.key
        records.append(record)
    profiles = [build_profile(f"cus_{n}", [r], version=n) for n, r in enumerate(records[:20])]
    own_fields = [
        Profile(customer_id="cus_x", identifiers=(Identifier(kind="email", value="a@example.com"),)),
        ConsentState.model_validate({"granted": True, "changed_at": "2026-01-01T00:00:00Z"}),
        Quarantined(source="crm", source_id="1", reason="no identifier", raw={"line": "{"}),
    ]
    return [*records, BATCH_END, *profiles, *own_fields, BATCH_END]


def test_a_chunk_pickles_into_the_bytes_of_pickle_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a chunk of every kind the worker sends, and models the table does not take the short way
    chunk = _chunk()
    reduced: list[Any] = []
    real = parallel._reduce_model

    def counted(model: Any) -> Any:
        reduced.append(model)
        return real(model)

    monkeypatch.setattr(parallel, "_DISPATCH", {})
    monkeypatch.setattr(parallel, "_reduce_model", counted)
    # WHEN pickled by the worker's pickler
    sent = parallel._pickled(chunk)
    # THEN the bytes are pickle.dumps's, every model went through the table, and they read back
    assert sent == pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
    assert {type(model) for model in reduced} >= {
        SourceRecord,
        Identifier,
        Profile,
        ConsentState,
        Quarantined,
    }
    back = pickle.loads(sent)
    assert back == chunk
    assert [getattr(m, "__dict__", None) for m in back] == [getattr(m, "__dict__", None) for m in chunk]


@settings(max_examples=examples(ci=40, deep=200), deadline=None)
@given(st.lists(_records_made(), max_size=5))
def test_records_of_any_content_pickle_into_the_bytes_of_pickle_dumps(records: list[SourceRecord]) -> None:
    for record in records:
        record_json_and_hash(record)
    assert parallel._pickled(records) == pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)


def test_the_worker_sends_what_it_pickled(tmp_path: Path) -> None:
    """GIVEN a file WHEN read through a worker THEN what arrives is what pickle would have sent."""
    path = tmp_path / "records.jsonl"
    path.write_text(
        '{"source": "crm", "id": "1", "updated_at": "2026-01-01T00:00:00Z", "email": "a@example.com",'
        ' "consent": {"email": true}}\n{"id": 2}\n',
        encoding="utf-8",
    )
    sent = list(parallel.NormalisingWorker(path))
    assert [type(item) for item in sent] == [SourceRecord, Quarantined]
    assert pickle.loads(pickle.dumps(sent)) == sent


class _OwnWay(Identifier):
    """A model class that pickles its own way (none of the schema's does today)."""

    def __reduce__(self) -> str | tuple[Any, ...]:
        return (Identifier, (), None, None, None)  # a validated-less Identifier, on purpose different


def test_a_model_class_that_pickles_its_own_way_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a class defined before the table is made, overriding __reduce__
    monkeypatch.setattr(parallel, "_DISPATCH", {})
    model = _OwnWay.assemble(kind="email", value="a@example.com")
    # WHEN pickled by the worker's pickler THEN its own __reduce__ decides, as pickle.dumps does
    assert _OwnWay not in parallel._dispatch_table()
    assert parallel._pickled([model]) == pickle.dumps([model], protocol=pickle.HIGHEST_PROTOCOL)  # type: ignore[list-item]
