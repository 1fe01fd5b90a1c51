"""A record's source key is one rule (``core.schema.source_key``): the record, its deletion, a profile's
reference to it and the ``source#`` identifier of its key all name the same ``<tool>:<type>:<id>``.

A stored customer lists its records by that key, a tombstone names the record it retires by it, and a
profile points back at it; a second copy of the format that drifted (another separator, the parts in
another order) would leave a deletion or a reference pointing at no record.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import assume, given
from hypothesis import strategies as st

from core.schema import (
    Identifier,
    SourceDeletion,
    SourceRecord,
    SourceRef,
    source_identifier,
    source_key,
)

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
#: A tool's and an object type's name hold no colon (the key's separator); an id may.
_NAME = st.text(
    st.characters(blacklist_characters=":", blacklist_categories=("Cs",)), min_size=1, max_size=12
)
_ID = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)


@given(source=_NAME, object_type=_NAME, source_id=_ID)
def test_a_record_its_deletion_and_a_reference_to_it_name_one_key(
    source: str, object_type: str, source_id: str
) -> None:
    # GIVEN a record, the deletion of that record, and a profile's reference to it
    key = source_key(source, object_type, source_id)
    record = SourceRecord(
        source=source,
        object_type=object_type,
        source_id=source_id,
        updated_at=AT,
        identifiers=(Identifier(kind="source", value=key),),
    )
    deletion = SourceDeletion(source=source, object_type=object_type, source_id=source_id, deleted_at=AT)
    reference = SourceRef(source=source, object_type=object_type, id=source_id, updated_at=AT)
    # THEN each names the key, and the key is the tool, the type and the id in that order
    assert record.key == deletion.key == reference.key == key
    assert key.split(":", 2) == [source, object_type, source_id]
    assert record.source_identifier == Identifier(kind="source", value=key)


@given(source=_NAME, object_type=_NAME, source_id=_ID)
def test_a_typed_record_id_gives_the_identifier_of_the_key_its_parts_make(
    source: str, object_type: str, source_id: str
) -> None:
    # GIVEN a record id as a person types it (``hubspot:contact:123``), each part non-blank
    parts = (source.strip(), object_type.strip(), source_id.strip())
    assume(all(parts))
    # WHEN read as a source identifier THEN it is the key its stripped parts make
    assert source_identifier(f"{source}:{object_type}:{source_id}").value == source_key(*parts)
