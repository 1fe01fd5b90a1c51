"""grow24: the add-only mark of a PROFILE item (core.grow_mark) on the three stores.

The full plan writes it from every snapshot of the customer; the add-only path (core.ingest_grow)
plans a batch from the profile item only while the mark allows it, and writes it forward. A profile
item with no mark (written before this release, or by a merge, a split, an erasure) is planned in
full once, which marks it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

from core import ingest_plan
from core.batch_ingest import ingest_batch
from core.grow_mark import rules_fingerprint
from core.merge import DEFAULT_RULES, build_profile, profile_hash
from core.pipeline import IngestSettings
from core.ports import Changeset, PutProfile, ReadsCustomerParts
from core.schema import Identifier, Order, SourceRecord
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_growing_customer_on_every_store import _counting_grown

NO_SLEEP = IngestSettings(sleep=lambda _: None)
T0 = datetime(2026, 3, 1, tzinfo=UTC)
CONTACT = SourceRecord(
    source="shop",
    object_type="contact",
    source_id="c1",
    updated_at=T0,
    identifiers=(
        Identifier(kind="email", value="b@example.org"),
        Identifier(kind="source", value="shop:contact:c1"),
    ),
)


def _order(number: int, hours: int, total: str, status: str = "paid") -> SourceRecord:
    """An order built as a model (not normalised: ``total`` as given, ``5`` GBP too)."""
    at = T0 + timedelta(hours=hours)
    return SourceRecord(
        source="shop",
        object_type="order",
        source_id=f"o{number}",
        updated_at=at,
        identifiers=(
            Identifier(kind="source", value="shop:contact:c1"),
            Identifier(kind="source", value=f"shop:order:o{number}"),
        ),
        orders=(Order(id=f"o{number}", total=Decimal(total), currency="GBP", created_at=at, status=status),),
        level="child",
        owner="shop:contact:c1",
    )


def _ingest(kit: StoreKit, batches: Sequence[Sequence[SourceRecord]]) -> list[int]:
    """Each batch ingested; how many of them the add-only path planned."""
    grown: list[int] = []
    with patch.object(ingest_plan, "grow_plan", _counting_grown(ingest_plan.grow_plan, grown)):
        for batch in batches:
            ingest_batch(list(batch), kit.profiles, NO_SLEEP)
    return grown


def _head(kit: StoreKit) -> object:
    store = kit.profiles
    assert isinstance(store, ReadsCustomerParts)
    (profile,) = list(store.iter_profiles())
    return store.get_customer_head(profile.customer_id)


def test_the_full_plan_marks_the_profile_and_the_add_only_path_keeps_the_mark(kit: StoreKit) -> None:
    # GIVEN a contact (planned in full: a new customer)
    assert _ingest(kit, [[CONTACT]]) == []
    head = _head(kit)
    # THEN the profile item is marked with the rules it was built under, and no type carrying others' orders
    assert head.add_only == f'["{rules_fingerprint(DEFAULT_RULES)}"]'  # type: ignore[attr-defined]
    # WHEN orders come, a batch each, THEN each is planned from the profile item
    assert _ingest(kit, [[_order(1, 1, "2.00")], [_order(2, 2, "3.00")], [_order(3, 3, "4.00")]]) == [1, 1, 1]
    # AND the mark stays, and the profile is the rebuild's
    after = _head(kit)
    assert after.add_only == head.add_only  # type: ignore[attr-defined]
    state = kit.profiles.get_customers([after.customer_id])[after.customer_id]  # type: ignore[attr-defined]
    assert state.profile == build_profile(state.customer_id, state.snapshots.values(), version=state.version)


def test_a_profile_item_without_a_mark_is_planned_in_full_once(kit: StoreKit) -> None:
    # GIVEN a customer whose profile item has no mark (as one stored before the mark was written)
    _ingest(kit, [[CONTACT], [_order(1, 1, "2.00")]])
    state = kit.profiles.get_customers([_head(kit).customer_id])  # type: ignore[attr-defined]
    ((cid, customer),) = state.items()
    assert customer.profile is not None
    profile = customer.profile.model_copy(update={"version": customer.version + 1})
    unmarked = PutProfile(cid, profile, profile_hash(profile), customer.owned, customer.version)
    assert kit.profiles.commit([Changeset("unmark", (unmarked,))]) == []
    assert _head(kit).add_only is None  # type: ignore[attr-defined]
    # WHEN an order comes, THEN it is planned in full (the mark is written), the next one add-only
    assert _ingest(kit, [[_order(2, 2, "3.00")]]) == []
    assert _head(kit).add_only is not None  # type: ignore[attr-defined]
    assert _ingest(kit, [[_order(3, 3, "4.00")]]) == [1]


def test_amounts_coarser_than_their_minor_units_give_the_rebuild_byte_for_byte(kit: StoreKit) -> None:
    # Red before grow24: the add-only path took every order batch, and cancelling 1.00 beside two
    # orders of 5 (GBP, coarser than its two places: records not normalised) left 10.00 where the
    # rebuild has 10 (equal numbers, another JSON and content hash).
    batches = [[CONTACT], [_order(1, 1, "5")], [_order(2, 2, "1.00")], [_order(3, 3, "5")]]
    # WHEN 1.00 is cancelled
    batches.append([_order(2, 4, "1.00", status="cancelled")])
    _ingest(kit, batches)
    # THEN the profile is the rebuild's, as JSON and by its hash
    (profile,) = list(kit.profiles.iter_profiles())
    state = kit.profiles.get_customers([profile.customer_id])[profile.customer_id]
    rebuilt = build_profile(profile.customer_id, state.snapshots.values(), version=profile.version)
    assert str(profile.computed.lifetime_value["GBP"]) == "10"
    assert profile.model_dump_json() == rebuilt.model_dump_json()
    assert state.profile_hash == profile_hash(rebuilt)
    # AND the customer is not marked: its next batches are planned in full
    assert state.add_only is None
