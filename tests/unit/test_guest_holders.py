"""Guest children (orders, charges with no owner) count toward the guardrail limits as the person
they name (core/identity.py ``limit_holder``): strangers' guest orders on a shop's own address stop
joining, a repeat guest buyer stays one profile, in one batch or many (the stored holders are named
the same way: core/ingest_plan.py ``_group_exact``, core/merge.py ``identifier_holders``).

Red first on main (c822216): the strangers were one profile in every test below that expects twelve,
and ``limit_holder`` did not exist. The repeat-buyer tests are the guards a fix must keep green;
naming stored holders by source key (the old ``identifier_holders``) makes the across-batches one
fail.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.identity import IdentityPolicy, counts_toward_limits, group_records, limit_holder
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import Profile, RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.invariants import store_problems

SHOP = "orders@lakeside-bikes.example"
NAMES = [
    ("Amelia", "Hart"),
    ("Bilal", "Qureshi"),
    ("Chloe", "Dunn"),
    ("Dev", "Patel"),
    ("Eilidh", "Ross"),
    ("Femi", "Adeyemi"),
    ("Grace", "Lowe"),
    ("Hamish", "Bell"),
    ("Isla", "Moore"),
    ("Jack", "Nolan"),
    ("Kiran", "Shah"),
    ("Lena", "Voss"),
]


def _guest_order(
    n: int, email: str, traits: dict[str, str], phone: str | None = None, **extra: Any
) -> SourceRecord:
    draft = RecordDraft(
        source="shop",
        object_type="order",
        source_id=f"o{n}",
        updated_at=f"2026-02-{1 + n % 27:02d}T00:00:00Z",
        emails=[email],
        phones=[phone] if phone else [],
        traits=traits,
        orders=[{"id": f"o{n}", "total": "10.00", "currency": "GBP", "created_at": "2026-02-01T00:00:00Z"}],
        **extra,
    )
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord), record
    return record


def _stranger(i: int) -> SourceRecord:
    first, last = NAMES[i]
    return _guest_order(i, SHOP, {"first_name": first, "last_name": last}, f"+447911123{i:03d}")


def _ingest(batches: list[list[SourceRecord]]) -> list[Profile]:
    store = InMemoryProfileStore()
    for batch in batches:
        ingest(batch, store, IngestSettings(sleep=lambda _: None))
    profiles = list(store.iter_profiles())
    assert store_problems(profiles, store.ident_owners()) == []
    return profiles


def test_a_guest_child_holds_as_the_name_it_gives_folded() -> None:
    a = _guest_order(1, SHOP, {"first_name": "Amélie", "last_name": "Hart"})
    b = _guest_order(2, SHOP, {"full_name": "  AMELIE   HART "})
    assert limit_holder(a) == limit_holder(b) is not None
    assert limit_holder(a) != limit_holder(
        _guest_order(3, SHOP, {"first_name": "Amelia", "last_name": "Hart"})
    )


def test_a_guest_child_without_a_name_holds_as_its_phone_and_without_either_does_not_count() -> None:
    phoned = _guest_order(1, SHOP, {}, "+447911123001")
    assert limit_holder(phoned) == limit_holder(_guest_order(2, SHOP, {}, "+447911123001")) is not None
    assert not counts_toward_limits(_guest_order(3, SHOP, {}))


def test_a_child_with_an_owner_never_counts_and_a_person_counts_as_itself() -> None:
    owned = _guest_order(1, SHOP, {"full_name": "Ann Lee"}, owner_type="customer", owner_id="7")
    assert limit_holder(owned) is None
    person = normalise_record(
        RecordDraft(
            source="crm", source_id="c1", updated_at="2026-01-01", emails=[SHOP], traits={"full_name": "Ann"}
        )
    )
    assert isinstance(person, SourceRecord)
    assert limit_holder(person) == person.key


def test_twelve_strangers_guest_orders_on_one_address_are_refused_it() -> None:
    # GIVEN twelve strangers' guest orders on the shop's address (limit 8 a value)
    records = [_stranger(i) for i in range(12)]
    # WHEN grouped THEN the address matches none of them, each is a component of its own
    components, hits = group_records(records, {}, {}, IdentityPolicy())
    assert len(components) == 12
    assert {h.identifier_key for h in hits} == {f"email#{SHOP}"}


@pytest.mark.parametrize("size", [1, 3, 12])
def test_a_repeat_guest_buyer_with_twelve_orders_is_one_profile_in_any_batch_size(size: int) -> None:
    # GIVEN one guest's twelve orders, her name written two ways, her address and phone on each
    spellings = [{"first_name": "Amelia", "last_name": "Hart"}, {"full_name": "amelia hart"}]
    orders = [_guest_order(n, "amelia@example.co.uk", spellings[n % 2], "+447911123000") for n in range(12)]
    # WHEN they arrive in batches of ``size`` THEN she is one profile with all twelve
    profiles = _ingest([orders[i : i + size] for i in range(0, 12, size)])
    assert len(profiles) == 1
    assert profiles[0].computed.order_count == 12


def test_strangers_arriving_one_a_batch_stop_joining_past_the_limit() -> None:
    # GIVEN the strangers' guest orders synced one a batch (the stored ones are the holders)
    profiles = _ingest([[_stranger(i)] for i in range(12)])
    # THEN the first eight share the address (within the limit, as eight contacts would), and the
    # ninth and after are people of their own
    sizes = sorted(len(p.sources) for p in profiles)
    assert sizes == [1, 1, 1, 1, 8]
