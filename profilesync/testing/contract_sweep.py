"""The contract's full-refresh sweep tests, for a connector that declares ``ConnectorSpec.refresh_lists``.

A vendor that deletes a record without a trace a pull can read (no deletion event, no tombstone, no
archived listing: HubSpot's GDPR delete, Mailchimp's delete-permanent, Shopify's data erasure,
Klaviyo's deletion job, WooCommerce's forced delete) is caught by the full refresh alone: one that
walks every page retires the stored records of the declared types it did not list, unless that is
more than the guard allows (core.refresh_sweep). The sandbox purges records that way
(``connectors._sandbox.PurgesRecords``). A connector that declares no ``refresh_lists`` and whose
sandbox cannot purge skips these tests; one whose sandbox purges must declare it (else a purged
record stays in its profile for ever), and one that declares it must ship a sandbox that purges.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors._sandbox import Faults, PurgesRecords
from core.connector import Connector
from core.pipeline import IngestSettings
from core.ports import RETIRED_HASH
from core.refresh_sweep import SweepGuard, SweepReport
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import PullReport, pull_into_store
from profilesync.testing.contract_harness import T_CHANGES, ContractHarness


class _Synced:
    """A store synced from the sandbox, and the pulls into it."""

    def __init__(self, connector: Connector) -> None:
        self.connector = connector
        self.store, self.state = InMemoryProfileStore(), InMemorySyncStateStore()
        self.erasure = InMemoryErasureStore(self.store, self.state)
        self.settings = IngestSettings(sleep=lambda _: None)

    def pull(self, cursor: str | None = "", **options: Any) -> PullReport:
        """An incremental pull (``cursor`` ``""``: the saved one), or a full refresh (None)."""
        more: dict[str, Any] = {} if cursor == "" else {"cursor": cursor}
        return pull_into_store(
            self.connector,
            self.store,
            self.state,
            settings=self.settings,
            erasure=self.erasure,
            **more,
            **options,
        )

    def held(self) -> set[str]:
        """The stored records, as ``<object type>:<id>`` (sandbox record keys)."""
        return {f"{ref.object_type}:{ref.id}" for p in self.store.iter_profiles() for ref in p.sources}

    def retired(self, key: str) -> bool:
        """Whether the record of this sandbox key is in no profile, its id naming no live record."""
        stored = f"source#{self.connector.spec.name}:{key}"
        link = self.store.get_owners([stored]).get(stored)
        return key not in self.held() and (link is None or link.record_hash == RETIRED_HASH)


def _sweep(run: PullReport) -> SweepReport:
    """The sweep of a completed full refresh (failing when there was none)."""
    assert run.sweep is not None, f"a full refresh swept nothing (refresh_lists declared?): {run.as_json()}"
    return run.sweep


class RefreshSweepContract(ContractHarness):
    """The full refresh's sweep; see the module docstring."""

    def _synced(self, sandbox: Any, connector: Connector) -> tuple[_Synced, list[str]]:
        """The sandbox synced into a store, and the stored records of the declared types, sorted."""
        spec = self.plugin.spec
        purges = isinstance(sandbox, PurgesRecords)
        if not spec.refresh_lists and not purges:
            pytest.skip(f"{spec.name} declares no refresh_lists and its sandbox purges no record")
        assert purges, (
            f"{spec.name} declares refresh_lists, so its sandbox must purge records without a trace "
            "(connectors._sandbox.PurgesRecords) for the contract to check the sweep"
        )
        synced = _Synced(connector)
        first = synced.pull()
        assert first.full_refresh, first.as_json()
        types = spec.refresh_lists or {key.split(":", 1)[0] for key in sandbox.record_keys()}
        declared = sorted(k for k in synced.held() if k.split(":", 1)[0] in types)
        assert len(declared) >= 20, f"the sandbox seeded {len(declared)} records of {sorted(types)}"
        return synced, declared

    def test_a_full_refresh_retires_a_record_purged_at_the_vendor_and_keeps_the_others(
        self, sandbox: Any, connector: Connector
    ) -> None:
        # GIVEN a store synced from the tool, and one of its records purged there without a trace
        synced, declared = self._synced(sandbox, connector)
        held = synced.held()
        gone = declared[len(declared) // 2]
        sandbox.purge_records({gone})
        assert gone not in sandbox.record_keys()
        # AND an incremental pull that, the vendor reporting nothing, retires nothing
        quiet = synced.pull()
        assert quiet.retired is None or quiet.retired.retired == 0, (
            f"an incremental pull retired a purged record: the sandbox's purge left a trace {quiet.as_json()}"
        )
        assert quiet.sweep is None, quiet.as_json()
        # WHEN a full refresh completes
        run = synced.pull(None)
        # THEN that record alone is retired, and every other stored record stays
        swept = _sweep(run)
        assert (swept.refused, swept.unlisted, swept.swept) == (None, 1, 1), run.as_json()
        assert synced.retired(gone)
        assert synced.held() == held - {gone}
        # AND the next full refresh retires nothing more
        again = synced.pull(None)
        assert _sweep(again).swept == 0, again.as_json()
        assert synced.held() == held - {gone}

    def test_a_full_refresh_that_would_retire_more_than_the_guard_allows_retires_nothing_and_says_why(
        self, sandbox: Any, connector: Connector
    ) -> None:
        # GIVEN a store synced from the tool, and more of its records purged there than the guard
        # lets one sweep retire (10% of the stored records of a type, and more than 5)
        synced, declared = self._synced(sandbox, connector)
        held = synced.held()
        guard = SweepGuard()
        too_many = max(guard.always_allowed, int(guard.max_fraction * len(declared))) + 1
        gone = set(declared[1::2][:too_many])
        assert len(gone) == too_many
        sandbox.purge_records(gone)
        # WHEN a full refresh completes
        run = synced.pull(None)
        # THEN nothing is retired, and the run says why and how to allow it
        assert (_sweep(run).swept, _sweep(run).unlisted) == (0, too_many), run.as_json()
        refused = json.loads(run.as_json())["sweep"].get("refused", "")
        assert "nothing was retired" in refused, run.as_json()
        assert "--allow-mass-retirement" in refused, run.as_json()
        assert synced.held() == held
        # AND the operator who allows it retires exactly those records
        allowed = synced.pull(None, sweep=SweepGuard(allow_mass=True))
        assert _sweep(allowed).swept == too_many, allowed.as_json()
        assert synced.held() == held - gone

    @pytest.mark.parametrize("how", ["a page failing", "max_pages"])
    def test_a_full_refresh_cut_short_retires_nothing(
        self, sandbox: Any, connector: Connector, how: str
    ) -> None:
        # GIVEN a store synced from a tool holding more than two pages of records, and one of them
        # purged there without a trace
        sandbox.add_records(2 * self.page_size(sandbox) + 1, at=T_CHANGES)
        synced, declared = self._synced(sandbox, connector)
        held = synced.held()
        gone = declared[len(declared) // 3]
        sandbox.purge_records({gone})

        # WHEN a full refresh is cut short after its first page: every later request answered 500
        # (the retries exhausted, the pull fails), or stopped by max_pages (a Lambda's time)
        def fail_after_the_first_page(report: PullReport) -> None:
            sandbox.faults = Faults(server_error=1.0)

        if how == "max_pages":
            short = synced.pull(None, max_pages=1)
            assert (short.pages, short.sweep) == (1, None), short.as_json()
        else:
            with pytest.raises(Exception) as failed:  # noqa: PT011 - whatever a connector raises for it
                synced.pull(None, progress=fail_after_the_first_page)
            assert sandbox.stats.requests, failed.value
            sandbox.faults = Faults()
        # THEN nothing is retired: the refresh did not list everything
        assert synced.held() == held
        # AND a full refresh that completes then retires the purged record
        run = synced.pull(None)
        assert _sweep(run).swept == 1, run.as_json()
        assert synced.held() == held - {gone}


__all__ = ["RefreshSweepContract"]
