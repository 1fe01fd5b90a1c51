"""A customer that grows by a few records a batch (a wholesale buyer synced by incremental pulls).

Two things are asked of it on every store:

* what a batch reads does not grow with the customer: the source snapshots ``get_customers``
  hands the planner for a batch of one order stay bounded however many orders were stored before
  (counted, not timed). Today every batch loads the whole customer (core.ingest_plan's
  ``_load_customers``), one snapshot per order: a strict xfail until a batch reads in proportion to
  itself (bench/growing_customer.py shows the quadratic run it makes);
* the profile does not depend on how the records were cut into batches: random orders (repeated
  ids, so updates; stamps out of order; refunds, cancellations, three currencies) and contact
  updates, delivered in random batch sizes, leave the profile (its body, all but the version), the
  stored snapshots and ``build_profile`` of them equal to one batch of everything on the in-memory
  store. The guard of any incremental merge: it must give what the full rebuild gives.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.jsonl import draft_from_flat
from core import ingest_plan
from core.batch_ingest import ingest_batch
from core.merge import build_profile, profile_hash
from core.normalise import normalise_record
from core.pipeline import IngestSettings
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from tests.integration.store_port.conftest import KITS, StoreKit

NO_SLEEP = IngestSettings(sleep=lambda _: None)
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _stamp(hours: int) -> str:
    return (T0 + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def _contact(hours: int, name: str, consent: bool | None = None) -> SourceRecord:
    flat: dict[str, Any] = {
        "source": "shop",
        "id": "c1",
        "updated_at": _stamp(hours),
        "email": "buyer@example.org",
        "first_name": name,
    }
    if consent is not None:
        flat["consent"] = {"email": {"granted": consent, "changed_at": _stamp(hours)}}
    return _normalised(flat)


def _order(order: int, hours: int, total: str, currency: str, status: str) -> SourceRecord:
    return _normalised(
        {
            "source": "shop",
            "id": f"o{order}",
            "object_type": "order",
            "owner_id": "c1",
            "updated_at": _stamp(hours),
            "orders": [
                {
                    "id": f"o{order}",
                    "total": total,
                    "currency": currency,
                    "status": status,
                    "created_at": _stamp(order),
                }
            ],
        }
    )


def _normalised(flat: dict[str, Any]) -> SourceRecord:
    record = normalise_record(draft_from_flat(flat))
    assert isinstance(record, SourceRecord), record
    return record


def _fresh_folder(tmp_path: Path) -> Path:
    """A new folder for one hypothesis example's store. Named by ``id()`` of the example's data, a
    folder came round again when Python reused the address, and the example opened the SQLite file
    an earlier one had filled (a flaky failure in CI: another example's contact in the store)."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


def _kit(name: str, folder: Path) -> Iterator[StoreKit]:
    folder.mkdir(parents=True, exist_ok=True)
    return KITS[name](folder)


def _body(store: Any) -> tuple[dict[str, Any], dict[str, SourceRecord]]:
    (profile,) = list(store.iter_profiles())
    state = store.get_customers([profile.customer_id])[profile.customer_id]
    rebuilt = build_profile(profile.customer_id, state.snapshots.values(), version=profile.version)
    assert rebuilt == profile  # the stored profile is the fold of the stored snapshots
    assert state.profile_hash == profile_hash(profile)  # and its hash is the profile's
    # the id is the founding record's (docs/architecture.md): an order ahead of its contact founds another
    return profile.model_dump(exclude={"customer_id", "version"}), dict(state.snapshots)


@pytest.mark.parametrize("store", sorted(KITS))
def test_a_batch_of_one_order_reads_a_bounded_number_of_snapshots(store: str, tmp_path: Path) -> None:
    for kit in _kit(store, tmp_path / store):
        profiles = kit.profiles
        loaded: list[int] = []  # snapshots read per customer read
        profiles.get_customers = _counting(profiles.get_customers, loaded)
        profiles.get_customer_head = _counting_heads(profiles.get_customer_head, loaded)
        profiles.get_snapshots = _counting_parts(profiles.get_snapshots, loaded)
        # GIVEN a customer, THEN 30 batches that each add one order to it
        ingest_batch([_contact(0, "Ann")], profiles, NO_SLEEP)
        after: list[int] = []  # snapshots read by each batch
        for i in range(30):
            before = len(loaded)
            ingest_batch([_order(i, i + 1, "12.50", "GBP", "paid")], profiles, NO_SLEEP)
            assert len(loaded) > before  # the batch read its customer
            after.append(sum(loaded[before:]))
        # THEN the last batch read no more snapshots than the tenth (bounded by the batch)
        assert after[-1] <= after[9], after


def _counting(inner: Any, loaded: list[int]) -> Any:
    """``inner`` (a store's ``get_customers``), adding to ``loaded`` the snapshots of each read."""

    def counting(ids: Any) -> Any:
        got = inner(ids)
        loaded.append(sum(len(state.snapshots) for state in got.values()))
        return got

    return counting


def _counting_heads(inner: Any, loaded: list[int]) -> Any:
    """``inner`` (a store's ``get_customer_head``): a read of the customer, with no snapshot."""

    def counting(customer_id: str) -> Any:
        loaded.append(0)
        return inner(customer_id)

    return counting


def _counting_parts(inner: Any, loaded: list[int]) -> Any:
    """``inner`` (a store's ``get_snapshots``), adding the snapshots it read to the last read's."""

    def counting(customer_id: str, keys: Any) -> Any:
        got = inner(customer_id, keys)
        loaded[-1] += len(got)
        return got

    return counting


_ORDER = st.tuples(
    st.integers(0, 11),  # the order's id: a small pool, so later ones update earlier ones
    st.integers(-48, 48),  # its stamp, hours from T0: out of order
    st.sampled_from(["12.50", "0.99", "250.00", "-3.00"]),
    st.sampled_from(["GBP", "EUR", "USD"]),
    st.sampled_from(["paid", "paid", "refunded", "cancelled", "pending"]),
).map(lambda t: _order(*t))
_CONTACT = st.tuples(
    st.integers(-48, 48), st.sampled_from(["Ann", "Anne", "Annie"]), st.sampled_from([None, True, False])
).map(lambda t: _contact(*t))


@st.composite
def _deliveries(draw: st.DrawFn) -> list[list[SourceRecord]]:
    records = [draw(_CONTACT), *draw(st.lists(st.one_of(_ORDER, _ORDER, _CONTACT), min_size=1, max_size=30))]
    records = draw(st.permutations(records))
    batches: list[list[SourceRecord]] = []
    while records:
        size = draw(st.integers(1, 5))
        batches.append(records[:size])
        records = records[size:]
    return batches


#: How many batches core.ingest_grow planned from the profile item, over every example of a test:
#: the property must see that path taken, or it proves nothing of it.
GROWN: list[int] = []


def _check_batched_equals_one_batch(store: str, folder: Path, batches: list[list[SourceRecord]]) -> None:
    reference = InMemoryProfileStore()
    ingest_batch([r for batch in batches for r in batch], reference, NO_SLEEP)
    for kit in _kit(store, folder):
        with patch.object(ingest_plan, "grow_plan", _counting_grown(ingest_plan.grow_plan)):
            for batch in batches:
                ingest_batch(batch, kit.profiles, NO_SLEEP)
        assert _body(kit.profiles) == _body(reference)


def _counting_grown(inner: Any, counted: list[int] = GROWN) -> Any:
    """``inner`` (``ingest_plan.grow_plan``), counting in ``counted`` the plans it made."""

    def counting(*args: Any) -> Any:
        got = inner(*args)
        if got is not None:
            counted.append(1)
        return got

    return counting


@pytest.fixture
def grown_batches() -> Iterator[list[int]]:
    """The batches planned from the profile item during the test: at least one, or it fails."""
    GROWN.clear()
    yield GROWN
    assert GROWN, (
        "no batch was planned from the profile item (core.ingest_grow): the property tested only the rebuild"
    )


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=_deliveries())
def test_any_cut_into_batches_gives_the_profile_of_one_batch(
    store: str, tmp_path: Path, grown_batches: list[int], batches: list[list[SourceRecord]]
) -> None:
    _check_batched_equals_one_batch(store, _fresh_folder(tmp_path), batches)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=_deliveries())
