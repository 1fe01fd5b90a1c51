"""core.grow_profile: a profile updated from the stored one gives ``build_profile`` of the records, or
None (the caller rebuilds). Records are built as models here, so traits and consent take any times
and rules, and amounts may be finer than their currency's minor units, which normalisation gives
every amount (the store-port property in
tests/integration/store_port/test_growing_customer_on_every_store.py drives the whole ingest)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from core.grow_mark import fits_minor_units
from core.grow_profile import grown_profile, winner_keys
from core.merge import DEFAULT_RULES, MergeRules, SurvivorshipRule, build_profile
from core.schema import ConsentState, Identifier, Order, SourceRecord

T0 = datetime(2026, 3, 1, tzinfo=UTC)
OWNER = Identifier(kind="source", value="shop:contact:c1")
RULES = MergeRules(
    per_trait=MappingProxyType(
        {
            "channel": SurvivorshipRule("first_seen"),
            "tier": SurvivorshipRule("source_priority", ("pos", "shop")),
        }
    )
)


def _child(
    source: str,
    number: int,
    hours: int,
    total: str | None = None,
    status: str = "paid",
    currency: str = "GBP",
    traits: dict[str, str] | None = None,
    consent: bool | None = None,
) -> SourceRecord:
    at = T0 + timedelta(hours=hours)
    orders = (
        ()
        if total is None
        else (Order(id=f"o{number}", total=Decimal(total), currency=currency, created_at=at, status=status),)
    )
    return SourceRecord(
        source=source,
        object_type="order",
        source_id=f"o{number}",
        updated_at=at,
        identifiers=(OWNER, Identifier(kind="source", value=f"{source}:order:o{number}")),
        traits=traits or {},
        consent={} if consent is None else {"email": ConsentState(granted=consent, changed_at=at)},
        orders=orders,
        level="child",
        owner="shop:contact:c1",
    )


def _grow(stored: list[SourceRecord], batch: list[SourceRecord], rules: MergeRules = DEFAULT_RULES) -> object:
    """``grown_profile`` of ``batch`` against the profile of ``stored``, with the snapshots the
    planner reads (the replaced versions and the stored winners)."""
    profile = build_profile("cid", stored, rules, 1)
    by_key = {r.key: r for r in stored}
    replaced = {r.key: by_key[r.key] for r in batch if r.key in by_key}
    winners = {k: by_key[k] for k in winner_keys(profile, batch)}
    # What the add-only mark tells the planner (core.grow_mark): whether every stored amount has
    # at least its currency's minor units.
    minor_units = fits_minor_units(o for r in stored for o in r.orders)
    return grown_profile(
        profile, sorted(batch, key=lambda r: r.key), replaced, winners, rules, 2, minor_units
    )


def _rebuilt(
    stored: list[SourceRecord], batch: list[SourceRecord], rules: MergeRules = DEFAULT_RULES
) -> object:
    return build_profile("cid", list({r.key: r for r in [*stored, *batch]}.values()), rules, 2)


def test_a_new_order_adds_to_the_stored_totals() -> None:
    # GIVEN two paid orders stored, WHEN a third comes
    stored = [_child("shop", 1, 1, "12.50"), _child("shop", 2, 2, "0.99")]
    batch = [_child("shop", 3, 0, "250.00")]
    # THEN the profile is the rebuild's (first order moved earlier, segment vip)
    assert _grow(stored, batch) == _rebuilt(stored, batch)


def test_taking_out_the_finest_amount_of_a_total_falls_back() -> None:
    # GIVEN 1.00 and 2.000 stored (the total 3.000 has the exponent of 2.000, finer than GBP's
    # minor units), WHEN 2.000 is cancelled
    stored = [_child("shop", 1, 1, "1.00"), _child("shop", 2, 2, "2.000")]
    batch = [_child("shop", 2, 3, "2.000", status="cancelled")]
    # THEN the stored total cannot say it is 1.00 again (3.000 - 2.000 is 1.000): rebuild
    assert str(_rebuilt(stored, batch).computed.lifetime_value["GBP"]) == "1.00"  # type: ignore[attr-defined]
    assert _grow(stored, batch) is None
    # AND with amounts in the minor units the change is made from the totals
    stored = [_child("shop", 1, 1, "1.00"), _child("shop", 2, 2, "2.00"), _child("shop", 4, 4, "2.00")]
    batch = [_child("shop", 2, 3, "2.00", status="cancelled")]
    assert _grow(stored, batch) == _rebuilt(stored, batch)


def test_a_replaced_trait_winner_and_a_second_stored_currency_fall_back() -> None:
    stored = [
        _child("shop", 1, 1, "1.00", traits={"tier": "gold"}),
        _child("shop", 2, 2, "3.00", currency="EUR"),
    ]
    assert _grow(stored, [_child("shop", 1, 5, "1.00", traits={"tier": "silver"})]) is None
    assert _grow(stored, [_child("shop", 3, 5, "4.00")]) is None  # the count per currency is unknown
    assert _grow(stored, [_child("shop", 3, 5)]) == _rebuilt(stored, [_child("shop", 3, 5)])  # no order


_CHILD = st.builds(
    _child,
    st.sampled_from(["shop", "pos"]),
    st.integers(1, 6),
    st.integers(-30, 30),
    st.one_of(st.none(), st.sampled_from(["12.50", "0.99", "250.00", "-3.00", "2.000", "5.0000"])),
    st.sampled_from(["paid", "paid", "refunded", "cancelled"]),
    st.sampled_from(["GBP", "GBP", "EUR"]),
    st.one_of(
        st.none(),
        st.dictionaries(st.sampled_from(["tier", "channel", "note"]), st.sampled_from(["a", "b", ""])),
    ),
    st.one_of(st.none(), st.booleans()),
)


def test_a_grown_profile_is_the_rebuild_or_none() -> None:
    grown_count: list[int] = []

    @settings(max_examples=300, deadline=None)
    @given(
        stored=st.lists(_CHILD, min_size=1, max_size=8, unique_by=lambda r: r.key),
        batch=st.lists(_CHILD, min_size=1, max_size=3, unique_by=lambda r: r.key),
        rules=st.sampled_from([DEFAULT_RULES, RULES]),
    )
    def check(stored: list[SourceRecord], batch: list[SourceRecord], rules: MergeRules) -> None:
        # GIVEN any stored children, WHEN any batch adds or replaces some (same identifiers)
        grown = _grow(stored, batch, rules)
        # THEN the result is the rebuild's, or None
        if grown is not None:
            grown_count.append(1)
            assert grown == _rebuilt(stored, batch, rules)

    check()
    # AND the property did not pass by falling back every time
    assert len(grown_count) >= 30, len(grown_count)
