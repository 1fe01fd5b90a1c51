"""priv29: the DynamoDB table's identifier items are keyed by the keyed hash of the identifier
(core.storage.ident_keys), never its value: whatever the value (any unicode, ``#``, kilobytes long),
no key of an item an operation writes or deletes holds it, and the identifier is kept in ``ident``,
which a ``KEYS_ONLY`` stream never carries."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from core.ports import DeleteIdent, PutHolder, PutIdent, TouchSource
from core.privacy_store import DeleteItem, ItemKey
from core.storage.dynamodb_items import transact_item
from core.storage.dynamodb_privacy import DynamoDBErasureStore
from core.storage.ident_keys import ident_of, ident_pk, is_legacy_pk, physical_pk
from core.suppression import keyed_hash

AT = datetime(2026, 1, 1, tzinfo=UTC)
KINDS = st.sampled_from(["email", "phone", "source", "mailbox", "national_id"])
VALUES = st.one_of(
    st.text(min_size=1, max_size=40),
    st.text(alphabet="#@:.+ ab\u00e9\u0130\ufe0f\U0001f600", min_size=1, max_size=30),
    st.text(min_size=1000, max_size=3000),
)


def _operations(key: str) -> list[object]:
    return [
        PutIdent(key, "c1", None, record_hash="h", updated_at=AT),
        PutIdent(key, "c2", "c1", record_hash="h", updated_at=AT, expected_at=AT),
        PutHolder(key, "c3"),
        DeleteIdent(key, "c1"),
        TouchSource(key, "h", AT, AT),
    ]


def _keys_of(entry: dict[str, dict[str, object]]) -> dict[str, object]:
    (request,) = entry.values()
    return dict(request["Key"] if "Key" in request else {k: request["Item"][k] for k in ("PK", "SK")})  # type: ignore[index, call-overload]


@settings(max_examples=60, deadline=None)
@given(kind=KINDS, value=VALUES, salt=st.text(min_size=1, max_size=20))
def test_no_key_an_identifier_operation_writes_holds_its_value(kind: str, value: str, salt: str) -> None:
    key = f"{kind}#{value}"
    for op in _operations(key):
        entry = transact_item("t", op, salt)  # type: ignore[arg-type]
        keys = _keys_of(entry)
        pk = keys["PK"]["S"]  # type: ignore[index]
        # THEN the key is the keyed hash: 64 hex digits, never the identifier, however it is spelt
        assert pk == "IDENT#" + keyed_hash(salt, key)
        assert key not in json.dumps(keys, ensure_ascii=False)
        assert re.fullmatch("IDENT#[0-9a-f]{64}", pk)
        assert keys["SK"]["S"] in ("IDENT", "HOLDER#c3")
        assert not is_legacy_pk(pk)
        (request,) = entry.values()
        if "Item" in request:  # AND the identifier is kept beside the key, for readers and scans
            assert ident_of(request["Item"]) == key


@settings(max_examples=40, deadline=None)
@given(kind=KINDS, value=VALUES)
def test_an_erasure_names_items_by_identifier_and_deletes_them_by_keyed_hash(kind: str, value: str) -> None:
    key = f"{kind}#{value}"
    store = DynamoDBErasureStore(client=None, table_name="t", salt="s")
    for sk in ("IDENT", "HOLDER#c1"):
        request = store._delete(DeleteItem(ItemKey(f"IDENT#{key}", sk), expected_owner="c1"))["Delete"]
        assert request["Key"]["PK"]["S"] == ident_pk(key, "s")
        assert key not in json.dumps(request["Key"], ensure_ascii=False)
        assert re.fullmatch("IDENT#[0-9a-f]{64}", request["Key"]["PK"]["S"])
    # a name already keyed, and every other item, is the table's key as it is
    assert physical_pk(ident_pk(key, "s"), "s") == ident_pk(key, "s")
    assert physical_pk("CUSTOMER#c1", "s") == "CUSTOMER#c1"


def test_another_salt_gives_other_keys_and_the_old_layout_is_told_apart() -> None:
    # The key is keyed: without the salt it is neither reversible nor searchable (a rotated or lost
    # salt finds no identifier: docs/privacy.md, "The privacy key").
    assert ident_pk("email#ann@example.com", "a") != ident_pk("email#ann@example.com", "b")
    assert is_legacy_pk("IDENT#email#ann@example.com")
    assert not is_legacy_pk(ident_pk("email#ann@example.com", "a"))
    assert not is_legacy_pk("IDENT#layout")
    assert ident_of({"PK": {"S": "IDENT#email#ann@example.com"}}) == "email#ann@example.com"