def test_any_cut_into_batches_gives_the_profile_of_one_batch_on_dynamodb(
    tmp_path: Path, grown_batches: list[int], batches: list[list[SourceRecord]]
) -> None:
    _check_batched_equals_one_batch("dynamodb", _fresh_folder(tmp_path), batches)


def _items(store: InMemoryProfileStore) -> tuple[dict[str, Any], dict[str, Any]]:
    """The identifier items and each customer's profile item and snapshots, as the store holds them."""
    customers = {
        cid: (c.version, c.profile, c.profile_hash, c.owned, dict(c.snapshots))
        for cid, c in store._customers.items()
    }
    return dict(store._idents), customers


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=_deliveries())
def test_the_add_only_path_writes_the_items_the_full_plan_writes(
    grown_batches: list[int], batches: list[list[SourceRecord]]
) -> None:
    # GIVEN the same batches on two stores, one planned in full every time
    full, grown = InMemoryProfileStore(), InMemoryProfileStore()
    with patch.object(ingest_plan, "grow_plan", lambda *_: None):
        for batch in batches:
            ingest_batch(batch, full, NO_SLEEP)
    with patch.object(ingest_plan, "grow_plan", _counting_grown(ingest_plan.grow_plan)):
        for batch in batches:
            ingest_batch(batch, grown, NO_SLEEP)
    # THEN every identifier item (owner, hash, time, run) and every profile item and snapshot is equal
    assert _items(grown) == _items(full)
