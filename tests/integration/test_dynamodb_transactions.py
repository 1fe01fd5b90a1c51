"""The DynamoDB store never sends a transaction DynamoDB rejects whole, and names the record at fault.

DynamoDB (and moto, checked first) rejects a TransactWriteItems with two operations on one item, or
over 4 MB, with a ValidationException that names no item: on main, one such changeset packed with
others failed every record of the batch ("multiple operations on one item").
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from core.errors import RecordRejectedError
from core.merge import build_profile, profile_hash, record_hash
from core.pipeline import IngestSettings, ingest
from core.ports import Changeset, PutIdent, PutProfile, PutSource
from core.storage.dynamodb_transactions import TRANSACTION_MAX_BYTES, next_batch, prepare
from core.storage.memory import InMemoryProfileStore
from core.testing.invariants import store_problems
from tests.conftest import make_record
from tests.integration.conftest import TABLE
from tests.integration.test_dynamodb_store import Dynamo
from tests.unit.test_batch_sizes import population, resolve_in_batches


def _new_customer(cid: str, source_id: str, email: str, notes: str = "") -> Changeset:
    record = make_record("crm", source_id, email=email, traits={"notes": notes} if notes else None)
    profile = build_profile(cid, [record], version=1)
    return Changeset(
        f"crm:contact:{source_id}",
        (
            PutSource(cid, record, record_hash(record)),
            PutIdent(f"email#{email}", cid, None),
            PutIdent(f"source#{record.key}", cid, None, record_hash(record), record.updated_at),
            PutProfile(cid, profile, profile_hash(profile), frozenset({f"email#{email}"}), None),
        ),
    )


def test_moto_rejects_two_operations_on_one_item_like_dynamodb(dynamo: Dynamo) -> None:
    # GIVEN the raw client: moto must be a faithful oracle for the tests below
    store, _ = dynamo
    put = {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "IDENT#x"}, "SK": {"S": "IDENT"}}}}
    # WHEN one transaction writes one item twice THEN the whole request is refused
    with pytest.raises(ClientError, match="multiple operations on one item"):
        store._client.transact_write_items(TransactItems=[put, put])


def test_two_changesets_claiming_one_key_never_share_a_transaction(dynamo: Dynamo) -> None:
    # GIVEN two changesets that both claim the unowned email#shared (a plan that did not know)
    store, log = dynamo
    first = _new_customer("cus_a", "1", "shared@example.com")
    second = _new_customer("cus_b", "2", "shared@example.com")
    # WHEN committed together
    lost = store.commit([first, second])
    # THEN they went in two transactions: the first won the key, the second lost its race (to be
    # re-planned), and nothing was refused
    assert lost == [second]
    assert log.transaction_sizes == [4, 4]
    assert store.get_owners(["email#shared@example.com"])["email#shared@example.com"].customer_id == "cus_a"


def test_one_changeset_writing_an_item_twice_is_refused_by_name_before_sending(dynamo: Dynamo) -> None:
    store, log = dynamo
    changeset = _new_customer("cus_a", "1", "ann@example.com")
    doubled = Changeset(
        changeset.label, (*changeset.operations, PutIdent("email#ann@example.com", "cus_a", None))
    )
    with pytest.raises(
        # the item by its key, the identifier's keyed hash (core.storage.ident_keys): no value
        RecordRejectedError,
        match=r"writes the item IDENT#[0-9a-f]{64} / IDENT twice",
    ):
        store.commit([doubled])
    assert log.calls["TransactWriteItems"] == 0


def test_a_changeset_dynamodb_refuses_is_named_and_its_neighbours_are_written(dynamo: Dynamo) -> None:
    # GIVEN a good changeset, one whose profile item is over 400 KB (a record built around the
    # limits, as a bug or an older normaliser could), and another good one
    store, _ = dynamo
    good = _new_customer("cus_a", "1", "ann@example.com")
    huge = _new_customer("cus_b", "2", "bo@example.com", notes="x" * 420_000)
    later = _new_customer("cus_c", "3", "cy@example.com")
    # WHEN committed together
    with pytest.raises(RecordRejectedError, match="crm:contact:2"):
        store.commit([good, huge, later])
    # THEN the good ones are stored, and the refused one left nothing behind
    assert sorted(p.customer_id for p in store.iter_profiles()) == ["cus_a", "cus_c"]
    assert store.get_owners(["email#bo@example.com"]) == {}


def test_transactions_are_packed_under_4_mb() -> None:
    # GIVEN ten changesets of about 900 KB each
    changesets = [
        _new_customer(f"cus_{i}", str(i), f"p{i}@example.com", notes="n" * 450_000) for i in range(10)
    ]
    entries = [[{"Put": {"TableName": TABLE, "Item": _item(op)}} for op in c.operations] for c in changesets]
    queue = [prepare(c, e, 100) for c, e in zip(changesets, entries, strict=True)]
    # WHEN packed into transactions
    batches = []
    while queue:
        batches.append(next_batch(queue, 100))
    # THEN each stays within 4 MB, in order, and together they hold all ten
    assert all(sum(p.size for p in b) <= TRANSACTION_MAX_BYTES for b in batches)
    assert [p.changeset for b in batches for p in b] == changesets
    assert len(batches) >= 3


def _item(op: object) -> dict[str, dict[str, str]]:
    # A rough item per operation: its payload is the profile or record JSON, which is what weighs.
    if isinstance(op, PutProfile):
        return {
            "PK": {"S": f"CUSTOMER#{op.customer_id}"},
            "SK": {"S": "PROFILE"},
            "data": {"S": op.profile.model_dump_json()},
        }
    if isinstance(op, PutSource):
        return {
            "PK": {"S": f"CUSTOMER#{op.customer_id}"},
            "SK": {"S": f"SOURCE#{op.record.key}"},
            "data": {"S": op.record.model_dump_json()},
        }
    assert isinstance(op, PutIdent)
    return {"PK": {"S": f"IDENT#{op.key}"}, "SK": {"S": "IDENT"}, "at": {"S": datetime.now(UTC).isoformat()}}


def test_any_batch_size_gives_the_same_profiles_on_dynamodb(dynamo: Dynamo) -> None:
    # GIVEN people with repeat buyers, owner links and charges (see tests/unit/test_batch_sizes.py)
    store, log = dynamo
    records = population(15, seed=5)
    reference = resolve_in_batches(records, len(records), InMemoryProfileStore())
    # WHEN ingested into DynamoDB one by one, shuffled, and then again in one batch
    shuffled = list(records)
    random.Random(1).shuffle(shuffled)
    assert resolve_in_batches(shuffled, 1, store) == reference
    # THEN the same profiles, and a second pass in one batch changes nothing
    writes = log.writes()
    assert resolve_in_batches(records, len(records), store) == reference
    assert log.writes() == writes


def test_twelve_people_sharing_an_address_in_one_batch_are_written_in_one_round(dynamo: Dynamo) -> None:
    # GIVEN 12 people sharing one address (over the guardrail's 8, so nobody is joined by it): every
    # new customer's changeset wanted the unowned key, and main packed them into one transaction
    store, _ = dynamo
    people = [
        make_record("crm", f"c{n}", email=["family@example.com", f"p{n}@example.com"]) for n in range(12)
    ]
    # WHEN ingested in one batch
    result = ingest(people, store, IngestSettings(sleep=lambda _: None))
    # THEN all 12 are written at once, and the address has one owner
    assert (result.written, result.retries) == (12, 0)
    assert len(list(store.iter_profiles())) == 12
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
