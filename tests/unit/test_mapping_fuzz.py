"""Arbitrary records and broken vendor objects: no exception escapes, nothing read goes unaccounted.

Three fuzzers of issue 11: hypothesis draws arbitrary JSON records and runs them through ``resolve``
(normalise, ingest) into the in-memory store; real-looking records of a population, half of them
broken, through ``resolve``; and broken copies of every connector's sandbox objects (shaped after
the vendor's published examples) and of the vendor's own objects from its published spec, through
its mapping. ``bench/bad_input.py``
runs the same at 10,000 each and prints the figures.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.jsonl import draft_from_flat
from core.connector import RawPage
from core.normalise import normalise_record
from core.schema import Quarantined, RecordDraft
from core.storage.memory import InMemoryProfileStore
from profilesync.registry import get
from profilesync.resolve import resolve
from profilesync.testing.fuzz import fuzz_mapping, fuzz_resolve, mutated_population_lines, vendor_objects
from profilesync.testing.spec_objects import spec_objects

CONNECTORS = ("hubspot", "mailchimp", "shopify", "klaviyo", "stripe", "salesforce", "woocommerce")

_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.text(alphabet=st.characters(codec=None), max_size=30),
    st.sampled_from(["ann@example.com", "+44 20 7946 0018", "2026-01-05", "2099-01-01", "GB", "-5"]),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
_record = st.fixed_dictionaries(
    {},
    optional={
        "source": st.one_of(st.sampled_from(["crm", "shop"]), _value),
        "id": _value,
        "object_type": st.one_of(st.sampled_from(["contact", "order", "customer"]), _value),
        "updated_at": _value,
        "email": _value,
        "phone": _value,
        "first_name": _value,
        "country": _value,
        "consent": _value,
        "orders": _value,
        "owner_id": _value,
        "owner_type": _value,
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(records=st.lists(st.one_of(_record, _value), min_size=1, max_size=25), batch=st.integers(1, 10))
def test_arbitrary_json_records_through_resolve_read_equals_normalised_plus_quarantined(
    records: list[Any], batch: int
) -> None:
    # GIVEN arbitrary JSON values, as a JSON-lines reader hands them over (objects become drafts,
    # anything else is quarantined by the reader)
    items: list[RecordDraft | Quarantined] = []
    for value in records:
        if isinstance(value, dict):
            items.append(draft_from_flat({**value, "source": value.get("source") or "fuzz"}))
        else:
            items.append(
                Quarantined(
                    source="fuzz", source_id="line", reason="not a JSON object", raw={"v": str(value)}
                )
            )
    # WHEN resolved in small batches
    report = resolve(items, InMemoryProfileStore(), batch_size=batch)
    # THEN nothing escaped, and every record is a profile's record or quarantined
    assert report.read == len(records) == report.normalised + report.quarantined


@functools.cache
def _samples(name: str) -> list[tuple[str, Any]]:
    return vendor_objects(get(name), people=20)


@pytest.mark.parametrize("name", CONNECTORS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_broken_vendor_objects_map_to_one_draft_each_and_never_crash(name: str, seed: int) -> None:
    # GIVEN broken copies of the connector's vendor objects, in pages of one to five
    # WHEN its mapping maps them and each draft is normalised
    report = fuzz_mapping(get(name), 60, seed=seed, samples=_samples(name))
    # THEN no crash, one outcome per object, each a record or a quarantine with a reason
    assert (report.crashes, report.first_crash) == (0, "")
    assert report.unaccounted == 0
    assert report.normalised + report.quarantined + report.deleted == report.objects == 60
    # AND only the vendors with objects in their published spec had any of those broken
    if name not in SPEC_VENDORS:
        assert report.from_specs == 0


#: The vendors whose published spec gives objects of their own (profilesync.testing.spec_objects).
SPEC_VENDORS = ("hubspot", "klaviyo", "mailchimp", "stripe")


@pytest.mark.parametrize(
    ("name", "documented"),
    [
        ("hubspot", {"associations", "propertiesWithHistory", "archivedAt"}),
        ("klaviyo", {"relationships"}),
        ("mailchimp", {"marketing_permissions", "location", "tags", "stats"}),
        ("stripe", {"billing_details", "invoice_settings"}),
    ],
)
def test_the_vendors_own_objects_map_to_one_record_each_unbroken(name: str, documented: set[str]) -> None:
    # GIVEN the vendor's objects as its published spec documents them (every documented field)
    objects = spec_objects(name, _samples(name))
    assert objects
    assert documented <= {key for _, raw in objects for key in raw}
    plugin = get(name)
    assert plugin.sandbox is not None
    connector = plugin.build(plugin.sandbox(people=0).settings())
    try:
        # WHEN each is mapped and normalised as it is
        outcomes = [
            normalise_record(draft)
            for kind, raw in objects
            for draft in connector.to_records(RawPage([raw], None, kind))
        ]
    finally:
        connector.close()
    # THEN one outcome per object; the ones naming someone are records (Stripe's example customer
    # names nobody: its email is null, and so is its charge's billing email)
    assert len(outcomes) == len(objects)
    kept = [o for o in outcomes if not isinstance(o, Quarantined)]
    assert kept
    assert all(o.reason.startswith("no usable identifier") for o in outcomes if isinstance(o, Quarantined))
    # AND broken copies of them are a third of a fuzz run's objects, none crashing
    report = fuzz_mapping(plugin, 300, seed=1, samples=_samples(name))
    assert 50 < report.from_specs < 150
    assert (report.crashes, report.unaccounted) == (0, 0)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32), batch=st.integers(1, 40))
def test_real_records_half_broken_through_resolve_lose_nothing_and_leave_a_consistent_store(
    seed: int, batch: int
) -> None:
    # GIVEN 150 records of people across a CRM, a shop with orders and an email tool, half of them
    # broken the ways exports break them (wrong types, lists, surrogates, 2099, huge lists)
    lines = mutated_population_lines(150, seed)
    # WHEN resolved in batches
    report = fuzz_resolve(lines, InMemoryProfileStore(), batch_size=batch)
    # THEN nothing escaped, every record is accounted for, and the store is consistent
    assert (report.crashes, report.first_crash) == (0, "")
    assert report.read == report.normalised + report.quarantined == 150
    assert report.store_problems == []
    assert report.profiles > 0
