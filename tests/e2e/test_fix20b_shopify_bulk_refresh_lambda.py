"""fix20b: a Shopify full refresh whose bulk operation outlives the invocation that started it sweeps.

The pull function swept only a refresh that walked every page in one invocation. A large shop's
refresh runs a bulk operation (``bulkOperationRunQuery``), which takes minutes to hours; the
invocation that started it ran out of time while polling, and the runs after it polled the same
operation from the cursor (its id is there) but, resuming a cursor, marked nothing: the customers
deleted at Shopify were never retired. Now the connector yields between polls (the pull stops at its
time margin, the next schedule polls again), the run that reads the export from its first line marks
what it lists (``refresh_began``), and sweeps once the customers are read (``refresh_listed``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.shopify import ShopifySandbox
from core.connector import ConnectorSettings
from profilesync.local import LocalRuntime
from profilesync.local_lambda import LocalContext

pytestmark = pytest.mark.slow


class BulkShop(ShopifySandbox):
    """A shop whose connector exports by bulk operation from 10 records (Shopify's default: 10,000)."""

    def settings(self, transport: bool = True) -> ConnectorSettings:
        base = super().settings(transport)
        return ConnectorSettings(
            credentials=base.credentials,
            options={**base.options, "bulk_threshold": "10"},
            transport=base.transport,
        )


def _running(shop: ShopifySandbox) -> bool:
    with shop.lock:
        return any(o["status"] in ("CREATED", "RUNNING") for o in shop.bulk_operations.values())


def _customers(rt: LocalRuntime) -> set[str]:
    return {
        ref.id
        for p in rt.wiring.profiles.iter_profiles()
        for ref in p.sources
        if ref.object_type == "customer"
    }


def _report(rt: LocalRuntime) -> dict[str, Any]:
    saved = rt.wiring.sync_state.get_sync_state("shopify")
    return json.loads(saved.report or "{}")


class TimedOutError(Exception):
    """Lambda ended the invocation at its timeout (here: while it waited on a running operation)."""


def test_a_bulk_refresh_polled_over_several_runs_retires_the_customers_deleted_at_shopify(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = BulkShop(people=30, seed=5, rate_scale=1000.0, bulk_polls=4)
    timed: list[bool] = []

    def wait(seconds: float) -> None:
        # Once timed: an invocation that waits on an operation still running reaches its timeout
        # and is ended (the operation outlives it); any other wait is skipped
        if timed and _running(shop):
            raise TimedOutError(f"waited {seconds} s on a running bulk operation")

    # GIVEN a shop synced by the functions, then two of its customers erased at Shopify (no trace)
    with LocalRuntime({"shopify": shop}, connector_sleep=wait) as rt:
        assert rt.pull("shopify").status == "done"
        rt.settle()
        held = _customers(rt)
        gone = sorted(held)[:2]
        shop.purge_records({f"customer:{n}" for n in gone})
        # AND an invocation's time is short whenever a bulk operation is running
        timed.append(True)
        real = LocalContext.get_remaining_time_in_millis
        monkeypatch.setattr(
            LocalContext, "get_remaining_time_in_millis", lambda self: 0 if _running(shop) else real(self)
        )
        operations = len(shop.bulk_operations)
        # WHEN a full refresh is asked for, again while it runs, and the schedule fires until the
        # operations are over
        results = [rt._run_pull({"connector": "shopify", "full_refresh": True}) for _ in range(2)]
        while len(results) < 12 and (_running(shop) or results[-1].status != "done"):
            results.append(rt.pull("shopify"))
        rt.settle()
        # THEN the refresh went on over several runs, none of them failing, with one operation per
        # stream (the second request started none beside the first: before, it started another)
        assert [r.failed_invocations for r in results] == [0] * len(results)
        assert len(results) >= 4
        assert len(shop.bulk_operations) - operations == 2
        # AND the run that read the customers' export swept: the two erased customers are retired
        # (before, a refresh resumed from a cursor marked nothing and swept nothing)
        assert _customers(rt) == held - set(gone)
