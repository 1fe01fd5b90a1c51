"""Bad input, the figures of issue 11's "Done when": nothing breaks identity or the sync.

1. 10,000 malformed records through ``resolve`` (read -> normalise -> ingest): no crash, and every
   record is accounted for (records in = normalised + quarantined). The records are drawn from a
   seeded generator that breaks every field the ways exports break: wrong types, invalid emails
   and phones, list ids, lone surrogates, huge strings, 2099, NaN amounts, lines that are not JSON.
   And 10,000 real-looking records (people across a CRM, a shop with orders and an email tool),
   half of them broken (``core.testing.mutations``), through ``resolve`` on the in-memory and the
   embedded SQLite store: no crash, every record accounted for, the store consistent.
2. 10,000 broken vendor objects through each connector's mapping (``profilesync.testing.fuzz``):
   no crash, one outcome per object. A third of them are broken from the vendor's own objects in
   its published spec (Stripe's example objects; spec-complete HubSpot, Klaviyo and Mailchimp
   objects), the rest from the sandbox's population.
3. A repeat buyer (a customer and 12 orders on her email) through ``resolve`` at batch sizes 1, 5,
   100 (the default) and 500 (in memory and on the embedded DynamoDB), and the population's repeat
   buyers (10 to 60 orders) through ``sync`` (Shopify sandbox) and the Lambda path (the demo's
   handlers): profiles per person, target 1.
4. A record dated 2099 (and one 10 hours ahead), then 10 edits and 2 new records: how many arrive,
   per connector.

    python -m bench.bad_input [--records 10000] [--objects 10000] [--seed 1] [--quick]
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from connectors.jsonl import read_jsonl
from core.schema import Profile
from core.storage.memory import InMemoryProfileStore
from core.testing.population import repeat_buyer
from profilesync.resolve import resolve

CONNECTORS = ("hubspot", "mailchimp", "shopify", "klaviyo", "stripe", "salesforce", "woocommerce")

JUNK: list[Any] = [
    None,
    "",
    " ",
    0,
    -1,
    3.5,
    True,
    [],
    {},
    [1, 2],
    {"a": {"b": []}},
    "NaN",
    "null",
    "x" * 5000,
    "\u0000",
    "\ud800",
    "😀",
    "Robert'); DROP TABLE",
    "+",
    "++44",
    "0",
    "1e999",
    "2099-01-01T00:00:00Z",
    "-500",
    ["a", "b"],
]


def _field(rng: random.Random, good: Any) -> Any:
    return good if rng.random() < 0.35 else rng.choice(JUNK)


def malformed(rng: random.Random, i: int) -> str:
    if rng.random() < 0.05:
        return rng.choice(["{not json", "[1,2,3]", '"just a string"', '{"id": }', "\ufeff{}"])
    record: dict[str, Any] = {
        "source": _field(rng, rng.choice(["crm", "shop"])),
        "id": _field(rng, f"x{i}"),
        "object_type": _field(rng, rng.choice(["contact", "order", "customer"])),
        "updated_at": _field(rng, rng.choice(["2026-01-05T10:00:00Z", "2026-13-45", "yesterday", 1e20])),
        "email": _field(rng, rng.choice(["ann@example.com", "ann@", "@x.com", "a b@c.d", ["x@y.z", 5]])),
        "phone": _field(rng, rng.choice(["+44 20 7946 0018", "020 7946 0018", "12", ["+1", None]])),
        "first_name": _field(rng, "ann"),
        "country": _field(rng, rng.choice(["GB", "Atlantis", "ZZ"])),
        "consent": _field(rng, rng.choice([{"email": True}, {"email": "maybe"}, {"sms": {"granted": 1}}])),
        "owner_id": _field(rng, "c1"),
        "orders": _field(
            rng,
            [
                {
                    "id": _field(rng, "o1"),
                    "total": _field(rng, "19.90"),
                    "currency": _field(rng, rng.choice(["GBP", "XXX", "pounds"])),
                    "created_at": _field(rng, "2026-01-02T09:00:00Z"),
                }
            ],
        ),
    }
    return json.dumps({k: v for k, v in record.items() if rng.random() < 0.9})


def fuzz_resolve(records: int, seed: int) -> bool:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bad.jsonl"
        path.write_text("\n".join(malformed(rng, i) for i in range(records)) + "\n", encoding="utf-8")
        start = time.perf_counter()
        report = resolve(read_jsonl(path), InMemoryProfileStore(), quarantine=lambda q: None)
        elapsed = time.perf_counter() - start
    accounted = report.normalised + report.quarantined
    print(f"1. resolve: {report.read:,} malformed records in {elapsed:.2f} s, 0 crashes")
    print(f"   normalised {report.normalised:,} + quarantined {report.quarantined:,} = {accounted:,}")
    for reason, count in report.quarantine_reasons.most_common(5):
        print(f"     {count:>6,}  {reason[:90]}")
    ok = accounted == records
    print(
        f"   records in = normalised + quarantined: {'yes' if ok else 'NO'}; "
        f"ratio {accounted / records:.3f} (target 1.000)"
    )
    return ok and _fuzz_real_records(records, seed)


def _fuzz_real_records(records: int, seed: int) -> bool:
    from core.storage.sqlite import SQLiteProfileStore
    from core.storage.sqlite_database import SQLiteDatabase
    from profilesync.testing.fuzz import fuzz_resolve, mutated_population_lines

    lines = mutated_population_lines(records, seed)
    print(f"   {records:,} real-looking records, half of them broken, through resolve:")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        database = SQLiteDatabase(Path(tmp) / "fuzz.sqlite3")
        try:
            for where, store in (
                ("memory", InMemoryProfileStore()),
                ("sqlite", SQLiteProfileStore(database)),
            ):
                start = time.perf_counter()
                report = fuzz_resolve(lines, store)
                elapsed = time.perf_counter() - start
                accounted = report.normalised + report.quarantined
                ok &= report.crashes == 0 and accounted == records and not report.store_problems
                print(
                    f"   {where:<6} in {elapsed:5.1f} s: normalised {report.normalised:,} + quarantined "
                    f"{report.quarantined:,} = {accounted:,} (target {records:,}); {report.profiles:,} "
                    f"profiles; crashes {report.crashes} (target 0) {report.first_crash}; store "
                    f"problems {len(report.store_problems)} (target 0)"
                )
        finally:
            database.close()
    return ok


def fuzz_connectors(objects: int, seed: int) -> bool:
    from profilesync.registry import get
    from profilesync.testing.fuzz import fuzz_mapping

    print(f"2. connector mappings: {objects:,} broken vendor objects each")
    ok = True
    for name in CONNECTORS:
        start = time.perf_counter()
        report = fuzz_mapping(get(name), objects, seed=seed)
        elapsed = time.perf_counter() - start
        ok &= report.crashes == 0 and report.unaccounted == 0
        print(
            f"   {name:<11} {report.objects:,} ({report.from_specs:,} from the spec) in {elapsed:5.1f} s: "
            f"normalised {report.normalised:,} + quarantined {report.quarantined:,} "
            f"(+ {report.deleted} deleted at the vendor); "
            f"crashes {report.crashes} (target 0), "
            f"unaccounted {report.unaccounted} (target 0)"
        )
    return ok


def repeat_buyers(quick: bool) -> bool:
    from connectors.jsonl import draft_from_flat
    from core.storage.dynamodb import DynamoDBProfileStore
    from profilesync.embedded import dynamodb_client, embedded_aws
    from profilesync.template import create_table

    print("3. repeat buyers: profiles per person (target 1) and orders in lifetime value")
    ok = True
    lines = repeat_buyer(12)
    for size in (1, 5, 100, 500):
        profiles: dict[str, list[Profile]] = {}
        memory = InMemoryProfileStore()
        resolve([draft_from_flat(line) for line in lines], memory, batch_size=size)
        profiles["memory"] = list(memory.iter_profiles())
        with embedded_aws():
            client = dynamodb_client()
            create_table(client, "bench-bad-input")
            store = DynamoDBProfileStore(client, "bench-bad-input")
            resolve([draft_from_flat(line) for line in lines], store, batch_size=size)
            profiles["dynamodb"] = list(store.iter_profiles())
        for where, found in profiles.items():
            counts = [p.computed.order_count for p in found]
            ok &= counts == [12]
            print(
                f"   resolve --batch-size {size:<3} ({where:<8}): {len(found)} profile(s), "
                f"orders {counts} (target [12])"
            )
    ok &= _sync_path()
    if not quick:
        ok &= _lambda_path()
    return ok


def _sync_path() -> bool:
    from connectors.shopify import PLUGIN
    from core.storage.memory import InMemorySyncStateStore
    from core.sync import pull_into_store
    from core.testing.population import REPEAT_BUYER_EVERY

    sandbox = PLUGIN.sandbox(people=400, seed=7)
    orders_of = Counter(o["_customer"] for o in sandbox.orders.values())
    buyers = {c for c, n in orders_of.items() if n >= 10}
    store = InMemoryProfileStore()
    connector = PLUGIN.build(sandbox.settings())
    try:
        pull_into_store(connector, store, InMemorySyncStateStore())
    finally:
        connector.close()
    per_buyer: Counter[int] = Counter()
    whole = 0
    for profile in store.iter_profiles():
        mine = {int(s.id) for s in profile.sources if s.object_type == "customer"} & buyers
        orders = sum(1 for s in profile.sources if s.object_type == "order")
        for customer in mine:
            per_buyer[customer] += 1
            whole += orders == orders_of[customer]
        for s in profile.sources:
            if s.object_type == "order" and not mine and sandbox.orders[int(s.id)]["_customer"] in buyers:
                per_buyer[sandbox.orders[int(s.id)]["_customer"]] += 1
    worst = max(per_buyer.values(), default=0)
    print(
        f"   sync (Shopify sandbox, 400 people, 1 in {REPEAT_BUYER_EVERY} a repeat buyer): {len(buyers)} "
        f"buyers of 10+ orders, at most {worst} profile(s) each (target 1), {whole} with every order"
    )
    return worst == 1 and whole == len(buyers)


def _lambda_path() -> bool:
    from core.normalise import normalise_email
    from core.testing.population import REPEAT_BUYER_EVERY, people
    from profilesync.demo import Progress, run_demo

    count, seed = 200, 7
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "progress.txt", "w") as log:
        result = run_demo(people=count, seed=seed, out_dir=Path(tmp), progress=Progress(log, live=False))
    by_email = {normalise_email(p.email): p.index for p in people(count, seed)}
    profiles_of: Counter[int] = Counter()
    orders_of: dict[int, int] = {}
    for profile in result.profiles:
        persons = {
            by_email[i.value] for i in profile.identifiers if i.kind == "email" and i.value in by_email
        }
        for person in persons:
            profiles_of[person] += 1
            orders_of[person] = sum(1 for s in profile.sources if s.object_type == "order")
    buyers = [
        p
        for p in profiles_of
        if p % REPEAT_BUYER_EVERY == REPEAT_BUYER_EVERY // 2 and orders_of.get(p, 0) >= 10
    ]
    # Profiles of the seeded people only: round 2 adds people of its own to each tool.
    excess = sum(profiles_of.values()) - len(profiles_of)
    print(
        f"   Lambda path (the demo's handlers, {count} people): {sum(profiles_of.values()):,} profiles "
        f"for {len(profiles_of):,} seeded people (excess {excess}, target 0); repeat buyers "
        f"{len(buyers)}, profiles each {sorted({profiles_of[b] for b in buyers})} (target [1])"
    )
    return excess == 0 and all(profiles_of[b] == 1 for b in buyers)


def future_dated() -> bool:
    from core.connector import ConnectorPlugin
    from profilesync.registry import get
    from profilesync.testing.contract import changes_after_a_future_record

    print(
        "4. a record dated 2099 (or 10 hours ahead, within the skew), then 10 edits and 2 new records "
        "at the real clock: arrived per connector"
    )
    ok = True
    for name in CONNECTORS:
        plugin: ConnectorPlugin = get(name)
        assert plugin.sandbox is not None
        for ahead, label in ((None, "2099"), (timedelta(hours=10), "+10 h")):
            sandbox = plugin.sandbox(people=60, seed=7)
            connector = plugin.build(sandbox.settings())
            try:
                changed, arrived = changes_after_a_future_record(
                    sandbox, functools.partial(_pull, connector), ahead
                )
            finally:
                connector.close()
            hits = len(changed & arrived)
            ok &= hits == len(changed)
            print(
                f"   {name:<11} {label:<6} {hits} of {len(changed)} later changes arrived "
                f"(ratio {hits / len(changed):.2f}, target 1.00)"
            )
    return ok


def _pull(connector: Any, cursor: str | None) -> tuple[set[str], str | None]:
    keys: set[str] = set()
    last = cursor
    for page in connector.pull(cursor):
        keys |= {f"{d.object_type}:{d.source_id}" for d in connector.to_records(page)}
        last = page.cursor
    return keys, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--objects", type=int, default=10_000, help="broken vendor objects per connector")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="leave out the Lambda path (a small demo run)")
    args = parser.parse_args()
    results = [
        fuzz_resolve(args.records, args.seed),
        fuzz_connectors(args.objects, args.seed),
        repeat_buyers(args.quick),
        future_dated(),
    ]
    print(f"bad input: {sum(results)} of {len(results)} checks at target")


if __name__ == "__main__":
    main()
