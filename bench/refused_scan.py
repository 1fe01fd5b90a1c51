"""What her erasure pays to find her records by the values refused in them (core.privacy_refused).

No index leads from a refused value to its record yet, so every erasure by an email or phone reads
every customer with its records. This prints the CPU seconds of that read on the embedded store
(SQLite, its pages read once before) for a store of ``--customers`` customers, one record each,
none refused but one (hers, under a household's customer), and the share of the whole erasure it
is. No target: the figure
says what the scan costs until the index replaces it (docs/privacy.md, "The household case").

    python -m bench.refused_scan [--customers 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from core.pipeline import IngestSettings, ingest
from core.privacy import erase_person, identifier_for
from core.privacy_refused import refused_holders
from core.schema import DroppedValue
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_privacy import SQLiteErasureStore, SQLiteSuppressionStore
from core.storage.sqlite_sync import SQLiteSyncStateStore
from core.testing.records import make_record

HER = "zephyrine.q@example.org"
HOUSEHOLD = "+44 20 7946 0555"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        database = SQLiteDatabase(Path(folder) / "bench.sqlite3")
        sync = SQLiteSyncStateStore(database)
        profiles = SQLiteProfileStore(database)
        records = [
            make_record("crm", str(n), email=f"person{n}@example.com", phone=f"+1 202 555 {n % 10_000:04d}")
            for n in range(1, args.customers)
        ]
        hers = make_record("crm", "0", phone=HOUSEHOLD)
        refused = DroppedValue(field="email", value=f"Zéphyrine <{HER}>", reason="not an email")
        olu = make_record("crm", "household", email="olu@example.com", phone=HOUSEHOLD)
        ingest([*records, olu, hers.model_copy(update={"dropped": (refused,)})], profiles, IngestSettings())
        refused_holders(profiles, {f"email#{HER}"}, set(), "US")  # the file's pages read once
        started = time.process_time()
        found = refused_holders(profiles, {f"email#{HER}"}, set(), "US")
        scan = time.process_time() - started
        assert sum(len(r) for r in found.hers.values()) == 1, "her record was not found"
        erasure = SQLiteErasureStore(database)
        started = time.process_time()
        erase_person(
            identifier_for(email=HER),
            profiles=profiles,
            erasure=erasure,
            tools={},
            salt="bench-salt",
            request_id="bench",
            sync_state=sync,
            suppression=SQLiteSuppressionStore(database),
            sleep=lambda _: None,
        )
        whole = time.process_time() - started
    print(f"customers: {args.customers:,}")
    each = scan / args.customers * 1e6
    print(f"scan of the refused values: {scan:.3f} CPU s ({each:.0f} CPU µs a customer)")
    print(f"whole erasure (scan included): {whole:.3f} CPU s; the scan {scan / whole:.0%} of it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
