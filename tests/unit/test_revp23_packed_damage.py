"""revP23: a packed PROFILE value that is damaged (cut short, or its compressed part's length or
bytes wrong) is refused with ``StoreLayoutError`` naming what is wrong, as a value of an unknown
format is, not with whatever zlib, json or an index raises deep in the reader (``zlib.error: Error
-5 while decompressing data``, ``IndexError``, ``KeyError``), which names neither the item nor what
to do. Red on main: every case below raised zlib.error, JSONDecodeError, KeyError or IndexError, but "a
distance before the first source", which read as the last source's identifier without a word."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.errors import StoreLayoutError
from core.merge import profile_json
from core.schema import Identifier, Profile, SourceRef
from core.storage import profile_packing
from core.storage.profile_packing import MAGIC, pack_profile, read_document

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _packed() -> bytes:
    refs = tuple(SourceRef(source="shop", object_type="order", id=f"o{n}", updated_at=AT) for n in range(30))
    identifiers = tuple(Identifier(kind="source", value=r.key) for r in refs)
    profile = Profile(customer_id="c1", identifiers=identifiers, sources=refs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(profile_packing, "PACK_THRESHOLD_BYTES", 0)
        packed = pack_profile(profile_json(profile), {i.key for i in identifiers})
    assert packed is not None
    return packed


def _damaged() -> dict[str, bytes]:
    packed = _packed()
    size = int.from_bytes(packed[4:8], "big")
    return {
        "cut in its compressed part": packed[: 8 + size // 2],
        "cut after its magic": MAGIC + b"\x00",
        "a length past its end": MAGIC + (10**6).to_bytes(4, "big") + packed[8:],
        "compressed bytes flipped": packed[:8]
        + bytes(b ^ 0x5A for b in packed[8 : 8 + size])
        + packed[8 + size :],
        "its plain part cut": packed[:-3],
        "a distance past the sources": MAGIC
        + _grown(b'{"identifiers":[99],"sources":[],"more":[],"less":[]}'),
        # distance 0 first: index -1, which Python reads as the last source (no error on main)
        "a distance before the first source": MAGIC
        + _grown(
            b'{"identifiers":[0],"sources":[{"source":"s","object_type":"o","id":"1"}],"more":[],"less":[]}'
        ),
        "no owned difference": MAGIC + _grown(b'{"identifiers":[],"sources":[]}'),
    }


def _grown(document: bytes) -> bytes:
    import zlib

    packed = zlib.compress(document)
    return len(packed).to_bytes(4, "big") + packed + b'{"customer_id":"c1","identifiers":null,"sources":null}'


@pytest.mark.parametrize("case", sorted(_damaged()))
def test_a_damaged_packed_value_is_refused_with_what_is_wrong(case: str) -> None:
    # GIVEN a packed value damaged as the case says
    value = _damaged()[case]
    # WHEN it is read
    # THEN a StoreLayoutError says the packed profile item is damaged
    with pytest.raises(StoreLayoutError, match="damaged"):
        read_document(value)


def test_an_undamaged_value_still_reads() -> None:
    # GIVEN the value the cases damage, WHEN read whole, THEN it reads (the cases test the damage)
    document, owned = read_document(_packed())
    assert len(owned) == 30
    assert Profile.model_validate_json(document).customer_id == "c1"
