"""revP23: where the stores draw the 400 KB line for a packed PROFILE item, against DynamoDB's own
rule (an item's size is the UTF-8 bytes of its attribute names plus its values: a string's UTF-8
bytes, a binary value's raw bytes, a number about one byte per two significant digits and one more,
a string set the sum of its strings; the type descriptors ``S``/``B``/``N`` weigh nothing). The
service takes an item of exactly the limit.

* The DynamoDB store (core.storage.dynamodb_transactions ``_oversized``) weighed the item with the
  transaction estimate ``_size``, which also counts each value's type descriptor and a number's
  every character: 5 to 7 bytes too many on a PROFILE item, so it refused, and quarantined, an item
  the service takes. Red on main: the item of exactly the limit was refused.
* The SQLite and in-memory stores (core.storage.sqlite_commit ``_item_bytes``: 48 bytes of names, 8
  a value that is not text, the ``attrs`` JSON) weighed the same item some 60 bytes heavier, so in
  that window they refused a customer the DynamoDB store keeps (a strict xfail until grow24: they
  now weigh a row by the DynamoDB item's names and values, core.storage.item_bytes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.errors import RecordRejectedError
from core.merge import profile_hash
from core.ports import Changeset, PutProfile
from core.schema import Identifier, Profile, SourceRef
from core.storage import profile_packing
from core.storage.dynamodb_items import transact_item
from core.storage.dynamodb_transactions import prepare
from core.storage.sqlite_commit import _item_bytes, row_of

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _changeset() -> Changeset:
    refs = tuple(
        SourceRef(source="stripe", object_type="charge", id=f"ch_{n:04d}", updated_at=AT) for n in range(40)
    )
    identifiers = (
        Identifier(kind="email", value="zoë@example.org"),
        *(Identifier(kind="source", value=r.key) for r in refs),
    )
    profile = Profile(customer_id="c1", identifiers=identifiers, sources=refs, version=12)
    owned = frozenset(i.key for i in identifiers)
    return Changeset("big", (PutProfile("c1", profile, profile_hash(profile), owned, 11, frozenset({"c2"})),))


def _service_size(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item of scalar and string-set attributes (the PROFILE item's)."""
    total = 0
    for name, value in item.items():
        ((kind, held),) = value.items()
        total += len(name.encode())
        if kind == "S":
            total += len(held.encode())
        elif kind == "B":
            total += len(held)
        elif kind == "N":
            digits = held.lstrip("-").replace(".", "").strip("0") or "0"
            total += (len(digits) + 1) // 2 + 1
        else:
            assert kind == "SS"
            total += sum(len(s.encode()) for s in held)
    return total


@pytest.fixture
def packed_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> tuple[Changeset, dict[str, Any]]:
    """The changeset, its DynamoDB entry, and the limit lowered to the packed item's exact size."""
    monkeypatch.setattr(profile_packing, "PACK_THRESHOLD_BYTES", 1024)
    changeset = _changeset()
    entry = transact_item("t", changeset.operations[0])
    assert "B" in entry["Put"]["Item"]["data"]  # packed
    monkeypatch.setattr(profile_packing, "ITEM_MAX_BYTES", _service_size(entry["Put"]["Item"]))
    return changeset, entry


def test_the_dynamodb_store_takes_an_item_of_exactly_the_limit(
    packed_at_the_limit: tuple[Changeset, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a packed PROFILE item whose size by DynamoDB's rule is exactly the item limit
    changeset, entry = packed_at_the_limit
    # WHEN the DynamoDB store weighs it, THEN it is not refused (the service takes it)
    assert prepare(changeset, [entry], 100).oversized is None
    # AND one byte lower a limit, it is refused, as the service would
    monkeypatch.setattr(profile_packing, "ITEM_MAX_BYTES", profile_packing.ITEM_MAX_BYTES - 1)
    assert isinstance(prepare(changeset, [entry], 100).oversized, RecordRejectedError)


def test_the_sqlite_and_memory_stores_take_it_too(
    packed_at_the_limit: tuple[Changeset, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the same item, WHEN the SQLite store's rule (the in-memory store's too) weighs it,
    # THEN it is not refused either: the three stores refuse the same customers
    changeset, _ = packed_at_the_limit
    _item_bytes(changeset, row_of(changeset.operations[0]))
    # AND one byte lower a limit, they refuse it, as DynamoDB would
    monkeypatch.setattr(profile_packing, "ITEM_MAX_BYTES", profile_packing.ITEM_MAX_BYTES - 1)
    with pytest.raises(RecordRejectedError):
        _item_bytes(changeset, row_of(changeset.operations[0]))
