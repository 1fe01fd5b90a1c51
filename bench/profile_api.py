"""Profile API: p95 latency of ``GET /profiles?email=`` on the local runtime with 100k profiles, and
the DynamoDB requests and read units each call costs.

The table is the template's, in the embedded AWS (moto), holding what ingest writes for a seeded
population (core.testing.population: people in one to three tools, emails typed in varied case):
the population is resolved by the real pipeline into the in-memory store, and its items are written
into moto with the DynamoDB store's own item builder (going through moto's API item by item would
take most of an hour; what is measured is the reads). The table's stream is off: it only feeds push.

Each call is the profile API's own handler (functions/profiles.py, as ``profilesync serve-api``
runs it) answering an API Gateway HTTP API event as the support role: lookup, profile and sources,
role filter, and the read audit's write. ``--http`` also times the calls through the local HTTP
server (``profilesync serve-api``), client included. Requests per call are counted with botocore's
event hooks; read units are moto's ConsumedCapacity where it reports it, and otherwise worked out
from the item sizes with DynamoDB's rules (eventually consistent: half a unit per started 4 KB).

Targets: p95 under 200 ms (Segment's Profile API publishes that bar), at most 2 reads per call on a
live, unmerged customer. The latency ratio is noisy on a shared machine (other processes take the
cores): read it with the load average the bench prints.

    python -m bench.profile_api [--people 100000] [--calls 2000] [--http 300]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import math
import os
import random
import resource
import statistics
import time
from collections import Counter, defaultdict
from typing import Any

P95_TARGET_MS = 200.0
READS_TARGET = 2
ACCOUNT = "123456789012"
REGION = "us-east-1"
TABLE = "profilesync-bench-profiles"


def build_store(people: int, seed: int) -> tuple[Any, list[str]]:
    """The population resolved into the in-memory store, and each person's email as they typed it."""
    from connectors.jsonl import draft_from_flat
    from core.normalise import normalise_record
    from core.pipeline import IngestSettings, ingest
    from core.schema import SourceRecord
    from core.storage.memory import InMemoryProfileStore
    from core.testing.population import population

    store = InMemoryProfileStore()
    typed: dict[int, str] = {}
    batch: list[SourceRecord] = []
    settings = IngestSettings(sleep=lambda _: None)
    for person, flat in population(people, seed, malformed_share=0):
        record = normalise_record(draft_from_flat(flat))
        if not isinstance(record, SourceRecord):
            continue
        if person is not None and "email" in flat:
            typed.setdefault(person, str(flat["email"]))
        batch.append(record)
        if len(batch) == 2000:
            ingest(batch, store, settings)
            batch = []
    ingest(batch, store, settings)
    return store, list(typed.values())


def load_into_moto(store: Any, client: Any) -> int:
    """Every item the DynamoDB store would hold for ``store``'s customers, written into moto."""
    from moto.dynamodb.models import dynamodb_backends

    from core.merge import record_hash
    from core.ports import PutIdent, PutProfile, PutSource
    from core.storage.dynamodb import DynamoDBProfileStore

    builder = DynamoDBProfileStore(client, TABLE)
    table = dynamodb_backends[ACCOUNT][REGION].get_table(TABLE)
    written = 0
    customers = sorted(set(store.ident_owners().values()))
    for start in range(0, len(customers), 1000):
        for state in store.get_customers(customers[start : start + 1000]).values():
            ops: list[Any] = []
            if state.profile is not None:
                ops.append(
                    PutProfile(state.customer_id, state.profile, state.profile_hash or "", state.owned, None)
                )
            ops += [PutSource(state.customer_id, r, record_hash(r)) for r in state.snapshots.values()]
            for op in ops:
                # The store's own item builder: the layout cannot drift from what ingest writes.
                table.put_item(builder._transact_item(op)["Put"]["Item"])
                written += 1
    for key, owner in store.ident_items().items():
        op = PutIdent(key, owner.customer_id, None, owner.record_hash, owner.updated_at)
        table.put_item(builder._transact_item(op)["Put"]["Item"])
        written += 1
    return written


def item_size(item: dict[str, Any]) -> int:
    from bench.store_cost import item_size as size

    return size(item)


