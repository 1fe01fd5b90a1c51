"""The PROFILE item's packing (core.storage.profile_packing): what is packed reads back as it was,
an item under the threshold is written as before, and a value this release does not know is refused
with a message that says what to do."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import StoreLayoutError
from core.merge import profile_json
from core.ports import Changeset, PutProfile
from core.schema import Identifier, Profile, SourceRef
from core.storage import profile_packing
from core.storage.dynamodb_items import profile_of, transact_item
from core.storage.profile_packing import MAGIC, pack_profile, read_document, unpack_profile
from core.storage.sqlite_commit import row_of

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _profile(ids: list[str], extra: tuple[Identifier, ...] = ()) -> Profile:
    sources = tuple(
        SourceRef(source="stripe", object_type="charge", id=i, updated_at=AT) for i in sorted(ids)
    )
    identifiers = (
        Identifier(kind="email", value="ann@example.org"),
        *extra,
        *(Identifier(kind="source", value=ref.key) for ref in sources),
    )
    return Profile(customer_id="cus_1", identifiers=identifiers, sources=sources, version=3)


@settings(max_examples=40, deadline=None)
@given(
    ids=st.lists(st.text("abcXYZ019_:", min_size=1, max_size=30), min_size=1, max_size=60, unique=True),
    more=st.frozensets(st.sampled_from(["email#old@example.org", "phone#+447700900123"])),
    dropped=st.integers(0, 3),
)
def test_a_packed_profile_and_its_keys_read_back_as_they_were(
    ids: list[str], more: frozenset[str], dropped: int
) -> None:
    # GIVEN a profile whose records' keys are its source identifiers (a colon in an id too), an
    # identifier of kind source naming no source, and an owned set that differs from its identifiers
    stray = Identifier(kind="source", value="shop:order:not-a-source")
    profile = _profile(ids, (stray,))
    keys = sorted(i.key for i in profile.identifiers)
    owned = frozenset(keys[dropped:]) | more
    document = profile_json(profile)
    # WHEN packed past a threshold of nothing
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(profile_packing, "PACK_THRESHOLD_BYTES", 0)
        packed = pack_profile(document, owned)
    assert packed is not None
    # THEN it unpacks to the same profile and the same owned keys
    text, keys_back = unpack_profile(packed)
    assert Profile.model_validate_json(text) == profile
    assert keys_back == owned
    assert read_document(packed) == (text, owned)


def test_random_ids_are_stored_once() -> None:
    # GIVEN 2,000 charges with 24 random hex characters each: 48,000 characters of ids, written
    # three times in the item unpacked (the identifier, the source, the owned key)
    import hashlib

    ids = ["ch_" + hashlib.sha256(str(n).encode()).hexdigest()[:24] for n in range(2000)]
    profile = _profile(ids)
    document = profile_json(profile)
    owned = frozenset(i.key for i in profile.identifiers)
    # WHEN packed
    packed = pack_profile(document, owned)
    # THEN each id's 12 bytes of entropy are there once, with little beside them (zlib of the
    # item's JSON as it was keeps each id three times: over 36 bytes an order)
    assert packed is not None
    assert len(packed) < 2000 * 20
    assert unpack_profile(packed)[1] == owned


def test_an_item_under_the_threshold_is_written_as_before() -> None:
    # GIVEN a profile of 10 charges, far under 64 KB
    profile = _profile([f"o{n}" for n in range(10)])
    owned = frozenset(i.key for i in profile.identifiers)
    op = PutProfile("cus_1", profile, "h", owned, 2)
    # WHEN its item is built for the SQLite store and for DynamoDB
    row = row_of(op)
    entry = transact_item("t", op)["Put"]["Item"]
    # THEN it is the profile's JSON as text and its owned set beside it, as before packing
    assert row[6] == profile_json(profile)
    assert row[7] == json.dumps({"owned": sorted(owned)})
    assert entry["data"] == {"S": profile_json(profile)}
    assert entry["owned"] == {"SS": sorted(owned)}
    assert profile_of(entry) == (profile_json(profile), owned)


def test_an_item_past_the_threshold_is_packed_on_both_layouts(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a threshold of 1 KB and a profile of 40 charges (about 6 KB)
    monkeypatch.setattr(profile_packing, "PACK_THRESHOLD_BYTES", 1024)
    profile = _profile([f"o{n}" for n in range(40)])
    owned = frozenset(i.key for i in profile.identifiers)
    op = PutProfile("cus_1", profile, "h", owned, 2, frozenset({"cus_2"}))
    # WHEN its item is built
    row = row_of(op)
    entry = transact_item("t", op)["Put"]["Item"]
    # THEN data is the packed value, no owned set is beside it, the merge mark stays where it was
    assert isinstance(row[6], bytes)
    assert row[6].startswith(MAGIC)
    assert json.loads(row[7] or "") == {"absorbing": ["cus_2"]}
    assert "B" in entry["data"]
    assert "owned" not in entry
    assert entry["absorbing"] == {"SS": ["cus_2"]}
    document, keys = profile_of(entry)
    assert (Profile.model_validate_json(document), keys) == (profile, owned)


def test_a_value_packed_by_a_newer_release_is_refused_with_what_to_do() -> None:
    # GIVEN a binary data value in a format this release does not know
    # WHEN it is read
    # THEN the error says a newer release wrote it and to upgrade
    with pytest.raises(StoreLayoutError, match="newer release"):
        read_document(b"psz9" + b"\x00" * 8)


def test_resolve_out_writes_a_packed_profile_as_its_json(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN a SQLite store holding a profile packed past a threshold of 1 KB
    import sqlite3

    from core.storage.sqlite import SQLiteProfileStore
    from core.storage.sqlite_database import SQLiteDatabase
    from profilesync.resolve_output import store_documents

    monkeypatch.setattr(profile_packing, "PACK_THRESHOLD_BYTES", 1024)
    profile = _profile([f"o{n}" for n in range(40)])
    owned = frozenset(i.key for i in profile.identifiers)
    with SQLiteDatabase(tmp_path / "s.sqlite") as database:
        SQLiteProfileStore(database).commit(
            [Changeset("p", (PutProfile("cus_1", profile, "h", owned, None),))]
        )
    # WHEN resolve --out reads the store's profiles
    with sqlite3.connect(tmp_path / "s.sqlite") as conn:
        (stored,) = conn.execute("SELECT data FROM items WHERE sk = 'PROFILE'").fetchone()
        documents = list(store_documents(conn, "", None))
    # THEN the packed item's document is the profile
    assert isinstance(stored, bytes)
    assert [Profile.model_validate(d) for d in documents] == [profile]
