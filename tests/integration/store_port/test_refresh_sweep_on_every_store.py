"""A full refresh that completes retires the stored records it did not list (core.refresh_sweep).

Run on the three stores (``kit``): a connector of the test's own (a fake at the connector port: it
lists what the test says the vendor holds) is pulled with ``core.sync.pull_into_store`` as
``profilesync sync`` pulls it, with an erasure store so that retirements apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.connector import ConnectorSpec, RawPage
from core.normalise import normalise_record
from core.pipeline import ingest
from core.ports import ProfileStore, SyncStateStore
from core.privacy_store import ErasureStore
from core.refresh_sweep import SweepGuard
from core.schema import RecordDraft, SourceRecord
from core.sync import PullReport, pull_into_store
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.pull_only import PullOnly, erasure_of

SOURCE = "crm"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Vendor:
    """What the vendor holds: record id -> its last change; ``fail_after`` pages, then an error."""

    records: dict[str, datetime] = field(default_factory=dict)
    page_size: int = 100
    fail_after: int | None = None
    during_walk: Any = None
    """Called after the first page is served (a record created or changed while the walk goes on)."""


class ListingConnector(PullOnly):
    """A connector whose full refresh lists every record ``vendor`` holds, ``page_size`` a page."""

    def __init__(self, vendor: Vendor, refresh_lists: frozenset[str] = frozenset({"contact"})) -> None:
        self.vendor = vendor
        self.spec = ConnectorSpec(
            name=SOURCE,
            kind="crm",
            description="test vendor",
            default_base_url="https://crm.test",
            capabilities=frozenset({"pull"}),
            refresh_lists=refresh_lists,
        )

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        ids = sorted(self.vendor.records, key=int)
        for page, at in enumerate(range(0, len(ids), self.vendor.page_size)):
            if self.vendor.fail_after is not None and page >= self.vendor.fail_after:
                raise ConnectionError("the vendor answered 503")
            chunk = ids[at : at + self.vendor.page_size]
            yield RawPage(
                [{"id": i, "at": self.vendor.records[i].isoformat()} for i in chunk],
                cursor=f"page-{page + 1}",
            )
            if page == 0 and self.vendor.during_walk is not None:
                self.vendor.during_walk()

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        return [
            RecordDraft(
                source=SOURCE,
                source_id=r["id"],
                updated_at=r["at"],
                emails=[f"person{r['id']}@example.com"],
                traits={"first_name": f"P{r['id']}"},
            )
            for r in page.records
        ]


def _sync(kit: StoreKit, vendor: Vendor, **kw: Any) -> PullReport:
    return _pull(kit.profiles, kit.sync_state, erasure_of(kit), vendor, **kw)


def _pull(
    store: ProfileStore, state: SyncStateStore, erasure: ErasureStore, vendor: Vendor, **kw: Any
) -> PullReport:
    return pull_into_store(ListingConnector(vendor), store, state, erasure=erasure, **kw)


def _held(kit: StoreKit) -> set[str]:
    return {ref.id for p in kit.profiles.iter_profiles() for ref in p.sources}


def _emails(kit: StoreKit) -> set[str]:
    return {i.value for p in kit.profiles.iter_profiles() for i in p.identifiers if i.kind == "email"}


def _vendor(n: int, page_size: int = 100) -> Vendor:
    return Vendor({str(i): T0 + timedelta(seconds=i) for i in range(1, n + 1)}, page_size=page_size)


def test_a_completed_refresh_retires_what_it_did_not_list_and_her_values_go(kit: StoreKit) -> None:
    # GIVEN 20 records stored
    vendor = _vendor(20, page_size=7)
    _sync(kit, vendor)
    assert len(_held(kit)) == 20
    # AND two deleted inside the vendor, leaving no trace a pull reads
    del vendor.records["4"], vendor.records["17"]
    # WHEN an incremental pull and then a full refresh run
    _sync(kit, vendor)
    assert len(_held(kit)) == 20  # (an incremental pull cannot see them)
    run = _sync(kit, vendor, cursor=None)
    # THEN the two are retired, their values gone with them, and the others kept
    assert run.sweep is not None
    assert run.sweep.as_dict() == {
        "listed": 18,
        "stored": 20,
        "unlisted": 2,
        "swept": 2,
    }
    assert run.retired is not None
    assert run.retired.retired == 2
    assert _held(kit) == set(vendor.records)
    assert "person4@example.com" not in _emails(kit)
    assert "person17@example.com" not in _emails(kit)
    assert kit.profiles.get_owners(["email#person4@example.com", "source#crm:contact:4"]) == {}
    assert '"sweep"' in kit.sync_state.get_sync_state(SOURCE).report


@pytest.mark.parametrize("cut", ["max_pages", "error"])
def test_a_refresh_cut_short_or_failed_retires_nothing(kit: StoreKit, cut: str) -> None:
    # GIVEN 20 records stored, 3 of them since deleted at the vendor
    vendor = _vendor(20, page_size=5)
    _sync(kit, vendor)
    for gone in ("2", "9", "20"):
        del vendor.records[gone]
    # WHEN a full refresh is cut short after 2 of its 4 pages, or the vendor fails on the third
    if cut == "max_pages":
        run = _sync(kit, vendor, cursor=None, max_pages=2)
        assert run.sweep is None
    else:
        vendor.fail_after = 2
        with pytest.raises(ConnectionError):
            _sync(kit, vendor, cursor=None)
    # THEN nothing was retired: the records it had not reached yet are not taken for deleted
    assert len(_held(kit)) == 20


def test_an_empty_answer_trips_the_guard_and_the_flag_lets_it_through(kit: StoreKit) -> None:
    # GIVEN 8 records stored (fewer than the few a sweep may always retire)
    vendor = _vendor(8)
    _sync(kit, vendor)
    # WHEN the vendor answers an empty list to a full refresh
    listed = dict(vendor.records)
    vendor.records.clear()
    run = _sync(kit, vendor, cursor=None)
    # THEN nothing is retired, and the report says why
    assert run.sweep is not None
    assert run.sweep.swept == 0
    assert run.retired is None
    assert run.sweep.refused is not None
    assert "listed no record" in run.sweep.refused
    assert len(_held(kit)) == 8
    # AND a refresh that lists them again changes nothing; one with the explicit flag empties it
    vendor.records.update(listed)
    assert _sync(kit, vendor, cursor=None).sweep.unlisted == 0  # type: ignore[union-attr]
    vendor.records.clear()
    run = _sync(kit, vendor, cursor=None, sweep=SweepGuard(allow_mass=True))
    assert run.sweep is not None
    assert run.sweep.swept == 8
    assert _held(kit) == set()


def test_more_than_the_safety_fraction_unlisted_retires_nothing(kit: StoreKit) -> None:
    # GIVEN 60 records stored, and a refresh that lists only 40 of them (a filter gone wrong)
    vendor = _vendor(60, page_size=20)
    _sync(kit, vendor)
    for gone in [str(i) for i in range(41, 61)]:
        del vendor.records[gone]
    # WHEN it completes
    run = _sync(kit, vendor, cursor=None)
    # THEN a third unlisted is over the 10% guard: nothing retired
    assert run.sweep is not None
    assert run.sweep.unlisted == 20
    assert run.sweep.swept == 0
    assert run.sweep.refused is not None
    assert "20 of the 60" in run.sweep.refused
    assert len(_held(kit)) == 60
    # AND with a guard of 50% they go
    run = _sync(kit, vendor, cursor=None, sweep=SweepGuard(max_fraction=0.5))
    assert run.sweep is not None
    assert run.sweep.swept == 20
    assert len(_held(kit)) == 40


def test_a_record_created_during_the_refresh_is_not_retired(kit: StoreKit) -> None:
    # GIVEN 10 records stored
    vendor = _vendor(10, page_size=5)
    erasure = erasure_of(kit)
    _pull(kit.profiles, kit.sync_state, erasure, vendor)
    refresh = ListingConnector(vendor)

    def created_now() -> None:
        # A record created at the vendor after the walk began, on a page it already passed (the
        # refresh does not list it), and stored by another run while the refresh goes on.
        vendor.records["0"] = datetime.now(UTC)
        (draft,) = refresh.to_records(RawPage([{"id": "0", "at": vendor.records["0"].isoformat()}], None))
        record = normalise_record(draft)
        assert isinstance(record, SourceRecord)
        ingest([record], kit.profiles)
        vendor.during_walk = None

    vendor.during_walk = created_now
    # WHEN the refresh completes without having listed it
    run = pull_into_store(refresh, kit.profiles, kit.sync_state, cursor=None, erasure=erasure)
    # THEN it is found unlisted but kept: its stored version is newer than the refresh's start
    assert run.sweep is not None
    assert run.sweep.unlisted == 1
    assert run.retired is not None
    assert run.retired.stale == 1
    assert run.retired.retired == 0
    assert "0" in _held(kit)
    assert len(_held(kit)) == 11


def test_a_connector_that_declares_no_complete_listing_sweeps_nothing(kit: StoreKit) -> None:
    vendor = _vendor(6)
    _sync(kit, vendor)
    del vendor.records["3"]
    connector = ListingConnector(vendor, refresh_lists=frozenset())
    run = pull_into_store(connector, kit.profiles, kit.sync_state, cursor=None, erasure=erasure_of(kit))
    assert run.sweep is None
    assert len(_held(kit)) == 6
