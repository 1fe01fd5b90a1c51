"""Store cost: DynamoDB requests and write units per record, against the minimum the layout allows.

Requests are counted with botocore event hooks on a moto-backed client; write units are computed
from the items each request actually sends (moto reports no ConsumedCapacity for transactions),
with DynamoDB's sizing rules: 1 WCU per started KB, twice that inside a transaction.

The minimum for each kind of record, from the table layout (DESIGN.md), written transactionally
because ownership changes must be atomic and conditional; every change also appends its event to
the customer's history (a HISTORY item, in the same transaction: docs/governance.md):
  new customer: PROFILE + SOURCE + one IDENT per identifier + HISTORY
  attach:       PROFILE + SOURCE + one IDENT per identifier not owned yet + HISTORY
  update:       PROFILE + SOURCE + source IDENT (new hash) + added IDENTs + IDENTs no source holds
                + HISTORY
  unchanged:    nothing
A split (an update removed the identifier that joined a customer's records) is printed too, without
a target: it is rare, and costs the update plus one more transaction.
Targets: at most 1.2x the minimum write units, zero writes for an unchanged record, at most
0.15 requests per record on a batch of new records. Ingest runs with the suppression check, as in
the merge function (its reads count as requests).

Probabilistic identity (``identity.mode: probabilistic``) adds the candidate index beside the
identifier items: each record is filed under its blocking keys and identifier values (``BLOCK#``
items, updated in transactions of up to 100 actions), a batch reads the keys of its records and the
match fields of the candidates it finds (``IDENT#source#...``), and pairs for a person to decide go
to ``REVIEW#`` items. The last table runs the varied population (core.testing.varied_population:
work emails, nicknames, typos, moves) through both modes on fresh tables and prints the requests
per record by operation, and the index keys written and read per record. No target: the figures
say what the index costs.

    python -m bench.store_cost [--records 300] [--people 150]
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from typing import Any

from moto import mock_aws

from connectors.jsonl import draft_from_flat
from core.link_scope import LinkageSettings
from core.normalise import NormaliseOptions, normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.suppression import SuppressionCheck
from core.testing.records import make_record
from core.testing.varied_population import varied_population
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table

WRITE_TARGET = 1.2
NEW_BATCH_REQUESTS_TARGET = 0.15


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value by DynamoDB's item-size rules (approximate for numbers)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return math.ceil(len(raw.lstrip("-").replace(".", "")) / 2) + 1
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    if kind == "BOOL" or kind == "NULL":
        return 1
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in raw.items())
    raise ValueError(kind)


def item_size(item: dict[str, dict[str, Any]]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def write_units(entry: dict[str, Any], sizes: dict[tuple[str, str], int]) -> int:
    """Write units of one transaction entry: 2 per started KB of the larger of old and new item."""
    ((kind, op),) = entry.items()
    if kind == "Put":
        key = (op["Item"]["PK"]["S"], op["Item"]["SK"]["S"])
        new = item_size(op["Item"])
        units = max(new, sizes.get(key, 0))
        sizes[key] = new
    else:
        key = (op["Key"]["PK"]["S"], op["Key"]["SK"]["S"])
        units = sizes.pop(key, 0) if kind == "Delete" else sizes.get(key, 1)
    return 2 * max(1, math.ceil(units / 1024))


class Meter:
    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.units = 0
        self.items = 0
        self.sizes: dict[tuple[str, str], int] = {}
        client.meta.events.register("before-parameter-build.dynamodb.*", self._count)

    def _count(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name == "TransactWriteItems":
            for entry in params["TransactItems"]:
                self.units += write_units(entry, self.sizes)
                self.items += 1

    def snapshot(self) -> tuple[int, int, int]:
        return sum(self.calls.values()), self.units, self.items


def record(source: str, n: int, emails: list[str], phones: list[str], day: int = 0) -> SourceRecord:
    return make_record(
        source,
        str(n),
        email=emails,
        phone=phones,
        day=day,
        traits={"first_name": "Ann", "last_name": "Lee", "country": "GB"},
    )


def minimum_units(store_items: list[dict[str, dict[str, Any]]]) -> int:
    return sum(2 * max(1, math.ceil(item_size(i) / 1024)) for i in store_items)


class IndexMeter:
    """Requests by operation, and the ``BLOCK#`` keys each request writes or reads."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.block_writes = 0
        self.block_reads = 0
        self.source_reads = 0
        client.meta.events.register("before-parameter-build.dynamodb.*", self._count)

    def _count(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name == "TransactWriteItems":
            for entry in params["TransactItems"]:
                ((_, op),) = entry.items()
                key = op.get("Key") or op.get("Item") or {}
                self.block_writes += key.get("PK", {}).get("S", "").startswith("BLOCK#")
        elif model.name == "BatchGetItem":
            for request in params["RequestItems"].values():
                for key in request["Keys"]:
                    pk = key["PK"]["S"]
                    self.block_reads += pk.startswith("BLOCK#")
                    self.source_reads += pk.startswith("IDENT#source#")


def linkage_cost(people: int) -> list[tuple[str, int, IndexMeter]]:
    """The varied population through exact and probabilistic identity, each on a fresh table."""
    options = NormaliseOptions(default_region="GB")
    records = [
        r
        for r in (normalise_record(draft_from_flat(f), options) for _, f in varied_population(people, seed=3))
        if isinstance(r, SourceRecord)
    ]
    out = []
    for name, settings in (
        ("exact", IngestSettings()),
        ("probabilistic", IngestSettings(linkage=LinkageSettings())),
    ):
        with mock_aws():
            client = dynamodb_client()
            create_table(client, "bench")
            store = DynamoDBProfileStore(client, "bench", read_workers=1)
            meter = IndexMeter(client)
            for start in range(0, len(records), 100):
                ingest(records[start : start + 100], store, settings)
            out.append((name, len(records), meter))
    return out


def print_linkage_cost(people: int) -> None:
    rows = linkage_cost(people)
    operations = sorted({op for _, _, meter in rows for op in meter.calls})
    n = rows[0][1]
    print(f"probabilistic identity: {people:,} varied people, {n:,} records in batches of 100 (moto)")
    print(f"  {'mode':14} {'requests':>9} " + " ".join(f"{op:>18}" for op in operations))
    for name, _, meter in rows:
        total = sum(meter.calls.values()) / n
        by_op = " ".join(f"{meter.calls[op] / n:18.3f}" for op in operations)
        print(f"  {name:14} {total:9.3f} {by_op}")
    _, _, linked = rows[1]
    print(
        f"  BLOCK# index per record: {linked.block_writes / n:.2f} keys written, "
        f"{linked.block_reads / n:.2f} keys read; {linked.source_reads / n:.2f} candidates' match fields read"
    )
    extra = sum(linked.calls.values()) / n - sum(rows[0][2].calls.values()) / n
    print(f"  requests per record added by the index: {extra:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--people", type=int, default=150, help="people of the probabilistic run")
    args = parser.parse_args()
    n = args.records
    model_aws_semantics()
    with mock_aws():
        client = dynamodb_client()
        create_table(client, "bench")
        meter = Meter(client)
        store = DynamoDBProfileStore(client, "bench", read_workers=1)
        # As the merge function runs it: with the check of erased people (one BatchGetItem of
        # suppression entries per 100 identifier keys of the changed records, none for unchanged).
        suppression = SuppressionCheck(DynamoDBSuppressionStore(client, "bench"), "bench-salt")
        settings = IngestSettings(suppression=suppression)
        rows = []

        def scenario(name: str, records: list[SourceRecord], min_items_per_record: float) -> None:
            before = meter.snapshot()
            for start in range(0, len(records), 100):
                ingest(records[start : start + 100], store, settings)
            calls, units, items = (a - b for a, b in zip(meter.snapshot(), before, strict=True))
            # The minimum: the items this record kind needs, each at the size the layout gives it.
            per_item_units = units / items if items else 2
            minimum = min_items_per_record * len(records) * per_item_units
            rows.append(
                (
                    name,
                    calls / len(records),
                    units / len(records),
                    items / len(records),
                    minimum / len(records),
                    (units / minimum) if minimum else None,
                )
            )

        new = [record("crm", i, [f"p{i}@example.com"], [f"+4420794{i:05d}"]) for i in range(n)]
        scenario("new customer", new, 2 + 3 + 1)
        attach = [record("shop", i, [f"p{i}@example.com"], [f"+4420795{i:05d}"]) for i in range(n)]
        scenario("attach", attach, 2 + 2 + 1)
        update = [
            record("shop", i, [f"p{i}@example.com", f"q{i}@example.com"], [f"+4420795{i:05d}"], day=1)
            for i in range(n)
        ]
        scenario("update (email added)", update, 2 + 1 + 1 + 1)
        before_writes = meter.calls["TransactWriteItems"]
        scenario("unchanged", update, 0)
        unchanged_writes = meter.calls["TransactWriteItems"] - before_writes
        # Not a target: the shop record drops the email it shared with the crm record, so the two no
        # longer resolve together and the customer splits. The update and the split are two
        # transactions (the split re-reads the customer); one would need 2 PROFILE + the moved
        # SOURCE twice (delete, put) + the moved IDENTs (source, phone, new email) + the update's and
        # the split's two HISTORY events = 10 items.
        split = [record("shop", i, [f"r{i}@example.com"], [f"+4420795{i:05d}"], day=2) for i in range(n)]
        scenario("split (shared email gone)", split, 10)
        split_row = rows.pop()

    print(f"store cost over {n} records per kind (moto, counted with botocore event hooks)")
    print(f"  {'record kind':24} {'requests':>9} {'WCU':>7} {'items':>6} {'min WCU':>8} {'ratio':>6}")
    for name, calls, units, items, minimum, ratio in rows:
        shown = f"{ratio:6.2f}" if ratio is not None else "     -"
        print(f"  {name:24} {calls:9.3f} {units:7.2f} {items:6.2f} {minimum:8.2f} {shown}")
    _, calls, units, items, minimum, ratio = split_row
    print(
        f"  {'split (not a target)':24} {calls:9.3f} {units:7.2f} {items:6.2f} {minimum:8.2f} {ratio:6.2f}"
        "  (the update, then the split)"
    )
    worst = max(r[5] for r in rows if r[5] is not None)
    print(f"  write units vs minimum: worst ratio {worst:.2f} (target <= {WRITE_TARGET})")
    print(f"  unchanged records: {unchanged_writes} write requests (target 0)")
    print(
        f"  requests per record on a batch of new records: {rows[0][1]:.3f}, ratio "
        f"{rows[0][1] / NEW_BATCH_REQUESTS_TARGET:.2f} against {NEW_BATCH_REQUESTS_TARGET} (<= 1.00 meets it)"
    )
    if args.people > 0:
        print_linkage_cost(args.people)


if __name__ == "__main__":
    main()
