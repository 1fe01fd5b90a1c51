"""``model_copy`` keeps no entry worked out from the original's fields (core.schema_base._Frozen).

Modules keep what they work out from a model's fields beside them in its ``__dict__`` (the memoised
key, a record's hash and hashed length, its JSON, its graph node, its match document, a profile's
hashed length). The copy drops every such entry, whichever module added it, rather than a list of
their names kept in the schema's base: an entry a later module adds is dropped the day it is added,
so a copy with another field never answers with the original's key or hash.
"""

from __future__ import annotations

from connectors.jsonl import draft_from_flat
from core.content_hash import HASHED_BYTES_MEMO, RECORD_HASH_MEMO, profile_hash, record_hash
from core.merge import build_profile
from core.normalise import normalise_record
from core.record_json import RECORD_JSON_MEMO, record_json
from core.schema import SourceRecord
from core.testing.population import population


def _records() -> list[SourceRecord]:
    out = []
    for _, flat in population(40, seed=5):
        record = normalise_record(draft_from_flat(flat))
        if isinstance(record, SourceRecord):
            out.append(record)
    return out


def test_a_copied_record_holds_its_fields_only_and_works_its_key_and_hash_out_anew() -> None:
    for record in _records():
        # GIVEN a record with its key, hash and JSON kept, and an entry a later module might keep
        _ = record.key
        original_hash = record_hash(record)
        record_json(record)
        record.__dict__["_a_later_memo"] = ("worked out", record.source_id)
        assert {"key", RECORD_HASH_MEMO, HASHED_BYTES_MEMO, RECORD_JSON_MEMO} <= set(record.__dict__)
        # WHEN copied with another id
        moved = record.model_copy(update={"source_id": record.source_id + "-moved"})
        # THEN the copy holds its fields and nothing else, and answers for its own fields
        assert set(moved.__dict__) == set(SourceRecord.model_fields)
        assert moved.key == f"{record.source}:{record.object_type}:{record.source_id}-moved"
        fresh = SourceRecord.model_validate(moved.model_dump())
        assert record_hash(moved) == record_hash(fresh) != original_hash
        assert record_json(moved) == fresh.model_dump_json()
        # AND the original keeps what it had worked out
        assert record.__dict__["_a_later_memo"] == ("worked out", record.source_id)
        assert record_hash(record) == original_hash


def test_a_copied_profile_holds_its_fields_only() -> None:
    # GIVEN a profile whose hashed length is kept beside its fields
    records = _records()[:3]
    profile = build_profile("cus_A", records)
    profile_hash(profile)
    assert HASHED_BYTES_MEMO in profile.__dict__
    # WHEN copied with another version THEN the copy holds its fields only
    copied = profile.model_copy(update={"version": 2})
    assert set(copied.__dict__) == set(type(profile).model_fields)
    assert copied.version == 2
