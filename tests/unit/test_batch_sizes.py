"""Any batch size, any order: the same profiles (issue 11).

People across tools, repeat buyers with dozens of orders (some naming their customer by id, some
only by email), guest orders, and charges with no email: ingested in batches of any size from 1 to
500, shuffled, the profiles are the same as from one batch. On main, batch sizes gave different
customers (the guardrails counted orders) and the default crashed DynamoDB ("multiple operations on
one item"). tests/integration/test_dynamodb_transactions.py runs a smaller case on moto, which
rejects such transactions as DynamoDB does.
"""

from __future__ import annotations

import functools
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.normalise import NormaliseOptions, normalise_record
from core.pipeline import IngestSettings, ingest
from core.ports import ProfileStore
from core.schema import Profile, RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.invariants import store_problems

NO_SLEEP = IngestSettings(sleep=lambda _: None)


def _order(source: str, n: str, person: int, total: int, **link: Any) -> RecordDraft:
    return RecordDraft(
        source=source,
        object_type="order",
        source_id=n,
        updated_at=f"2026-02-{1 + total % 27:02d}T00:00:{total % 60:02d}Z",
        emails=[] if link.get("owner_id") and total % 2 else [f"p{person}@example.com"],
        orders=[{"id": n, "total": f"{total}.00", "currency": "GBP", "created_at": "2026-02-01"}],
        **link,
    )


def population(people: int, seed: int) -> list[SourceRecord]:
    """Each person: a CRM contact, maybe a shop customer (by email or phone), maybe 10 to 40 orders
    (half naming the customer by id), maybe a guest order by email, maybe a charge with no email."""
    rng = random.Random(seed)
    drafts: list[RecordDraft] = []
    for p in range(people):
        email, phone = f"p{p}@example.com", f"+44207946{p:04d}"
        drafts.append(
            RecordDraft(
                source="crm",
                source_id=f"c{p}",
                updated_at="2026-01-05",
                emails=[email],
                phones=[phone],
                traits={"first_name": f"Name{p}"},
            )
        )
        if rng.random() < 0.6:
            drafts.append(
                RecordDraft(
                    source="shop",
                    object_type="customer",
                    source_id=f"s{p}",
                    updated_at="2026-01-06",
                    emails=[email] if p % 2 else [],
                    phones=[] if p % 2 else [phone],
                )
            )
            if rng.random() < 0.3:  # a repeat buyer
                for k in range(rng.randint(10, 40)):
                    link = {"owner_type": "customer", "owner_id": f"s{p}"} if k % 2 else {}
                    drafts.append(_order("shop", f"o{p}-{k}", p, rng.randint(1, 99), **link))
        if rng.random() < 0.2:  # a guest order: no customer, only the email
            drafts.append(_order("shop", f"g{p}", p, 5))
        if rng.random() < 0.2:  # a charge naming a customer record of its tool, with no email
            drafts.append(
                RecordDraft(
                    source="pay",
                    object_type="customer",
                    source_id=f"cus{p}",
                    updated_at="2026-01-07",
                    emails=[email],
                )
            )
            drafts.append(_order("pay", f"ch{p}", p, 7, owner_type="customer", owner_id=f"cus{p}"))
    options = NormaliseOptions()
    records = [normalise_record(d, options) for d in drafts]
    assert all(isinstance(r, SourceRecord) for r in records)
    return [r for r in records if isinstance(r, SourceRecord)]


def canonical(profiles: list[Profile]) -> list[tuple[Any, ...]]:
    """What must not depend on batches: who is with whom, their traits and computed values (ids and
    versions may differ: a customer's id is founded by the first record of its first batch)."""
    return sorted(
        (
            tuple(sorted(s.key for s in p.sources)),
            tuple(sorted((name, t.value) for name, t in p.traits.items())),
            p.computed.model_dump_json(),
            tuple(sorted(i.key for i in p.identifiers)),
        )
        for p in profiles
    )


def resolve_in_batches(records: list[SourceRecord], size: int, store: ProfileStore) -> list[tuple[Any, ...]]:
    for start in range(0, len(records), size):
        ingest(records[start : start + size], store, NO_SLEEP)
    profiles = list(store.iter_profiles())
    assert store_problems(profiles, store.ident_owners()) == []  # type: ignore[attr-defined]
    return canonical(profiles)


RECORDS = population(120, seed=3)


@functools.cache
def reference() -> list[tuple[Any, ...]]:
    """The profiles of ``RECORDS`` ingested in one batch."""
    return resolve_in_batches(RECORDS, len(RECORDS), InMemoryProfileStore())


def test_the_population_has_what_broke_main() -> None:
    # repeat buyers with more orders than the email guardrail's limit, owner links, and charges
    orders_per_person: dict[str, int] = {}
    for record in RECORDS:
        if record.object_type == "order" and record.source == "shop" and record.source_id.startswith("o"):
            person = record.source_id.split("-")[0]
            orders_per_person[person] = orders_per_person.get(person, 0) + 1
    assert max(orders_per_person.values()) > 8
    assert any(r.owner is not None and not any(i.kind == "email" for i in r.identifiers) for r in RECORDS)
    # and one profile per person
    assert len(reference()) == 120


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(min_value=1, max_value=500), seed=st.integers(min_value=0, max_value=2**16))
def test_any_batch_size_and_order_gives_the_same_profiles_in_memory(size: int, seed: int) -> None:
    records = list(RECORDS)
    random.Random(seed).shuffle(records)
    assert resolve_in_batches(records, size, InMemoryProfileStore()) == reference()
