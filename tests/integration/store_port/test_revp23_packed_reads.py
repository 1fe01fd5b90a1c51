"""revP23: the profile API's reader of each store takes a PROFILE item packed past its threshold
(core.storage.profile_packing). On DynamoDB the profile API (functions/_governance.py, ``profilesync
profile --endpoint-url``) reads through ``DynamoDBProfileReader`` (core.storage.dynamodb_reads), not
through the profile store: test_packed_profile_on_every_store checks ``read_person`` only when the
store has one, and none of the three stores has, so that reader was never given a packed item.

Mutation caught: ``dynamodb_reads._profile`` reading ``item["data"]["S"]`` as before the packing
(both its paths: the profile alone, by GetItem, and the profile with a page of sources, by Query)
fails here with KeyError on the dynamodb kit; the tests already there stay green under it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.governance.reading import StoreProfileReader
from core.merge import profile_hash, record_hash
from core.ports import Changeset, PutProfile, PutSource
from core.schema import Identifier, Profile, SourceRecord, SourceRef
from core.storage import profile_packing
from core.storage.dynamodb_reads import DynamoDBProfileReader
from tests.integration.store_port.conftest import TABLE, StoreKit

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _charges(n: int) -> list[SourceRecord]:
    return [
        SourceRecord(
            source="stripe",
            object_type="charge",
            source_id=f"ch_{i:04d}",
            updated_at=AT,
            identifiers=(Identifier(kind="source", value=f"stripe:charge:ch_{i:04d}"),),
        )
        for i in range(n)
    ]


def test_the_profile_api_reads_a_packed_profile_item(kit: StoreKit, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a customer of 40 charges whose PROFILE item is packed (threshold lowered to 1 KB)
    monkeypatch.setattr(profile_packing, "PACK_THRESHOLD_BYTES", 1024)
    records = _charges(40)
    refs = tuple(
        SourceRef(source=r.source, object_type=r.object_type, id=r.source_id, updated_at=AT) for r in records
    )
    identifiers = (
        Identifier(kind="email", value="ann@example.org"),
        *(i for r in records for i in r.identifiers),
    )
    profile = Profile(customer_id="c1", identifiers=identifiers, sources=refs, version=1)
    owned = frozenset(i.key for i in identifiers)
    ops = (
        PutProfile("c1", profile, profile_hash(profile), owned, None),
        *(PutSource("c1", r, record_hash(r)) for r in records),
    )
    assert kit.profiles.commit([Changeset("packed", ops)]) == []
    reader = DynamoDBProfileReader(kit.profiles._client, TABLE) if kit.name == "dynamodb" else None
    reader = reader or StoreProfileReader(kit.profiles)
    # WHEN the profile API reads her, the profile alone and with a page of her sources
    alone = reader.read_person("c1", sources=False)
    page = reader.read_person("c1", sources=True, limit=5)
    # THEN both give her whole profile, and the page her first sources
    assert alone is not None
    assert alone.profile == profile
    assert page is not None
    assert page.profile == profile
    assert [r.source_id for r in page.sources] == [f"ch_{i:04d}" for i in range(5)]
