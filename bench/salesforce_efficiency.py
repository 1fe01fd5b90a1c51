"""Salesforce connector efficiency: API requests against the org's daily allocation, per pull and push.

Salesforce publishes no per-second rate for its REST API: what a sync spends is the org's daily API
request allocation (a rolling 24 h, shared with every other integration; "API Request Limits and
Allocations"), and the query API returns at most 2,000 records a request ("Query"). So the least a
pull of N records of an object can spend is ceil(N / 2,000) requests; the ratio printed is the
requests the sandbox counted in ``Sforce-Limit-Info`` over that least, summed over Contacts, Leads and
Opportunities (target <= 1.15), with no 403 ``REQUEST_LIMIT_EXCEEDED`` answer. A first pull above
``bulk_threshold`` runs one Bulk API 2.0 job instead (create, two status reads, one request per
10,000-record result set) and spends less than the query API's least. A last pull starts with the org
at 95% of its allocation: the connector must stop before its 10% reserve, again with no refusal.

Push: profiles pushed through ``core.sync.push_profiles`` into an org without the ProfileSync fields,
counting every API call (field setup included) against one sObject Collections request per 200
changed profiles (target <= 1.1x), and no call when the same profiles are pushed again.

The incremental pull asks from its watermark inclusively (``>=``, so records sharing the last second
are never missed): it reads the record(s) on the watermark once more, which costs one extra request
only when the changes fill their last batch exactly (6,000 changes: 4 requests where 3 would do).

The sandbox is served over HTTP on 127.0.0.1; wall times are printed for reference only (the machine
is shared). ``python -m bench.salesforce_efficiency [--people 20000] [--changed 3000] [--profiles 9000]``
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

from connectors._http import AllowanceExhaustedError
from connectors._sandbox import serve
from connectors.salesforce import SalesforceConnector, SalesforceSandbox
from core.schema import ComputedTraits, Identifier, Profile
from core.storage.memory import InMemorySyncStateStore
from core.sync import push_profiles

PULL_TARGET = 1.15
PUSH_TARGET = 1.1
QUERY_BATCH = 2000
PUSH_BATCH = 200


def _live(org: SalesforceSandbox) -> dict[str, int]:
    counts = {}
    for name in ("Contact", "Lead", "Opportunity"):
        rows = [r for r in org.objects[name].values() if name != "Opportunity" or r["ContactId"]]
        counts[name] = len(rows)  # queryAll returns deleted rows too
    return counts


def least_requests(counts: dict[str, int]) -> int:
    return sum(max(1, math.ceil(n / QUERY_BATCH)) for n in counts.values())


def _refused(org: SalesforceSandbox) -> int:
    return org.stats.limit_throttled


def bench_pull(people: int, changed: int, bulk_threshold: int) -> list[tuple[str, int, int, int, float, int]]:
    org = SalesforceSandbox(people=people, seed=7, daily_limit=1_000_000)
    rows = []
    with serve(org) as server:
        settings = dataclasses.replace(org.settings(transport=False), base_url=server.url)
        rest = dataclasses.replace(settings, options={"bulk_threshold": str(10**9)})
        for name, chosen in (
            ("full (query API)", rest),
            (
                "full (bulk job)",
                dataclasses.replace(settings, options={"bulk_threshold": str(bulk_threshold)}),
            ),
        ):
            with SalesforceConnector(chosen) as salesforce:
                before, refused = org.api_usage, _refused(org)
                started = time.perf_counter()
                pages = list(salesforce.pull(None))
                elapsed = time.perf_counter() - started
                records = sum(len(p.records) for p in pages)
                rows.append(
                    (
                        name,
                        records,
                        org.api_usage - before,
                        least_requests(_live(org)),
                        elapsed,
                        _refused(org) - refused,
                    )
                )
                cursor = pages[-1].cursor
        org.add_records(changed)
        with SalesforceConnector(rest) as salesforce:
            before, refused = org.api_usage, _refused(org)
            started = time.perf_counter()
            pages = list(salesforce.pull(cursor))
            elapsed = time.perf_counter() - started
            records = sum(len(p.records) for p in pages)
            least = least_requests({"Contact": changed, "Lead": 0, "Opportunity": 0})
            rows.append(
                ("incremental", records, org.api_usage - before, least, elapsed, _refused(org) - refused)
            )
        # An org other integrations have brought to five requests short of the connector's 10% reserve.
        org.api_usage = int(org.daily_limit * 0.9) - 5
        with SalesforceConnector(rest) as salesforce:
            before, refused, records = org.api_usage, _refused(org), 0
            stopped = False
            try:
                for page in salesforce.pull(None):
                    records += len(page.records)
            except AllowanceExhaustedError:
                stopped = True
            left = org.daily_limit - org.api_usage
            rows.append(
                (
                    f"near the limit ({'stopped' if stopped else 'ran'}, {left} left)",
                    records,
                    org.api_usage - before,
                    0,
                    0.0,
                    _refused(org) - refused,
                )
            )
    return rows


def _profile(n: int, segment: str = "customer") -> Profile:
    return Profile(
        customer_id=f"cus_{n:06d}",
        identifiers=(Identifier(kind="email", value=f"bench{n}@example.com"),),
        computed=ComputedTraits(
            lifetime_value={"GBP": Decimal(n % 500) + Decimal("0.99")},
            order_count=n % 9,
            last_order_at=datetime(2026, 3, 1 + n % 28, tzinfo=UTC),
            average_order_value={"GBP": Decimal("12.50")},
            segment=segment,
        ),
    )


def bench_push(count: int) -> tuple[int, int, int, int, int]:
    org = SalesforceSandbox(people=10, seed=7, daily_limit=1_000_000)
    profiles = [_profile(n) for n in range(count)]
    state = InMemorySyncStateStore()
    with SalesforceConnector(org.settings()) as salesforce:
        before = org.api_usage
        first = push_profiles(salesforce, profiles, state)
        first_calls = org.api_usage - before
        before = org.api_usage
        again = push_profiles(salesforce, profiles, state)
        unchanged_calls = org.api_usage - before
    changed = [_profile(n, segment="repeat") for n in range(count)]
    with SalesforceConnector(org.settings()) as salesforce:
        before = org.api_usage
        push_profiles(salesforce, changed, state)
        steady_calls = org.api_usage - before
    assert not first.failed, first.failed[:3]
    assert again.calls == 0
    return first.sent, first_calls, unchanged_calls, steady_calls, _refused(org)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--people", type=int, default=20_000, help="population size (about 70%% are in the org)"
    )
    parser.add_argument(
        "--changed", type=int, default=3_000, help="contacts added before the incremental pull"
    )
    parser.add_argument("--profiles", type=int, default=9_000, help="profiles pushed")
    parser.add_argument("--bulk-threshold", type=int, default=5_000, help="bulk_threshold of the bulk run")
    args = parser.parse_args()
    missed: list[str] = []

    print(
        "pull efficiency (HTTP sandbox; API requests counted by Sforce-Limit-Info against the least "
        "the query API allows)"
    )
    print(f"  {'pull':34} {'records':>8} {'requests':>9} {'least':>6} {'ratio':>6} {'wall s':>7} {'403s':>5}")
    for name, records, requests, least, elapsed, refused in bench_pull(
        args.people, args.changed, args.bulk_threshold
    ):
        ratio = requests / least if least else float("nan")
        print(f"  {name:34} {records:8d} {requests:9d} {least:6d} {ratio:6.3f} {elapsed:7.2f} {refused:5d}")
        if least and ratio > PULL_TARGET:
            missed.append(f"{name} spent {ratio:.3f}x the least requests (target <= {PULL_TARGET})")
        if refused:
            missed.append(f"{name} met {refused} REQUEST_LIMIT_EXCEEDED answers (target 0)")
        if name.startswith("near") and "stopped" not in name:
            missed.append("the pull near the allocation did not stop before its reserve")
    print(f"  target: requests <= {PULL_TARGET}x ceil(records / {QUERY_BATCH}) per object, 0 refused answers")

    sent, first_calls, unchanged_calls, steady_calls, refused = bench_push(args.profiles)
    floor = math.ceil(sent / PUSH_BATCH)
    ratio = first_calls / floor
    print(f"push efficiency ({sent} changed profiles, batch maximum {PUSH_BATCH})")
    print(
        f"  first push, fields created: {first_calls} calls ({first_calls - floor} setup): "
        f"ratio {ratio:.3f} (target <= {PUSH_TARGET})"
    )
    print(
        f"  steady push (new connector, fields exist): {steady_calls} calls, ratio {steady_calls / floor:.3f}"
    )
    print(f"  same profiles again: {unchanged_calls} calls (target 0); refused answers: {refused}")
    if ratio > PUSH_TARGET:
        missed.append(f"push made {ratio:.3f}x the minimum calls (target <= {PUSH_TARGET})")
    if unchanged_calls:
        missed.append(f"pushing unchanged profiles made {unchanged_calls} calls (target 0)")
    if refused:
        missed.append(f"push met {refused} refused answers (target 0)")
    for line in missed:
        print(f"MISSED: {line}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
