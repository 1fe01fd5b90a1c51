"""A record's hash is worked out once and kept with it (``core.content_hash.RECORD_HASH_MEMO``).

Ingest asks for it when it checks a record against the store and again when it moves a snapshot,
and a record normalised in a worker process arrives with it. The kept value must be the hash of
the record's content, invisible to pydantic (dumps, ``==``), carried through pickling, and dropped
by ``model_copy`` (whose update may change the content).
"""

from __future__ import annotations

import pickle

from connectors.jsonl import draft_from_flat
from core.merge import RECORD_HASH_MEMO, record_hash
from core.normalise import normalise_record
from core.schema import SourceRecord
from core.testing.population import population


def _records(people: int, seed: int) -> list[SourceRecord]:
    out = []
    for _, flat in population(people, seed=seed):
        record = normalise_record(draft_from_flat(flat))
        if isinstance(record, SourceRecord):
            out.append(record)
    return out


def _unkept_hash(record: SourceRecord) -> str:
    """The hash worked out afresh, from a copy that has never been hashed."""
    fresh = SourceRecord.model_validate_json(record.model_dump_json())
    assert RECORD_HASH_MEMO not in fresh.__dict__
    return record_hash(fresh)


def test_the_kept_hash_is_the_hash_of_the_content_and_invisible_to_pydantic() -> None:
    """GIVEN records of a population WHEN hashed twice THEN the kept hash is the fresh one, and
    dumps and equality do not see it."""
    for record in _records(60, seed=4):
        dumped = record.model_dump_json()
        first = record_hash(record)
        assert record.__dict__[RECORD_HASH_MEMO] == first
        assert record_hash(record) == first == _unkept_hash(record)
        assert record.model_dump_json() == dumped
        assert RECORD_HASH_MEMO not in record.model_dump()
        assert record == SourceRecord.model_validate_json(dumped)


def test_the_kept_hash_travels_with_a_pickled_record() -> None:
    """GIVEN hashed records WHEN pickled and read back (as from a worker process) THEN each has its
    hash kept, equal to a fresh one, and equals the original."""
    records = _records(30, seed=6)
    for record in records:
        record_hash(record)
    for original, copy in zip(records, pickle.loads(pickle.dumps(records)), strict=True):
        assert copy.__dict__[RECORD_HASH_MEMO] == record_hash(original) == _unkept_hash(copy)
        assert copy == original
        assert copy.model_dump_json() == original.model_dump_json()


def test_a_copy_with_other_content_has_its_own_hash() -> None:
    """GIVEN a hashed record WHEN copied with another value THEN the copy's hash is worked out for
    the new content, not the original's."""
    record = next(r for r in _records(20, seed=8) if r.traits)
    before = record_hash(record)
    name = next(iter(record.traits))
    changed = record.model_copy(update={"traits": {**record.traits, name: "someone else"}})
    assert RECORD_HASH_MEMO not in changed.__dict__
    assert record_hash(changed) != before
    assert record_hash(changed) == _unkept_hash(changed)
