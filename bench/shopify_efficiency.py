"""Shopify connector efficiency: pull time against what the cost bucket allows, API calls per push.

Pull: the sandbox is served over HTTP with Shopify's Standard plan (a 2,000-point bucket restored at
100 points/s, https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits), and the connector
paces itself with its cost limiter. The least time the bucket allows is computed from the requests
the sandbox answered, as if sent with no latency: each waits until the bucket holds its requested
cost (Shopify reserves that much before running a query), then spends its actual cost; the bucket
starts full. Targets: wall time at most 1.15x the least time, and no THROTTLED answer.

Push: profiles built from the sandbox's own records (pull, normalise, ingest) are pushed through
``core.sync.push_profiles`` into a shop without the profilesync metafield definitions, counting every
GraphQL call (definitions lookup and creation included) against one metafieldsSet per
``push_batch_size`` (3) changed profiles. Targets: at most 1.1x that, and no call at all when the same
profiles are pushed again.

    python -m bench.shopify_efficiency [--people 500] [--push-people 1200]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time

from connectors._sandbox import serve
from connectors.shopify import PLUGIN, ShopifyConnector, make_sandbox
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import push_profiles

PULL_TARGET = 1.15
PUSH_TARGET = 1.1


def pull_efficiency(people: int) -> bool:
    sandbox = make_sandbox(people=people, seed=7)  # Standard plan at the published rate
    with serve(sandbox) as server:
        settings = dataclasses.replace(sandbox.settings(transport=False), base_url=server.url)
        with ShopifyConnector(settings) as connector:
            started = time.perf_counter()
            records = sum(len(page.records) for page in connector.pull(None))
            wall = time.perf_counter() - started
    least = sandbox.least_seconds()
    ratio = wall / least if least else float("inf")
    points = sum(actual for _, actual in sandbox.cost_log)
    throttled = sandbox.stats.limit_throttled
    print(f"pull: {records} records (customers and orders) over HTTP, Standard plan (2,000 points, 100/s)")
    print(f"  requests {len(sandbox.cost_log)}, points spent {points}, largest page requested 998 points")
    print(f"  wall time {wall:.2f} s, least the bucket allows {least:.2f} s")
    print(f"  pull time vs least: ratio {ratio:.3f} (target <= {PULL_TARGET})")
    print(f"  throttled answers: {throttled} (target 0)")
    return ratio <= PULL_TARGET and throttled == 0


def push_efficiency(people: int) -> bool:
    sandbox = make_sandbox(people=people, seed=7, rate_scale=1000.0)  # pacing is measured above
    connector = PLUGIN.build(sandbox.settings())
    assert isinstance(connector, ShopifyConnector)
    store = InMemoryProfileStore()
    for page in connector.pull(None):
        records = [
            r
            for r in (normalise_record(d) for d in connector.to_records(page))
            if isinstance(r, SourceRecord)
        ]
        ingest(records, store, IngestSettings(sleep=lambda _: None))
    profiles = list(store.iter_profiles())
    state = InMemorySyncStateStore()
    before = sum(connector.calls.values())
    first = push_profiles(connector, profiles, state)
    calls = sum(connector.calls.values()) - before
    setup = connector.calls["metafieldDefinitions"] + connector.calls["metafieldDefinitionCreate"]
    requests_before = sandbox.stats.requests
    second = push_profiles(connector, profiles, state)
    second_requests = sandbox.stats.requests - requests_before
    batch = PLUGIN.spec.push_batch_size
    floor = first.sent / batch
    ratio = calls / floor if floor else float("inf")
    print(f"push: {len(profiles)} profiles, {first.sent} with a Shopify customer, {len(first.failed)} failed")
    print(
        f"  API calls {calls} ({connector.calls['metafieldsSet']} metafieldsSet of up to {batch} profiles, "
        f"{setup} to define the metafields once)"
    )
    print(
        f"  calls per changed profile {calls / first.sent:.4f} vs 1/{batch}: "
        f"ratio {ratio:.3f} (target <= {PUSH_TARGET})"
    )
    print(f"  second push of the same profiles: {second.calls} pushes, {second_requests} requests (target 0)")
    connector.close()
    return ratio <= PUSH_TARGET and second.calls == 0 and second_requests == 0 and not first.failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=500, help="people in the pulled shop (about 11 s)")
    parser.add_argument("--push-people", type=int, default=1200, help="people whose profiles are pushed")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    ok = pull_efficiency(args.people)
    ok = push_efficiency(args.push_people) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
