"""What her erasure pays to find her records by the values refused in them (core.privacy_refused).

Without a complete index of refused values (a store written before it, its backfill not run) every
erasure by an email or phone passes over every stored record once; with it (core.privacy_refused_index)
it reads the index's entries under her keys' hashes and the customers they name. This prints, on the
embedded store (SQLite, its pages read once before) of ``--customers`` customers, one record each,
one in a hundred with a refused value that is not hers and one hers (under a household's customer),
the records passed over, the index entries read and the customers read by each way, their CPU
seconds, and the whole erasure's. No target: the figures compare the two ways (docs/privacy.md,
"The household case").

    python -m bench.refused_scan [--customers 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from functools import partial
from pathlib import Path

from core.pipeline import IngestSettings, ingest
from core.privacy import erase_person, identifier_for
from core.privacy_refused import refused_holders
from core.privacy_refused_index import backfill
from core.schema import DroppedValue
from core.storage.refused_index import refused_index
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_privacy import SQLiteErasureStore, SQLiteSuppressionStore
from core.storage.sqlite_sync import SQLiteSyncStateStore
from core.suppression import SuppressionCheck, keyed_hash
from core.testing.records import make_record

HER = "zephyrine.q@example.org"
HOUSEHOLD = "+44 20 7946 0555"


SALT = "bench-salt"


def _counted(profiles: SQLiteProfileStore) -> list[int]:
    """Customers read by ``get_customers`` from now on, and records passed over by the store's pass."""
    counts = [0, 0]
    inner, scan = profiles.get_customers, profiles.customers_with_refused_values

    def reading(ids: list[str]) -> object:
        counts[0] += len(ids)
        return inner(ids)

    def passing() -> list[str]:
        with profiles.database.reading() as conn:
            counts[1] += conn.execute("SELECT count(*) FROM items WHERE sk LIKE 'SOURCE#%'").fetchone()[0]
        return scan()

    profiles.get_customers = reading  # type: ignore[method-assign]
    profiles.customers_with_refused_values = passing  # type: ignore[method-assign]
    return counts


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
        junk = DroppedValue(field="phone", value="call after six", reason="not a phone")
        records = [
            r.model_copy(update={"dropped": (junk,)}) if n % 100 == 0 else r for n, r in enumerate(records)
        ]
        check = SuppressionCheck(SQLiteSuppressionStore(database), SALT)
        everyone = [*records, olu, hers.model_copy(update={"dropped": (refused,)})]
        ingest(everyone, profiles, IngestSettings(suppression=check))
        hash_ = partial(keyed_hash, SALT)
        refused_holders(profiles, {f"email#{HER}"}, set(), "US")  # the file's pages read once
        counts = _counted(profiles)
        started = time.process_time()
        found = refused_holders(profiles, {f"email#{HER}"}, set(), "US", hash_=hash_)  # no marker yet
        scan = time.process_time() - started
        before = list(counts)
        assert sum(len(r) for r in found.hers.values()) == 1, "her record was not found"
        index = refused_index(profiles)
        assert index is not None
        backfill(profiles, index, "US", hash_)
        counts[:] = [0, 0]
        started = time.process_time()
        found = refused_holders(profiles, {f"email#{HER}"}, set(), "US", hash_=hash_)
        indexed = time.process_time() - started
        assert sum(len(r) for r in found.hers.values()) == 1, "her record was not found by the index"
        after = list(counts)
        erasure = SQLiteErasureStore(database)
        started = time.process_time()
        erase_person(
            identifier_for(email=HER),
            profiles=profiles,
            erasure=erasure,
            tools={},
            salt=SALT,
            request_id="bench",
            sync_state=sync,
            suppression=SQLiteSuppressionStore(database),
            sleep=lambda _: None,
        )
        whole = time.process_time() - started
    print(f"customers: {args.customers:,}")
    each = scan / args.customers * 1e6
    print(
        f"without the index: {before[1]:,} records passed over, {before[0]:,} customers read; "
        f"{scan:.3f} CPU s ({each:.0f} CPU µs a customer)"
    )
    print(
        f"with the index: 1 index look-up (her address), {after[1]:,} records passed over, "
        f"{after[0]:,} customers read; {indexed:.4f} CPU s ({scan / max(indexed, 1e-9):.0f}x less)"
    )
    print(f"whole erasure (with the index): {whole:.3f} CPU s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
