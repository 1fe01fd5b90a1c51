"""Child objects (orders, charges) join their owner, and never count towards a guardrail (issue 11).

On main, one customer and 12 orders sharing her email became 13 profiles in the Lambda path and 6
with ``resolve --batch-size 5``: every order counted as a holder of the email, so the ninth tripped
the "shared email" limit of 8. These tests build the records as connectors' drafts and run them
through normalisation and ingest, in every batch size and order.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from core.identity import IdentityPolicy
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import Profile, RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.invariants import store_problems

NO_SLEEP = IngestSettings(sleep=lambda _: None)


def record(draft: RecordDraft) -> SourceRecord:
    result = normalise_record(draft)
    assert isinstance(result, SourceRecord), result
    return result


def customer(source_id: str = "1", email: str | None = "ann@example.com", **extra: Any) -> RecordDraft:
    return RecordDraft(
        source="shop",
        object_type="customer",
        source_id=source_id,
        updated_at="2026-03-01T00:00:00Z",
        emails=[email] if email else [],
        traits={"first_name": "Ann"},
        **extra,
    )


def order(
    n: int, *, email: str | None = "ann@example.com", owner: str | None = None, total: str = "10.00"
) -> RecordDraft:
    return RecordDraft(
        source="shop",
        object_type="order",
        source_id=f"o{n}",
        updated_at=f"2026-02-{1 + n % 27:02d}T00:00:00Z",
        emails=[email] if email else [],
        owner_type="customer" if owner is not None else None,
        owner_id=owner,
        orders=[{"id": f"o{n}", "total": total, "currency": "GBP", "created_at": "2026-02-01T00:00:00Z"}],
    )


def ingest_in_batches(
    records: list[SourceRecord], size: int, store: InMemoryProfileStore | None = None
) -> list[Profile]:
    store = store or InMemoryProfileStore()
    for start in range(0, len(records), size):
        ingest(records[start : start + size], store, NO_SLEEP)
    profiles = list(store.iter_profiles())
    assert store_problems(profiles, store.ident_owners()) == []
    return profiles


def test_an_order_is_a_child_and_links_to_its_owner_by_the_owner_id() -> None:
    # GIVEN a Shopify-style order naming its customer, and a flat-file order naming none
    linked = record(order(1, owner="1"))
    plain = record(order(2))
    # WHEN normalised THEN both are children; the linked one joins by its owner's source key alone
    assert (linked.level, plain.level) == ("child", "child")
    assert linked.owner == "shop:customer:1"
    assert [i.key for i in linked.identifiers] == ["source#shop:customer:1", "source#shop:order:o1"]
    # AND the other one, with no owner id, falls back to its email
    assert plain.owner is None
    assert "email#ann@example.com" in {i.key for i in plain.identifiers}
    # AND a customer is a person
    assert record(customer()).level == "person"


def test_a_child_with_an_owner_id_and_no_email_is_kept() -> None:
    # GIVEN a charge that names its customer but carries no billing email (Stripe's own example)
    result = normalise_record(order(1, email=None, owner="1"))
    # THEN it is a record (main quarantined it: "no usable identifier"), and joins by the owner
    assert isinstance(result, SourceRecord)
    assert result.owner == "shop:customer:1"


def test_an_owner_id_that_is_not_an_id_is_dropped_and_the_child_falls_back_to_its_email() -> None:
    result = record(order(1, owner=["1", "2"]))  # type: ignore[arg-type]
    assert result.owner is None
    assert result.dropped[0].field == "owner_id"
    assert result.dropped[0].reason.startswith("owner id must be a string or an integer, not a list")
    assert "email#ann@example.com" in {i.key for i in result.identifiers}


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 13, 100])
def test_a_repeat_buyer_sharing_her_email_with_12_orders_is_one_profile_in_any_batch_size(size: int) -> None:
    # GIVEN her customer record and 12 orders carrying her email and no owner id (a flat file)
    records = [record(customer())] + [record(order(n)) for n in range(12)]
    for seed in range(3):
        random.Random(seed).shuffle(records)
        # WHEN they are ingested in batches of `size`, in any order
        profiles = ingest_in_batches(records, size)
        # THEN she is one profile with every order in lifetime value
        assert len(profiles) == 1, [p.sources for p in profiles]
        assert profiles[0].computed.order_count == 12
        assert profiles[0].computed.lifetime_value == {"GBP": Decimal("120.00")}


@pytest.mark.parametrize("size", [1, 4, 50, 600])
def test_a_customer_with_500_orders_linked_by_owner_id_is_one_profile(size: int) -> None:
    # GIVEN a customer and 500 orders naming her by id, some with no email, some with a gift email
    orders = [
        record(
            order(
                n,
                owner="1",
                email=None if n % 3 == 0 else f"gift{n}@example.com" if n % 7 == 0 else "ann@example.com",
            )
        )
        for n in range(500)
    ]
    records = [*orders, record(customer())]
    random.Random(size).shuffle(records)
    # WHEN ingested in batches, the orders arriving before and after the customer
    profiles = ingest_in_batches(records, size)
    # THEN one profile, all 500 orders in lifetime value, and no gift address glued to her
    [profile] = profiles
    assert profile.computed.order_count == 500
    assert profile.computed.lifetime_value == {"GBP": Decimal("5000.00")}
    emails = {i.value for i in profile.identifiers if i.kind == "email"}
    assert emails == {"ann@example.com"}


def test_orders_before_their_customer_are_one_customer_that_the_customer_joins() -> None:
    # GIVEN orders naming customer 1, ingested before customer 1 exists
    store = InMemoryProfileStore()
    ingest([record(order(n, owner="1", email=None)) for n in range(3)], store, NO_SLEEP)
    [early] = list(store.iter_profiles())
    # WHEN the customer arrives
    result = ingest([record(customer())], store, NO_SLEEP)
    # THEN it attaches to the customer the orders founded, which now has her email
    [profile] = list(store.iter_profiles())
    assert (result.attached, profile.customer_id) == (1, early.customer_id)
    assert {i.value for i in profile.identifiers if i.kind == "email"} == {"ann@example.com"}
    assert store_problems([profile], store.ident_owners()) == []


def test_guardrails_count_people_not_orders() -> None:
    # GIVEN the limit of 8 records per email, one person with 30 orders on her address, and 9
    # different people (contacts) sharing an office address
    policy = IdentityPolicy()
    assert policy.limit_for("email") == 8
    shopper = [record(customer())] + [record(order(n)) for n in range(30)]
    office = [
        record(
            RecordDraft(
                source="crm",
                source_id=f"c{n}",
                updated_at="2026-01-01",
                emails=["info@corp.example"],
                phones=[f"+1201555{n:04d}"],
            )
        )
        for n in range(9)
    ]
    # WHEN ingested together
    store = InMemoryProfileStore()
    result = ingest(shopper + office, store, NO_SLEEP)
    # THEN the shopper is one profile, and the 9 office contacts stay apart (the guardrail holds)
    profiles = list(store.iter_profiles())
    assert len(profiles) == 1 + 9
    hit_keys = {h.identifier_key for h in result.guardrail_hits}
    assert hit_keys == {"email#info@corp.example"}


def test_a_shared_address_claimed_by_several_new_customers_in_one_batch_is_claimed_once() -> None:
    # GIVEN 12 people sharing one address (over the limit, so nobody is joined by it) in one batch
    people = [
        record(
            RecordDraft(
                source="crm",
                source_id=f"c{n}",
                updated_at="2026-01-01",
                emails=["family@example.com", f"p{n}@example.com"],
            )
        )
        for n in range(12)
    ]
    store = InMemoryProfileStore()
    # WHEN ingested THEN every one is written in one round (no changeset lost a race to another of
    # the same batch claiming the address), and the address belongs to exactly one of them
    result = ingest(people, store, NO_SLEEP)
    assert (result.written, result.retries) == (12, 0)
    assert len(list(store.iter_profiles())) == 12
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
