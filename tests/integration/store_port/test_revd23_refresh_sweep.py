"""revD23: a full refresh's sweep (core.refresh_sweep) against a connector that lists two types.

``ConnectorSpec.refresh_lists`` is a set of object types, and the guard's promise is per listing:
"a vendor that answers an empty list by mistake must not empty the store". A connector whose
contacts list answers in full while its companies list answers empty (a scope missing from the
token, a filter gone wrong) must not lose its companies because the contacts outnumber them.
Run on the three stores (``kit``) through ``core.sync.pull_into_store``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from core.connector import ConnectorSpec, RawPage
from core.ports import ProfileStore
from core.refresh_sweep import SweepGuard
from core.schema import RecordDraft
from core.sync import PullReport, pull_into_store
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.pull_only import PullOnly, erasure_of

SOURCE = "crm2"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


class TwoListsConnector(PullOnly):
    """A full refresh lists ``held[type]`` for each of its two types, one page a type."""

    def __init__(self, held: dict[str, list[str]]) -> None:
        self.held = held
        self.spec = ConnectorSpec(
            name=SOURCE,
            kind="crm",
            description="a vendor with contacts and companies",
            default_base_url="https://crm.test",
            capabilities=frozenset({"pull"}),
            refresh_lists=frozenset({"contact", "company"}),
        )

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        for object_type in ("contact", "company"):
            ids = self.held[object_type]
            yield RawPage([{"id": i} for i in ids], cursor=f"{object_type}-done", object_type=object_type)

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        kind = page.object_type or "contact"
        return [
            RecordDraft(
                source=SOURCE,
                object_type=kind,
                source_id=r["id"],
                updated_at=(T0 + timedelta(seconds=int(r["id"]))).isoformat(),
                emails=[f"{kind}{r['id']}@example.com"],
            )
            for r in page.records
        ]


def _held(store: ProfileStore, object_type: str) -> set[str]:
    return {r.id for p in store.iter_profiles() for r in p.sources if r.object_type == object_type}


def _refresh(kit: StoreKit, connector: TwoListsConnector, guard: SweepGuard | None = None) -> PullReport:
    erasure = erasure_of(kit)
    return pull_into_store(connector, kit.profiles, kit.sync_state, cursor=None, erasure=erasure, sweep=guard)


def test_a_type_whose_list_answered_empty_keeps_its_records_whatever_the_other_type_lists(
    kit: StoreKit,
) -> None:
    # GIVEN 20 contacts and 2 companies stored by a first full refresh
    held = {"contact": [str(i) for i in range(1, 21)], "company": ["101", "102"]}
    connector = TwoListsConnector(held)
    _refresh(kit, connector)
    assert len(_held(kit.profiles, "company")) == 2
    # WHEN a full refresh lists every contact but its companies list answers empty (a guard with
    # no small-account allowance: the 10% rule alone)
    held["company"] = []
    run = _refresh(kit, connector, SweepGuard(always_allowed=0))
    # THEN the companies are kept (2 of 22 is under 10% of the whole, but all of one listing),
    # and the report says why nothing was retired
    assert run.sweep is not None
    assert (run.sweep.unlisted, run.sweep.swept) == (2, 0)
    assert run.sweep.refused is not None
    assert "'company'" in run.sweep.refused
    assert "listed no record" in run.sweep.refused
    assert len(_held(kit.profiles, "company")) == 2
    # AND a company really deleted while the other is listed is still retired
    held["company"] = ["101"]
    run = _refresh(kit, connector)
    assert run.sweep is not None
    assert run.sweep.refused is None
    assert run.sweep.swept == 1
    assert _held(kit.profiles, "company") == {"101"}
    assert len(_held(kit.profiles, "contact")) == 20
    # AND the next refresh counts the records the store holds, the retired one no longer among them
    again = _refresh(kit, connector).sweep
    assert again is not None
    assert (again.stored, again.unlisted) == (21, 0)
