"""Stripe full refresh (``sync --full``): what reading the events Stripe holds adds to a full pull.

A full pull dates each customer and charge it lists by its newest event Stripe held when it began,
and retires the customers deleted since the last sync (``connectors/stripe/_full_dates.py``): one
walk of ``GET /v1/events?types[]=customer.updated&types[]=charge.refunded&types[]=customer.deleted``
(30 days of them, 100 a request) before the lists. This counts a full pull's requests by kind on a
big sandbox with a month of changes, and the least time they take at Stripe's read limits (25
requests/s in test mode, 100 in live mode; the connector paces at 24, one short of the window).

    python -m bench.stripe_full_refresh [--people 20000] [--renamed 3000] [--refunded 1000] [--deleted 300]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx

from connectors.stripe import DECLARATION, StripeConnector, make_sandbox

AT = datetime(2026, 11, 1, tzinfo=UTC)
TEST_MODE, LIVE_MODE = 24, 99  # requests a second the connector's pacing allows (one short)


def run(people: int, renamed: int, refunded: int, deleted: int) -> None:
    sandbox = make_sandbox(people=people, seed=7, requests_per_second=1_000_000)
    customers = sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))
    charges = sorted(k for k in sandbox.record_keys() if k.startswith("charge:"))
    # A month of changes, a few a second apart, as a busy account makes them.
    for n, key in enumerate(customers[:renamed]):
        sandbox.touch({key}, at=AT + timedelta(seconds=n * 7))
    for n, key in enumerate(charges[:refunded]):
        sandbox.touch({key}, at=AT + timedelta(seconds=n * 11))
    sandbox.delete_records(set(customers[-deleted:]) if deleted else set(), at=AT + timedelta(days=20))
    kinds: Counter[str] = Counter()
    handle = sandbox.handle

    def counted(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        kind = request.url.path
        if kind == "/v1/events":
            kind += (
                " (types[]: the dating walk)"
                if "types[0]" in params
                else " (type: the event streams)"
                if "type" in params
                else " (the newest second)"
            )
        kinds[kind] += 1
        return handle(request)

    sandbox.handle = counted  # type: ignore[method-assign]
    # Unpaced: this counts requests; the least time at Stripe's limits is computed from them.
    unpaced = dataclasses.replace(DECLARATION, account_limits=())
    with StripeConnector(unpaced, sandbox.settings()) as connector:
        cpu, wall = time.process_time(), time.perf_counter()
        pages = list(connector.pull(None))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    records = Counter(p.object_type for p in pages for _ in p.records)
    total = sum(kinds.values())
    walk = kinds["/v1/events (types[]: the dating walk)"]
    print(f"sandbox: {len(customers)} customers, {len(charges)} charges, {len(sandbox.events)} events")
    print(f"records pulled: {dict(records)}")
    print(f"{'requests':<44}{'count':>8}")
    for kind, count in sorted(kinds.items()):
        print(f"{kind:<44}{count:>8}")
    print(f"{'total':<44}{total:>8}")
    without = total - walk
    print(
        f"the dating walk adds {walk} requests to {without} ({walk / without:.2f}x): "
        f"{walk / TEST_MODE:.1f} s at test mode's pace, {walk / LIVE_MODE:.1f} s at live mode's"
    )
    least = total / TEST_MODE
    print(f"full pull: {least:.1f} s least at test mode's pace; this run {cpu:.2f} s CPU, {wall:.2f} s wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--renamed", type=int, default=3_000)
    parser.add_argument("--refunded", type=int, default=1_000)
    parser.add_argument("--deleted", type=int, default=300)
    args = parser.parse_args()
    run(args.people, args.renamed, args.refunded, args.deleted)


if __name__ == "__main__":
    main()
