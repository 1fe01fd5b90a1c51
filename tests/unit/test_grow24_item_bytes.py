"""grow24: the SQLite and in-memory stores weigh every item they write as DynamoDB weighs the item
the DynamoDB store writes for the same operation (core.storage.item_bytes ``row_bytes``, exact near
the limit, against
core.storage.dynamodb_transactions ``item_size`` of core.storage.dynamodb_items ``transact_item``),
so the three stores draw the 400 KB line at the same byte (revP23's boundary).

Red on main: the SQLite rule counted 48 bytes of names and 8 bytes for every value that is no text
(a missing one too), and an ``attrs`` column's JSON as text, so every kind of item below weighed
more there than in DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.governance.history import HistoryEvent
from core.merge import profile_hash, record_hash
from core.ports import Changeset, Operation, PutHistory, PutHolder, PutIdent, PutProfile, PutSource, Tombstone
from core.schema import Identifier, Profile, SourceRef
from core.storage import profile_packing
from core.storage.dynamodb_items import transact_item
from core.storage.dynamodb_transactions import item_size
from core.storage.item_bytes import row_bytes
from core.storage.sqlite_commit import _item_bytes, row_of
from tests.conftest import make_record

AT = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
#: Texts of one- to four-byte characters, a quote and a backslash (JSON escapes them in ``attrs``).
TEXT = st.text(st.sampled_from(["a", "Z", "é", "字", "\U0001f600", '"', "\\", " "]), min_size=1, max_size=12)


def _profile(customer: str, count: int, email: str = "zoë@example.org") -> Profile:
    refs = tuple(
        SourceRef(source="stripe", object_type="charge", id=f"ch_{n:05d}", updated_at=AT)
        for n in range(count)
    )
    identifiers = (
        Identifier(kind="email", value=email),
        *(Identifier(kind="source", value=r.key) for r in refs),
    )
    return Profile(customer_id=customer, identifiers=identifiers, sources=refs, version=count + 7)


def _put_profile(count: int, absorbing: frozenset[str] = frozenset(), owned: bool = True) -> PutProfile:
    profile = _profile("cus_é", count)
    keys = frozenset(i.key for i in profile.identifiers) if owned else frozenset()
    return PutProfile("cus_é", profile, profile_hash(profile), keys, count + 6, absorbing)


def _weights(op: Operation) -> tuple[int, int]:
    """The SQLite and in-memory stores' weight of ``op``'s item, and DynamoDB's."""
    entry = transact_item("t", op)
    row = row_of(op)  # type: ignore[arg-type]
    exact = row_bytes(row)
    # The stores' quick weight (a PROFILE row's sets by their JSON) is never below it
    assert row_bytes(row, bound=True) >= exact
    return exact, item_size(entry["Put"]["Item"])


def _record() -> Any:
    return make_record("shop", "ö1", email="zoë@example.org", traits={"first_name": "Zoë"})


@pytest.mark.parametrize(
    "op",
    [
        pytest.param(PutSource("cus_é", _record(), record_hash(_record())), id="source"),
        pytest.param(PutIdent("email#zoë@example.org", "cus_é", None), id="ident-bare"),
        pytest.param(
            PutIdent("source#shop:customer:ö1", "cus_é", "c0", "h" * 16, AT, '{"n":"Zoë"}', run="r1"),
            id="ident-full",
        ),
        pytest.param(PutHolder("mailbox#zoe@example.org", "cus_é"), id="holder"),
        pytest.param(Tombstone("cus_a", "cus_é", 41), id="tombstone"),
        pytest.param(_put_profile(3), id="profile"),
        pytest.param(_put_profile(3, frozenset({"cus_ß", "cus_b"})), id="profile-absorbing"),
        pytest.param(_put_profile(0, owned=False), id="profile-owning-nothing"),
        pytest.param(_put_profile(2000), id="profile-packed"),
    ],
)
def test_every_kind_of_item_weighs_what_dynamodb_weighs(op: Operation) -> None:
    # GIVEN an operation, WHEN the stores weigh the item it writes, THEN by one rule
    if isinstance(op, PutProfile) and len(op.profile.sources) == 2000:
        assert "B" in transact_item("t", op)["Put"]["Item"]["data"]  # packed past its threshold
    sqlite, dynamodb = _weights(op)
    assert sqlite == dynamodb


@given(key=TEXT, owner=TEXT, match=st.one_of(st.none(), TEXT), run=st.one_of(st.none(), TEXT))
def test_an_identifier_item_of_any_texts_weighs_what_dynamodb_weighs(
    key: str, owner: str, match: str | None, run: str | None
) -> None:
    sqlite, dynamodb = _weights(PutIdent(f"email#{key}", owner, None, "h", AT, match, run=run))
    assert sqlite == dynamodb


@given(owned=st.frozensets(TEXT, max_size=6), absorbing=st.frozensets(TEXT, max_size=3))
def test_a_profile_item_of_any_keys_weighs_what_dynamodb_weighs(
    owned: frozenset[str], absorbing: frozenset[str]
) -> None:
    profile = _profile("c", 1)
    op = PutProfile("c", profile, profile_hash(profile), owned, 1, absorbing)
    sqlite, dynamodb = _weights(op)
    assert sqlite == dynamodb


def test_a_history_item_is_not_weighed_lighter_than_in_dynamodb() -> None:
    # The row keeps the event's kind and time inside its JSON only: weighed with room for them
    event = HistoryEvent(
        customer_id="cus_é",
        kind="review_accepted",
        at=AT,
        event_id="e" * 24,
        actor="run:ö",
        reason="",
        source_keys=("shop:customer:ö1",),
    )
    sqlite, dynamodb = _weights(PutHistory(event))
    assert dynamodb <= sqlite <= dynamodb + 96


def test_the_sqlite_rule_refuses_one_byte_over_and_takes_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    op = _put_profile(2000, frozenset({"cus_b"}))
    _, dynamodb = _weights(op)
    monkeypatch.setattr(profile_packing, "ITEM_MAX_BYTES", dynamodb)
    assert _item_bytes(Changeset("c", ()), row_of(op)) == dynamodb  # weighed exactly near the limit
    monkeypatch.setattr(profile_packing, "ITEM_MAX_BYTES", dynamodb - 1)
    with pytest.raises(Exception, match="over the"):
        _item_bytes(Changeset("c", ()), row_of(op))
