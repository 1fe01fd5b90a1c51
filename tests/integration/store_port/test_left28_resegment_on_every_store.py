"""left28 (fix21m's leftover): stored profiles re-segmented under the thresholds in force
(core.resegment, ``profilesync repair --segments``), on memory, SQLite and DynamoDB (moto).

A profile's segment is decided when a record of it arrives; after the ``segments`` section changes,
a customer with no new record kept the old thresholds' segment in the store and at every tool.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.merge import VIP_LIFETIME_VALUE, MergeRules
from core.pipeline import IngestSettings, ingest
from core.resegment import resegment
from core.schema import Identifier, Order, SourceRecord
from tests.integration.store_port.conftest import StoreKit

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _buyer(name: str, *totals: str) -> list[SourceRecord]:
    owner = Identifier(kind="source", value=f"shop:customer:{name}")
    person = SourceRecord(
        source="shop",
        object_type="customer",
        source_id=name,
        updated_at=T0,
        identifiers=(Identifier(kind="email", value=f"{name}@example.com"), owner),
    )
    orders = []
    for n, total in enumerate(totals):
        at = T0 + timedelta(hours=n + 1)
        key = f"{name}-o{n}"
        orders.append(
            SourceRecord(
                source="shop",
                object_type="order",
                source_id=key,
                updated_at=at,
                identifiers=(owner, Identifier(kind="source", value=f"shop:order:{key}")),
                orders=(Order(id=key, total=Decimal(total), currency="EUR", created_at=at),),
                level="child",
                owner=f"shop:customer:{name}",
            )
        )
    return [person, *orders]


def _segments(kit: StoreKit) -> dict[str, tuple[str, int]]:
    return {p.sources[0].id: (p.computed.segment, p.version) for p in kit.profiles.iter_profiles()}


def test_a_raised_threshold_re_segments_the_stored_profiles_it_changes_and_no_other(kit: StoreKit) -> None:
    # GIVEN Ann (1,200 EUR in two orders: vip at 1,000), Bob (300 EUR in two: repeat) and Cleo (no
    # order: prospect), stored under the default thresholds
    old = IngestSettings(sleep=lambda _: None)
    ingest(
        _buyer("ann", "700.00", "500.00") + _buyer("bob", "100.00", "200.00") + _buyer("cleo"),
        kit.profiles,
        old,
    )
    before = _segments(kit)
    assert {k: s for k, (s, _) in before.items()} == {"ann": "vip", "bob": "repeat", "cleo": "prospect"}
    # WHEN the euro threshold is raised to 2,000 and the stored profiles are re-segmented, dry first
    raised = IngestSettings(
        sleep=lambda _: None,
        rules=MergeRules(vip_lifetime_value={**VIP_LIFETIME_VALUE, "EUR": Decimal(2000)}),
    )
    dry = resegment(kit.profiles, raised, dry_run=True)
    assert (dry.checked, dry.changed) == (3, [(before_id(kit, "ann"), "vip", "repeat")])
    assert _segments(kit) == before  # a dry run writes nothing
    done = resegment(kit.profiles, raised)
    # THEN Ann is repeat now, in a new version (the next push sends it); the others are untouched
    assert done.changed == dry.changed
    after = _segments(kit)
    assert after["ann"] == ("repeat", before["ann"][1] + 1)
    assert (after["bob"], after["cleo"]) == (before["bob"], before["cleo"])
    # AND a second pass finds nothing to do
    assert resegment(kit.profiles, raised).changed == []


def before_id(kit: StoreKit, name: str) -> str:
    (profile,) = [p for p in kit.profiles.iter_profiles() if p.sources[0].id == name]
    return profile.customer_id
