"""The ``ProfileStore`` port, operation by operation, on the in-memory, SQLite and DynamoDB stores.

Each test states one promise of the port (a condition, all-or-nothing, a version rule) and runs on
all three stores, so that none of them can drift from the others. The conditions are DynamoDB's
ConditionExpressions (core.storage.dynamodb); the other two stores must answer the same.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import RecordRejectedError
from core.merge import build_profile, profile_hash, record_hash
from core.ports import (
    Changeset,
    DeleteIdent,
    DeleteSource,
    MarkAbsorbing,
    MarkMerging,
    Operation,
    PutIdent,
    PutProfile,
    PutSource,
    Tombstone,
    TouchSource,
)
from core.schema import SourceRecord
from core.testing.records import T0, make_record
from tests.integration.store_port.conftest import StoreKit

ANN = make_record("crm", "1", email="ann@example.com", phone="+442079460018", traits={"city": "Leeds"})
ANN_SHOP = make_record("shop", "9", email="ann@example.com", day=2)


def _new_customer(cid: str, *records: SourceRecord, expected: int | None = None) -> Changeset:
    """The changeset that founds ``cid`` with ``records``: snapshots, identifiers, profile."""
    ops: list[Operation] = [PutSource(cid, r, record_hash(r)) for r in records]
    keys = sorted({i.key for r in records for i in r.identifiers})
    ops += [PutIdent(f"source#{r.key}", cid, None, record_hash(r), r.updated_at) for r in records]
    ops += [PutIdent(k, cid, None) for k in keys if not k.startswith("source#")]
    profile = build_profile(cid, records, version=(expected or 0) + 1)
    ops.append(PutProfile(cid, profile, profile_hash(profile), frozenset(keys), expected))
    return Changeset(f"new:{cid}", tuple(ops))


def _profile_op(
    cid: str, records: tuple[SourceRecord, ...], expected: int | None, version: int
) -> PutProfile:
    profile = build_profile(cid, records, version=version)
    keys = frozenset(i.key for r in records for i in r.identifiers)
    return PutProfile(cid, profile, profile_hash(profile), keys, expected)


def test_a_new_customer_reads_back_as_written(kit: StoreKit) -> None:
    store = kit.profiles
    # GIVEN nothing stored WHEN a customer is founded
    assert store.get_owners(["email#ann@example.com"]) == {}
    assert store.get_customers(["cus_a"]) == {}
    assert store.commit([_new_customer("cus_a", ANN)]) == []
    # THEN its identifiers name it, the source one with the record's hash and time
    owners = store.get_owners(["email#ann@example.com", "source#crm:contact:1", "email#nobody@example.com"])
    assert set(owners) == {"email#ann@example.com", "source#crm:contact:1"}
    assert owners["email#ann@example.com"].customer_id == "cus_a"
    assert owners["email#ann@example.com"].record_hash is None
    assert owners["source#crm:contact:1"].record_hash == record_hash(ANN)
    assert owners["source#crm:contact:1"].updated_at == ANN.updated_at
    # AND the customer holds its profile, version, hash, owned keys and snapshot
    state = store.get_customers(["cus_a", "cus_unknown"])
    assert set(state) == {"cus_a"}
    a = state["cus_a"]
    assert (a.version, a.merged_into, a.merging_into, a.absorbing) == (1, None, None, frozenset())
    assert a.profile == build_profile("cus_a", [ANN], version=1)
    assert a.profile_hash == profile_hash(a.profile)
    assert a.owned == frozenset(i.key for i in ANN.identifiers)
    assert a.snapshots == {ANN.key: ANN}
    # AND the profile item alone, and the live profiles, say the same
    assert store.get_profiles(["cus_a", "cus_unknown"])["cus_a"].profile == a.profile
    assert set(store.get_profiles(["cus_a", "cus_unknown"])) == {"cus_a"}
    assert list(store.iter_profiles()) == [a.profile]
    assert store.ident_owners() == dict.fromkeys(a.owned, "cus_a")


def test_a_second_founding_of_the_same_customer_or_identifier_loses(kit: StoreKit) -> None:
    store = kit.profiles
    store.commit([_new_customer("cus_a", ANN)])
    # WHEN another writer that read "nobody" founds the same customer, or takes the same email
    again = _new_customer("cus_a", ANN_SHOP)
    other = Changeset("other", (PutIdent("email#ann@example.com", "cus_b", None),))
    # THEN both lose, and nothing of theirs was written
    assert store.commit([again]) == [again]
    assert store.commit([other]) == [other]
    assert store.get_customers(["cus_a"])["cus_a"].snapshots == {ANN.key: ANN}
    assert store.get_owners(["email#ann@example.com"])["email#ann@example.com"].customer_id == "cus_a"
    assert store.get_customers(["cus_b"]) == {}


def test_a_profile_write_holds_at_the_version_read_only(kit: StoreKit) -> None:
    store = kit.profiles
    store.commit([_new_customer("cus_a", ANN)])
    both = (ANN, ANN_SHOP)
    stale = Changeset(
        "stale", (PutSource("cus_a", ANN_SHOP, record_hash(ANN_SHOP)), _profile_op("cus_a", both, 0, 2))
    )
    fresh = Changeset(
        "fresh", (PutSource("cus_a", ANN_SHOP, record_hash(ANN_SHOP)), _profile_op("cus_a", both, 1, 2))
    )
    # WHEN one writer planned from version 0 and one from version 1
    assert store.commit([stale]) == [stale]
    assert store.get_customers(["cus_a"])["cus_a"].snapshots == {ANN.key: ANN}  # all or nothing
    assert store.commit([fresh]) == []
    # THEN the stored version is the profile's, and the version read before is stale now
    assert store.get_customers(["cus_a"])["cus_a"].version == 2
    assert store.commit([fresh]) == [fresh]


def test_a_changeset_with_one_failing_condition_writes_nothing_and_the_others_go_on(kit: StoreKit) -> None:
    store = kit.profiles
    bob = make_record("shop", "2", email="bob@example.com")
    store.commit([_new_customer("cus_a", ANN), _new_customer("cus_b", bob)])
    before = store.get_customers(["cus_a", "cus_b"])
    owners_before = store.ident_owners()
    # GIVEN a changeset touching every kind of item whose last operation's condition fails
    doomed = Changeset(
        "doomed",
        (
            PutSource("cus_a", ANN_SHOP, record_hash(ANN_SHOP)),
            DeleteSource("cus_a", ANN.key),
            PutIdent("email#new@example.com", "cus_a", None),
            DeleteIdent("phone#+442079460018", "cus_a"),
            TouchSource(
                "source#crm:contact:1", record_hash(ANN), ANN.updated_at, ANN.updated_at + timedelta(1)
            ),
            MarkMerging("cus_b", "cus_a", 1),
            PutIdent("email#ann@example.com", "cus_a", "cus_somebody_else"),
        ),
    )
    fine = Changeset("fine", (PutIdent("email#other@example.com", "cus_b", None),))
    # WHEN it is committed with another changeset
    failed = store.commit([doomed, fine])
    # THEN only it failed, nothing of it is visible, and the other one applied
    assert failed == [doomed]
    assert store.get_customers(["cus_a", "cus_b"]) == before
    assert store.ident_owners() == {**owners_before, "email#other@example.com": "cus_b"}


def test_a_changeset_sees_the_writes_of_the_changesets_before_it_in_the_same_commit(kit: StoreKit) -> None:
    store = kit.profiles
    # GIVEN two changesets where the second's condition is the first's write
    first = Changeset("first", (PutIdent("email#ann@example.com", "cus_a", None),))
    second = Changeset("second", (PutIdent("email#ann@example.com", "cus_b", "cus_a"),))
    third = Changeset("third", (PutIdent("email#ann@example.com", "cus_c", None),))  # read "nobody": lost
    # WHEN they are committed together THEN they apply in order
    assert store.commit([first, second, third]) == [third]
    assert store.ident_owners() == {"email#ann@example.com": "cus_b"}
    # AND a delete followed by a re-create of the same item in one commit leaves the re-created one
    drop = Changeset("drop", (DeleteIdent("email#ann@example.com", "cus_b"),))
    again = Changeset("again", (PutIdent("email#ann@example.com", "cus_d", None),))
    assert store.commit([drop, again]) == []
    assert store.ident_owners() == {"email#ann@example.com": "cus_d"}


def test_identifier_conditions_are_on_the_owner_read(kit: StoreKit) -> None:
    store = kit.profiles
    store.commit([_new_customer("cus_a", ANN)])
    wrong = Changeset("wrong", (DeleteIdent("email#ann@example.com", "cus_b"),))
    missing = Changeset("missing", (DeleteIdent("email#nobody@example.com", "cus_a"),))
    move = Changeset("move", (PutIdent("email#ann@example.com", "cus_b", "cus_a"),))
    # WHEN a delete names the wrong owner, or an item that is not there THEN it loses
    assert store.commit([wrong, missing]) == [wrong, missing]
    # AND a hand-over at the right owner wins, a Put replacing the whole item
    assert store.commit([move]) == []
    owner = store.get_owners(["email#ann@example.com"])["email#ann@example.com"]
    assert (owner.customer_id, owner.record_hash, owner.updated_at) == ("cus_b", None, None)
    source = Changeset("src", (PutIdent("source#crm:contact:1", "cus_b", "cus_a"),))
    assert store.commit([source]) == []
    moved = store.get_owners(["source#crm:contact:1"])["source#crm:contact:1"]
    assert (moved.customer_id, moved.record_hash, moved.updated_at) == ("cus_b", None, None)
    assert store.commit([Changeset("del", (DeleteIdent("email#ann@example.com", "cus_b"),))]) == []
    assert "email#ann@example.com" not in store.get_owners(["email#ann@example.com"])


def test_a_touch_moves_only_the_watermark_and_only_from_the_state_read(kit: StoreKit) -> None:
    store = kit.profiles
    store.commit([_new_customer("cus_a", ANN)])
    key, h = "source#crm:contact:1", record_hash(ANN)
    later = ANN.updated_at + timedelta(days=3)
    wrong_hash = Changeset("wh", (TouchSource(key, "not-the-hash", ANN.updated_at, later),))
    wrong_time = Changeset("wt", (TouchSource(key, h, ANN.updated_at - timedelta(1), later),))
    nobody = Changeset("nb", (TouchSource("source#crm:contact:404", h, ANN.updated_at, later),))
    touch = Changeset("ok", (TouchSource(key, h, ANN.updated_at, later),))
    profile_before = store.get_customers(["cus_a"])["cus_a"]
    # WHEN touches with a stale hash, a stale time or no item come, then a good one
    for lost in (wrong_hash, wrong_time, nobody):
        assert store.commit([lost]) == [lost]
    assert store.commit([touch]) == []
    # THEN only the good one moved the identifier's time; owner, hash, snapshot and profile stay
    owner = store.get_owners([key])[key]
    assert (owner.customer_id, owner.record_hash, owner.updated_at) == ("cus_a", h, later)
    assert store.get_customers(["cus_a"])["cus_a"] == profile_before
    # AND a second touch from the old time has lost (the state moved)
    assert store.commit([touch]) == [touch]


def test_a_touch_after_a_put_of_the_same_identifier_in_one_commit_keeps_both(kit: StoreKit) -> None:
    store = kit.profiles
    key, h = "source#crm:contact:1", record_hash(ANN)
    put = Changeset("put", (PutIdent(key, "cus_a", None, h, T0),))
    touch = Changeset("touch", (TouchSource(key, h, T0, T0 + timedelta(days=1)),))
    assert store.commit([put, touch]) == []
    owner = store.get_owners([key])[key]
    assert (owner.customer_id, owner.record_hash, owner.updated_at) == ("cus_a", h, T0 + timedelta(days=1))


def test_the_steps_of_a_large_merge_move_versions_and_leave_a_tombstone(kit: StoreKit) -> None:
    store = kit.profiles
    bob = make_record("shop", "2", email="bob@example.com")
    store.commit([_new_customer("cus_a", ANN), _new_customer("cus_b", bob)])
    # WHEN the absorbed customer is frozen and the survivor marked (step 1)
    freeze = Changeset("freeze", (MarkMerging("cus_b", "cus_a", 1), MarkAbsorbing("cus_a", "cus_b", 1)))
    assert store.commit([freeze]) == []
    state = store.get_customers(["cus_a", "cus_b"])
    # THEN both versions moved on, with the merge recorded on each side; the profiles stay
    assert (state["cus_b"].version, state["cus_b"].merging_into) == (2, "cus_a")
    assert (state["cus_a"].version, state["cus_a"].absorbing) == (2, frozenset({"cus_b"}))
    assert state["cus_b"].profile is not None
    assert state["cus_b"].owned == frozenset(i.key for i in bob.identifiers)
    assert store.commit([freeze]) == [freeze]  # the versions read are stale now
    # WHEN a second absorbing mark is added THEN the set grows
    assert store.commit([Changeset("more", (MarkAbsorbing("cus_a", "cus_c", 2),))]) == []
    assert store.get_customers(["cus_a"])["cus_a"].absorbing == frozenset({"cus_b", "cus_c"})
    # WHEN the survivor's profile is rebuilt and the absorbed tombstoned (step 5)
    merged = build_profile("cus_a", [ANN, bob], version=4)
    owned = frozenset(i.key for r in (ANN, bob) for i in r.identifiers)
    final = Changeset(
        "final",
        (
            PutProfile("cus_a", merged, profile_hash(merged), owned, 3, frozenset({"cus_c"})),
            Tombstone("cus_b", "cus_a", 2),
        ),
    )
    assert store.commit([final]) == []
    state = store.get_customers(["cus_a", "cus_b"])
    # THEN the tombstone keeps only its version and where it went; the survivor its marks left
    b = state["cus_b"]
    assert (b.version, b.merged_into, b.merging_into, b.profile, b.profile_hash, b.owned, b.absorbing) == (
        3,
        "cus_a",
        None,
        None,
        None,
        frozenset(),
        frozenset(),
    )
    assert (state["cus_a"].version, state["cus_a"].absorbing) == (4, frozenset({"cus_c"}))
    assert store.get_profiles(["cus_b"])["cus_b"].merged_into == "cus_a"
    assert store.get_profiles(["cus_b"])["cus_b"].profile is None
    assert [p.customer_id for p in store.iter_profiles()] == ["cus_a"]


def test_a_put_profile_replaces_the_whole_item_as_in_dynamodb(kit: StoreKit) -> None:
    store = kit.profiles
    store.commit([_new_customer("cus_a", ANN)])
    store.commit([Changeset("mark", (MarkMerging("cus_a", "cus_z", 1),))])
    # WHEN a profile is put over an item that carried merge marks
    assert store.commit([Changeset("put", (_profile_op("cus_a", (ANN,), 2, 3),))]) == []
    # THEN the marks are gone with the old item
    a = store.get_customers(["cus_a"])["cus_a"]
    assert (a.version, a.merging_into, a.absorbing) == (3, None, frozenset())


def test_snapshots_without_a_profile_item_make_a_customer_of_version_0(kit: StoreKit) -> None:
    store = kit.profiles
    # WHEN a snapshot is copied to a customer that has no profile item yet (a merge's step 2)
    assert store.commit([Changeset("copy", (PutSource("cus_x", ANN, record_hash(ANN)),))]) == []
    # THEN the customer is read with the snapshot, version 0 and no profile; it is not live
    x = store.get_customers(["cus_x"])["cus_x"]
    assert (x.version, x.profile, x.owned, x.snapshots) == (0, None, frozenset(), {ANN.key: ANN})
    assert store.get_profiles(["cus_x"]) == {}
    assert list(store.iter_profiles()) == []
    # AND a profile founded "from nothing" over it holds (no profile item was there)
    assert store.commit([Changeset("p", (_profile_op("cus_x", (ANN,), None, 1),))]) == []
    # AND deleting a snapshot that is not there is no error, and changes nothing
    drop = Changeset("drop", (DeleteSource("cus_x", "crm:contact:404"),))
    assert store.commit([drop]) == []
    assert store.get_customers(["cus_x"])["cus_x"].snapshots == {ANN.key: ANN}
    assert store.get_customers(["cus_x"])["cus_x"].version == 1


def test_a_changeset_larger_than_one_transaction_is_refused_before_anything_is_written(kit: StoreKit) -> None:
    store = kit.profiles
    assert store.max_items_per_commit == 100  # DynamoDB's TransactWriteItems limit, on every store
    ops = tuple(PutIdent(f"email#p{i}@example.com", "cus_a", None) for i in range(101))
    fits = Changeset("fits", ops[:100])
    # WHEN a changeset of 101 operations comes after one of 100
    with pytest.raises(ValueError, match="more than one transaction holds"):
        store.commit([fits, Changeset("big", ops)])
    # THEN nothing was written (the check comes first) and 100 operations commit fine
    assert store.ident_owners() == {}
    assert store.commit([fits]) == []
    assert len(store.ident_owners()) == 100


def test_reads_take_many_keys_and_duplicates(kit: StoreKit) -> None:
    store = kit.profiles
    # More keys than one SQL statement (900) or one BatchGetItem (100) holds; moto is slow with many
    # items, so it gets fewer (still several requests' worth).
    n = 250 if kit.name == "dynamodb" else 1000
    people = [make_record("crm", str(i), email=f"p{i}@example.com") for i in range(n)]
    batch = [_new_customer(f"cus_{i:04d}", r) for i, r in enumerate(people)]
    for start in range(0, len(batch), 40):
        assert store.commit(batch[start : start + 40]) == []
    keys = [f"email#p{i}@example.com" for i in range(n)] * 2 + ["email#nobody@example.com"]
    # WHEN all the keys, each twice, and an unknown one are read in one call
    owners = store.get_owners(keys)
    # THEN every stored one is answered once, and unknown ones are absent
    assert len(owners) == n
    assert owners[f"email#p{n - 1}@example.com"].customer_id == f"cus_{n - 1:04d}"
    ids = [f"cus_{i:04d}" for i in range(n)]
    assert len(store.get_profiles([*ids, *ids[:5], "cus_unknown"])) == n
    assert [p.customer_id for p in sorted(store.iter_profiles(), key=lambda p: p.customer_id)] == ids
    # (moto answers each customer's Query by sorting its whole table: a sample is enough there)
    sample = ids if kit.name != "dynamodb" else ids[::25]
    assert len(store.get_customers([*sample, *sample[:5]])) == len(sample)


def test_an_item_or_a_changeset_over_dynamodb_s_limits_is_refused_and_writes_nothing(kit: StoreKit) -> None:
    store = kit.profiles
    store.commit([_new_customer("cus_a", ANN)])
    # GIVEN a profile of 120 records with a 4,000-character trait each: about 500 KB as one item
    wide = [
        make_record("crm", f"w{i}", email="w@example.com", traits={f"note{i}": "x" * 4000})
        for i in range(120)
    ]
    profile = build_profile("cus_wide", wide, version=1)
    huge_item = Changeset(
        "huge-item", (PutProfile("cus_wide", profile, profile_hash(profile), frozenset(), None),)
    )
    # AND a changeset of 60 snapshots of 80 KB each (each item fits, together 4.7 MB: over one transaction)
    heavy = [
        make_record(
            "crm", f"h{i}", email=f"h{i}@example.com", traits={f"k{j}": "y" * 4000 for j in range(20)}
        )
        for i in range(60)
    ]
    huge_changeset = Changeset("huge-changeset", tuple(PutSource("cus_h", r, record_hash(r)) for r in heavy))
    # AND an identifier whose key is longer than DynamoDB's 2,048-byte partition key
    long_key = Changeset("long-key", (PutIdent("email#" + "a" * 2100 + "@example.com", "cus_a", None),))
    small = Changeset("small", (PutIdent("email#fine@example.com", "cus_a", None),))
    before = (store.ident_owners(), store.get_customers(["cus_a"]))
    # WHEN each is committed after a small changeset THEN it is refused as the data's fault
    for doomed in (huge_item, huge_changeset, long_key):
        with pytest.raises(RecordRejectedError, match=doomed.label):
            store.commit([small, doomed])
    # AND nothing of it is stored (the small one may be, as DynamoDB sends it in its own transaction)
    assert store.get_customers(["cus_wide", "cus_h"]) == {}
    owners = store.ident_owners()
    assert not any(key.startswith("email#aaaa") for key in owners)
    assert {k: v for k, v in owners.items() if k != "email#fine@example.com"} == before[0]
    assert store.get_customers(["cus_a"]) == before[1]
