"""A customer that grows by one record a batch: ``profilesync resolve --batch-size 1`` on one contact
and N orders that name it (a wholesale buyer, a Stripe customer with thousands of charges, synced by
incremental pulls that each touch the same customer).

    python -m bench.growing_customer [--sizes 1000,2000,4000] [--reads]

For each size it writes the contact and N orders (``owner_id`` the contact) to a JSON-lines file
and runs ``profilesync resolve FILE --out OUT --batch-size 1 --state-dir DIR`` in a process
of its own, timing its wall and CPU seconds. Each batch adds one order to the one customer, so a
batch that costs in proportion to the batch makes the run linear: the CPU seconds per record at the
largest size over those at the smallest stay under ``PER_RECORD_MAX_RATIO``. A batch that re-reads
and re-merges the whole customer makes the run quadratic (the ratio near largest/smallest).

``--reads`` runs the smallest size in this process on the SQLite store instead, wrapping its
``get_customers`` to count the source snapshots each batch loads: the first, the last and the total
(a batch in proportion to itself loads a bounded number, not one per order stored before).
``--dynamodb-reads`` runs 200 orders on DynamoDB (moto, the table of template.yaml) and prints, for
some batches, the requests sent and the items the reads returned (a botocore ``after-call`` hook).
CPU seconds are the measure: on a loaded machine wall seconds are inflated, compare ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: Issue grow22's target: CPU seconds per record at the largest size over those at the smallest.
PER_RECORD_MAX_RATIO = 1.3
STAMP = "2026-08-24T10:33:02Z"


def write_customer(path: Path, orders: int) -> None:
    """The contact ``c1``, then ``orders`` orders that name it."""
    lines: list[dict[str, Any]] = [
        {
            "source": "shop",
            "id": "c1",
            "updated_at": STAMP,
            "email": "repeat@example.org",
            "first_name": "Ann",
        }
    ]
    lines += [
        {
            "source": "shop",
            "id": f"o{i}",
            "object_type": "order",
            "owner_id": "c1",
            "updated_at": STAMP,
            "orders": [
                {"id": f"o{i}", "total": "12.50", "currency": "GBP", "created_at": "2026-08-01T00:00:00Z"}
            ],
        }
        for i in range(orders)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def run_resolve(source: Path, work: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds of ``profilesync resolve --batch-size 1`` on ``source``, and how many
    records it quarantined (past about 3,070 orders the profile item outgrows 400 KB, and each
    further order is refused: docs/architecture.md)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "profilesync.cli",
            "resolve",
            str(source),
            "--out",
            str(work / "out.jsonl"),
            "--batch-size",
            "1",
            "--state-dir",
            str(work / "state"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    quarantined = next(
        int(line.split()[-1].replace(",", ""))
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip().startswith("quarantined")
    )
    return wall, cpu, quarantined


def count_reads(orders: int) -> list[int]:
    """Source snapshots loaded by each read of a customer in the run on the SQLite store (in this
    process): ``get_customers``, or ``get_customer_head`` and the ``get_snapshots`` after it."""
    from connectors.jsonl import read_jsonl
    from core.batch_ingest import ingest_batch
    from core.storage.sqlite import SQLiteProfileStore
    from core.storage.sqlite_database import SQLiteDatabase
    from profilesync.resolve import resolve

    loaded: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.jsonl"
        write_customer(source, orders)
        with SQLiteDatabase(Path(tmp) / "db.sqlite") as database:
            store = SQLiteProfileStore(database)
            inner = store.get_customers

            def counting(ids: Any) -> Any:
                got = inner(ids)
                loaded.append(sum(len(state.snapshots) for state in got.values()))
                return got

            head, parts = store.get_customer_head, store.get_snapshots

            def counting_head(customer_id: str) -> Any:
                loaded.append(0)  # a read of the customer's profile item alone (core.ingest_grow)
                return head(customer_id)

            def counting_parts(customer_id: str, keys: Any) -> Any:
                got = parts(customer_id, keys)
                loaded[-1] += len(got)
                return got

            store.get_customers = counting  # type: ignore[method-assign]
            store.get_customer_head = counting_head  # type: ignore[method-assign]
            store.get_snapshots = counting_parts  # type: ignore[method-assign]
            resolve(read_jsonl(source), store, batch_size=1, ingesting=ingest_batch)
    return loaded


def count_dynamodb_reads(orders: int = 200) -> None:
    """Requests and items read by some batches of ``orders`` one-order batches on moto."""
    import os
    from collections import Counter

    from moto import mock_aws

    from connectors.jsonl import read_jsonl
    from core.batch_ingest import ingest_batch
    from core.normalise import normalise_record
    from core.pipeline import IngestSettings
    from core.schema import SourceRecord
    from core.storage.dynamodb import DynamoDBProfileStore
    from profilesync.embedded import dynamodb_client, model_aws_semantics
    from profilesync.local import model_moto_costs
    from profilesync.template import create_table

    os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.jsonl"
        write_customer(source, orders)
        records = [normalise_record(draft) for draft in read_jsonl(source)]
    usable = [r for r in records if isinstance(r, SourceRecord)]
    model_aws_semantics()
    model_moto_costs()
    calls: Counter[str] = Counter()
    items: Counter[str] = Counter()

    def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        calls[model.name] += 1
        if model.name == "Query":
            items[model.name] += parsed.get("Count", 0)
        elif model.name == "BatchGetItem":
            items[model.name] += sum(len(v) for v in parsed.get("Responses", {}).values())

    with mock_aws():
        client = dynamodb_client()
        create_table(client, "growing-customer")
        store = DynamoDBProfileStore(client, "growing-customer", read_workers=1)
        client.meta.events.register("after-call.dynamodb", after)
        settings = IngestSettings(sleep=lambda _: None)
        for done, record in enumerate(usable):
            calls.clear()
            items.clear()
            ingest_batch([record], store, settings)
            if done in (1, 10, 50, 100, 200):
                print(f"batch adding order {done:>4}: requests {dict(calls)}  items read {dict(items)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000,4000", help="orders per run, comma-separated")
    parser.add_argument("--reads", action="store_true", help="count snapshots loaded per batch instead")
    parser.add_argument("--dynamodb-reads", action="store_true", help="count DynamoDB reads per batch (moto)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.dynamodb_reads:
        count_dynamodb_reads()
        return
    if args.reads:
        loaded = count_reads(sizes[0])
        print(
            f"{sizes[0]:,} orders: {len(loaded):,} customer reads, snapshots loaded first {loaded[0]:,}, "
            f"last {loaded[-1]:,}, total {sum(loaded):,} ({sum(loaded) / sizes[0]:,.1f} per record)"
        )
        return
    per_record: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            work = Path(tmp) / str(n)
            work.mkdir()
            write_customer(work / "in.jsonl", n)
            wall, cpu, quarantined = run_resolve(work / "in.jsonl", work)
            per_record.append(cpu / (n + 1))
            print(
                f"{n + 1:>7,} records  {wall:8.1f} s wall  {cpu:8.1f} s CPU  "
                f"{per_record[-1] * 1000:7.2f} ms CPU/record  {quarantined:,} quarantined"
            )
    ratio = per_record[-1] / per_record[0]
    verdict = "ok" if ratio <= PER_RECORD_MAX_RATIO else "OVER"
    print(
        f"CPU per record at {sizes[-1]:,} over {sizes[0]:,}: {ratio:.2f} "
        f"(limit {PER_RECORD_MAX_RATIO}; {ratio / PER_RECORD_MAX_RATIO:.2f} of it) {verdict}"
    )


if __name__ == "__main__":
    main()
