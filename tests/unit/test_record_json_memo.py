"""A record's JSON is worked out once and kept with it (``core.record_json.RECORD_JSON_MEMO``).

The normalising worker of ``profilesync resolve`` works it out and sends it with the record; the
embedded store writes it as the record's snapshot. The kept text must be ``model_dump_json()`` of
the record, invisible to pydantic (dumps, ``==``, the record's hash), carried through pickling,
and dropped by ``model_copy`` (whose update may change the content).
"""

from __future__ import annotations

import pickle

from core.merge import record_hash
from core.record_json import RECORD_JSON_MEMO, record_json
from core.schema import SourceRecord
from tests.unit.test_record_hash_memo import _records


def test_the_kept_json_is_the_records_and_invisible_to_pydantic() -> None:
    """GIVEN records of a population WHEN their JSON is asked twice THEN it is the record's JSON,
    kept, and dumps, equality and the hash do not see it."""
    for record in _records(60, seed=4):
        dumped = record.model_dump_json()
        hashed = record_hash(SourceRecord.model_validate_json(dumped))
        assert record_json(record) == dumped
        assert record.__dict__[RECORD_JSON_MEMO] is record_json(record)
        assert record.model_dump_json() == dumped
        assert RECORD_JSON_MEMO not in record.model_dump()
        assert record == SourceRecord.model_validate_json(dumped)
        assert record_hash(record) == hashed


def test_the_kept_json_travels_with_a_pickled_record() -> None:
    """GIVEN records with their JSON kept WHEN pickled and read back (as from the worker) THEN each
    copy has it kept, equal to its own fresh JSON."""
    records = _records(30, seed=6)
    for record in records:
        record_json(record)
    for original, copy in zip(records, pickle.loads(pickle.dumps(records)), strict=True):
        assert copy.__dict__[RECORD_JSON_MEMO] == original.model_dump_json() == copy.model_dump_json()
        assert copy == original


def test_a_copy_with_other_content_has_its_own_json() -> None:
    """GIVEN a record with its JSON kept WHEN copied with another value THEN the copy's JSON is
    worked out for the new content, not the original's."""
    record = next(r for r in _records(20, seed=8) if r.traits)
    before = record_json(record)
    name = next(iter(record.traits))
    changed = record.model_copy(update={"traits": {**record.traits, name: "someone else"}})
    assert RECORD_JSON_MEMO not in changed.__dict__
    assert record_json(changed) != before
    assert record_json(changed) == changed.model_dump_json()
