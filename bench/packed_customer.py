"""One customer with many orders resolved in ONE batch: are all her orders kept, and how large is
her PROFILE item against DynamoDB's 400 KB (core.storage.profile_packing packs it past 64 KB)?

    python -m bench.packed_customer [--orders 10000] [--ids short|random] [--batch-size N]
    python -m bench.packed_customer --packing [--orders 10000]

The first writes a contact and N orders that name it (``short`` ids ``o0``, ``o1``...; ``random``:
Stripe-style ``ch_`` and 24 random letters and digits, each order at its own time) and runs
``profilesync resolve``'s ``resolve`` on the embedded SQLite store in this process (one batch of
all of them unless ``--batch-size``), then prints the orders stored and quarantined, the PROFILE
item's bytes (as the store sizes it) and their ratio to 400 KB, and the CPU seconds. It fails (exit
1) when an order was quarantined or the item is over the limit.

``--packing`` builds the profile JSON and owned keys of N orders of each kind without resolving and
prints the bytes per order of the plain item, of zlib of its JSON and of the packed value, and the
orders 400 KB holds at that rate (the ceiling): the figures in core.storage.profile_packing.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

LIMIT = 400 * 1024
STAMP = "2026-08-24T10:33:02Z"


def _orders(count: int, ids: str) -> list[tuple[str, str]]:
    """(id, updated_at) of ``count`` orders: short ids at one time, or random ids at random times."""
    if ids == "short":
        return [(f"o{n}", STAMP) for n in range(count)]
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits
    out = []
    for _ in range(count):
        at = time.gmtime(1_700_000_000 + rng.randrange(60_000_000))
        out.append(("ch_" + "".join(rng.choices(alphabet, k=24)), time.strftime("%Y-%m-%dT%H:%M:%SZ", at)))
    return out


def write_customer(path: Path, count: int, ids: str) -> None:
    source, kind = ("shop", "order") if ids == "short" else ("stripe", "charge")
    lines: list[dict[str, Any]] = [
        {"source": source, "id": "c1", "updated_at": STAMP, "email": "big@example.org", "first_name": "Ann"}
    ]
    for order_id, at in _orders(count, ids):
        lines.append(
            {
                "source": source,
                "id": order_id,
                "object_type": kind,
                "owner_id": "c1",
                "updated_at": at,
                "orders": [{"id": order_id, "total": "12.50", "currency": "GBP", "created_at": at}],
            }
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def resolve_one_batch(count: int, ids: str, batch_size: int | None) -> bool:
    import sqlite3

    from connectors.jsonl import read_jsonl
    from core.batch_ingest import ingest_batch
    from core.storage.sqlite import SQLiteProfileStore
    from core.storage.sqlite_database import SQLiteDatabase
    from profilesync.resolve import resolve

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.jsonl"
        write_customer(source, count, ids)
        start = time.process_time()
        with SQLiteDatabase(Path(tmp) / "db.sqlite") as database:
            store = SQLiteProfileStore(database)
            size = batch_size or count + 1
            report = resolve(read_jsonl(source), store, batch_size=size, ingesting=ingest_batch)
        cpu = time.process_time() - start
        with sqlite3.connect(Path(tmp) / "db.sqlite") as conn:
            rows = conn.execute("SELECT * FROM items WHERE sk = 'PROFILE' AND data IS NOT NULL").fetchall()
            sources = conn.execute("SELECT count(*) FROM items WHERE sk LIKE 'SOURCE#%'").fetchone()[0]
    # The item's size as the stores weigh it (core.storage.item_bytes: DynamoDB's rule, names and values)
    from core.storage.item_bytes import row_bytes

    (row,) = [tuple(r) for r in rows]
    size = row_bytes(row[:8])
    packed = isinstance(row[6], bytes)
    stored = sources - 1
    batches = "one batch" if not batch_size else f"batches of {batch_size:,}"
    print(f"{count:,} orders ({ids} ids) in {batches}")
    print(f"  orders stored        {stored:>10,}")
    print(f"  quarantined          {report.quarantined:>10,}")
    print(f"  PROFILE item         {size:>10,} bytes ({'packed' if packed else 'as text'})")
    print(f"  of 400 KB            {size / LIMIT:>10.3f}")
    print(f"  CPU seconds          {cpu:>10.1f}")
    ok = report.quarantined == 0 and stored == count and size <= LIMIT
    print("  OK" if ok else "  FAILED: an order was lost or the item is too large")
    return ok


def packing_sizes(count: int) -> None:
    from core.storage.profile_packing import pack_profile

    for ids in ("short", "random"):
        source, kind = ("shop", "order") if ids == "short" else ("stripe", "charge")
        orders = _orders(count, ids)
        refs = sorted(
            ({"source": source, "object_type": kind, "id": i, "updated_at": at} for i, at in orders),
            key=lambda r: r["id"],
        )
        identifiers = [{"kind": "email", "value": "big@example.org"}]
        identifiers += [{"kind": "source", "value": f"{source}:{kind}:{r['id']}"} for r in refs]
        profile = {"customer_id": "cus_x", "identifiers": identifiers, "sources": refs, "version": count}
        document = json.dumps(profile, separators=(",", ":"))
        owned = sorted(f"{i['kind']}#{i['value']}" for i in identifiers)
        plain = len(document) + len(json.dumps(owned))
        zipped = len(zlib.compress(document.encode(), 6)) + len(zlib.compress(json.dumps(owned).encode(), 6))
        start = time.process_time()
        packed = pack_profile(document, owned)
        cpu = time.process_time() - start
        assert packed is not None
        print(f"{count:,} orders, {ids} ids: bytes an order, and the orders 400 KB holds at that rate")
        for name, size in (("as text", plain), ("zlib of its JSON", zipped), ("packed", len(packed))):
            print(f"  {name:18} {size / count:7.1f}   {int(LIMIT / (size / count)):>9,}")
        print(f"  packing took {cpu * 1000:.0f} ms CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--ids", choices=("short", "random"), default="random")
    parser.add_argument("--batch-size", type=int, default=None, help="records a batch (default: one batch)")
    parser.add_argument("--packing", action="store_true", help="print the packing's sizes only")
    args = parser.parse_args()
    if args.packing:
        packing_sizes(args.orders)
        return
    if not resolve_one_batch(args.orders, args.ids, args.batch_size):
        sys.exit(1)


if __name__ == "__main__":
    main()