class Meter:
    """Requests and read units per call, through botocore's event hooks on the client."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.units: dict[str, float] = defaultdict(float)
        self.reported = 0
        events = client.meta.events
        events.register("before-parameter-build.dynamodb.*", self._before)
        events.register("after-call.dynamodb.*", self._after)

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name in ("GetItem", "Query", "PutItem"):
            params["ReturnConsumedCapacity"] = "TOTAL"

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity") or {}
        if "CapacityUnits" in consumed:
            self.reported += 1
            self.units[model.name] += float(consumed["CapacityUnits"])
            return
        if model.name == "GetItem" and "Item" in parsed:
            self.units["GetItem"] += 0.5 * max(1, math.ceil(item_size(parsed["Item"]) / 4096))
        elif model.name == "Query":
            size = sum(item_size(i) for i in parsed.get("Items", []))
            self.units["Query"] += 0.5 * max(1, math.ceil(size / 4096))
        elif model.name == "PutItem":
            self.units["PutItem"] += 1  # a READ# item is well under 1 KB


def measure(
    call: Any, emails: list[str], rng: random.Random, meter: Meter, calls: int, over_http: int
) -> tuple[list[float], list[float], Counter[int]]:
    """Milliseconds per handler call, then per call through the local HTTP server, and the answers."""
    from functions import profiles
    from profilesync.api_server import serve_api

    for email in rng.sample(emails, min(50, len(emails))):  # warm up: imports, first clients
        assert call(email) == 200
    meter.calls.clear()
    meter.units.clear()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    for email in (rng.choice(emails) for _ in range(calls)):
        t0 = time.perf_counter()
        statuses[call(email)] += 1
        latencies.append((time.perf_counter() - t0) * 1000)
    http_latencies: list[float] = []
    if over_http:
        import httpx

        with (
            serve_api(profiles.local_handler, ["support"]) as server,
            httpx.Client(base_url=server.url) as http,
        ):
            for email in (rng.choice(emails) for _ in range(over_http)):
                t0 = time.perf_counter()
                response = http.get(
                    "/profiles", params={"email": email}, headers={"X-Profilesync-Role": "support"}
                )
                http_latencies.append((time.perf_counter() - t0) * 1000)
                statuses[response.status_code] += 1
    return latencies, http_latencies, statuses


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=2000, help="timed handler calls")
    parser.add_argument(
        "--http", type=int, default=300, help="timed calls through the local HTTP server (0: none)"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "profilesync")
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the handler's log lines are not the bench's output

    from moto.dynamodb.models import dynamodb_backends

    from functions import _governance, _wiring, profiles
    from profilesync.api_server import http_event
    from profilesync.embedded import dynamodb_client, embedded_aws
    from profilesync.local import LocalContext, model_moto_costs
    from profilesync.template import create_table

    started = time.monotonic()
    store, emails = build_store(args.people, args.seed)
    profiles_held = sum(1 for _ in store.iter_profiles())
    resolved = time.monotonic() - started
    with embedded_aws():
        model_moto_costs()
        client = dynamodb_client()
        create_table(client, TABLE)
        # The stream only feeds push; moto would keep a copy of every loaded item in it.
        backend_table = dynamodb_backends[ACCOUNT][REGION].get_table(TABLE)
        backend_table.stream_shard = None
        backend_table.stream_specification = None
        items = load_into_moto(store, client)
        del store
        gc.collect()
        loaded = time.monotonic() - started - resolved
        _wiring.use(_wiring.Wiring(_wiring.Settings(table_name=TABLE), dynamodb=client))
        _governance.use(None)
        meter = Meter(client)
        rng = random.Random(args.seed)
        context: Any = LocalContext(function_name="profilesync-bench-profiles", timeout_seconds=10)

        def call(email: str) -> int:
            event = http_event("GET", f"/profiles?email={email.strip()}", {"host": "bench"})
            event["queryStringParameters"] = {"email": email}
            return int(profiles.local_handler(event, context, "support")["statusCode"])

        # The handler prints its metrics (EMF) to stdout, as in Lambda: not the bench's output.
        with contextlib.redirect_stdout(io.StringIO()):
            latencies, http_latencies, statuses = measure(call, emails, rng, meter, args.calls, args.http)
        _governance.use(None)
        _wiring.use(None)

    total_calls = args.calls + len(http_latencies)
    reads = (meter.calls["GetItem"] + meter.calls["Query"] + meter.calls["BatchGetItem"]) / total_calls
    writes = meter.calls["PutItem"] / total_calls
    read_units = (meter.units["GetItem"] + meter.units["Query"]) / total_calls
    p50, p95, p99 = (percentile(latencies, s) for s in (0.5, 0.95, 0.99))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"profile API bench: {profiles_held:,} profiles ({items:,} items) in the embedded table")
    print(
        f"  set-up: resolve {resolved:.0f} s, load {loaded:.0f} s; peak memory {rss_mb:,.0f} MB; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (latency is noisy when others run)"
    )
    print(f"  answers: {dict(sorted(statuses.items()))}")
    print(
        f"  handler, {args.calls:,} calls: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, "
        f"mean {statistics.fmean(latencies):.1f} ms"
    )
    if http_latencies:
        h50, h95 = percentile(http_latencies, 0.5), percentile(http_latencies, 0.95)
        print(
            f"  through serve-api over HTTP, {len(http_latencies):,} calls: p50 {h50:.1f}, p95 {h95:.1f} ms"
        )
    units_from = "moto's ConsumedCapacity" if meter.reported else "item sizes"
    print(
        f"  per call: {reads:.2f} reads ({json.dumps(dict(sorted(meter.calls.items())))} in all), "
        f"{read_units:.2f} read units (from {units_from}), {writes:.2f} writes (the audit)"
    )
    print(f"  ratio p95 / {P95_TARGET_MS:.0f} ms target: {p95 / P95_TARGET_MS:.2f} (at most 1.00)")
    print(f"  ratio reads / {READS_TARGET} per call: {reads / READS_TARGET:.2f} (at most 1.00)")


if __name__ == "__main__":
    main()
