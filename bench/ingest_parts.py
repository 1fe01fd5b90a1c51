"""Where ``resolve``'s ingest spends its CPU, part by part, in one process; and SQLite's inserts by kind.

    python -m bench.ingest_parts [--records 100000] [--file FILE] [--full] [--narrow-idents] [--staged-json]

Generates the population of ``bench.resolve_scaling`` (or reads ``--file``), reads it by person in
batches of 20,000 and normalises it as ``resolve``'s worker does (each record's hash and JSON kept
with it), then ingests the batches with ``core.batch_ingest.ingest_batch`` on the kind of store
``resolve`` uses (a throwaway SQLite file, commits grouped, a scratch store that writes no history
events or holder markers; ``--full`` for a store that writes every item, as ``sync``'s), with a
fixed clock and the collector off as ``resolve`` ingests a batch. It prints the CPU of ingest and
of its parts, in µs a record: the split into fresh and touching groups (``_split_fresh``), the new
customers' rows without their profiles, the profiles (``core.ingest_profile.new_profile``; where one
compiled call a batch writes both, native/src/batch.rs, the rows with their profiles), SQLite's inserts
(``insert_new_items``), and the rest. Then it replays the rows the inserts wrote into a new file,
one statement per kind of item as ``insert_new_items`` sends them, and prints each kind's µs a row;
with ``--narrow-idents``, also into the layout the docs weighed (IDENT items in a ``WITHOUT ROWID``
table of their own keyed by ``pk``), alternating; with ``--staged-json``, also as one ``INSERT ... SELECT``
per kind and slice from a JSON array of the rows (``json_each``: the rows handed to SQLite as one
column-like text and inserted by SQLite's C, not bound row by row), alternating; the JSON's encoding
is timed with the statement. CPU time, not wall time, is what compares on a
shared machine; compare the figures of one run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import core.batch_ingest
import core.ingest_fresh
import core.ingest_native
from bench.resolve_scaling import source_file
from connectors.jsonl.batched import BatchEnd, read_jsonl_batched
from core.normalise import normalise_record
from core.pipeline import IngestSettings
from core.record_json import record_json_and_hash
from core.schema import Quarantined, SourceRecord
from core.storage import sqlite_new_items
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import _SCHEMA, PAGE_SIZE, SQLiteDatabase
from core.storage.sqlite_new_items import NewItems

AT = datetime(2026, 6, 1, 12, 30, 15, 250000, tzinfo=UTC)
BATCH = 20_000
_KINDS = ("IDENT", "PROFILE", "SOURCE", "HISTORY", "HOLDER")
_STATEMENTS = (
    "INSERT OR IGNORE " + sqlite_new_items._INSERT_IDENT,
    "INSERT OR IGNORE " + sqlite_new_items._INSERT_PROFILE,
    sqlite_new_items._PUT_SOURCE,
    sqlite_new_items._PUT_EVENT,
    sqlite_new_items._PUT_MARKER,
)
_NARROW = (
    "CREATE TABLE idents (pk TEXT PRIMARY KEY, hash TEXT, owner TEXT, updated_at TEXT, run TEXT)"
    " WITHOUT ROWID"
)
_INSERT_NARROW = "INSERT OR IGNORE INTO idents (pk, hash, owner, updated_at, run) VALUES (?, ?, ?, ?, ?)"
#: ``_STATEMENTS`` with the rows of a kind given as one JSON array (``json.dumps`` of the row tuples)
#: and inserted by ``INSERT ... SELECT`` over ``json_each``: the same columns, a JSON null as NULL.
_STAGED = (
    "INSERT OR IGNORE INTO items (pk, sk, hash, owner, updated_at, attrs)"
    " SELECT value->>0, 'IDENT', value->>1, value->>2, value->>3, value->>4 FROM json_each(?)",
    "INSERT OR IGNORE INTO items (pk, sk, version, hash, data, attrs)"
    " SELECT value->>0, 'PROFILE', 1, value->>1, value->>2, value->>3 FROM json_each(?)",
    "INSERT OR REPLACE INTO items (pk, sk, hash, data)"
    " SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?)",
    "INSERT OR REPLACE INTO items (pk, sk, data) SELECT value->>0, value->>1, value->>2 FROM json_each(?)",
    "INSERT OR REPLACE INTO items (pk, sk, owner) SELECT value->>0, value->>1, value->>2 FROM json_each(?)",
)


def batches(source: Path) -> list[list[SourceRecord]]:
    """The file's records, normalised and hashed as the worker sends them, in resolve's batches."""
    out: list[list[SourceRecord]] = [[]]
    for item in read_jsonl_batched(source, BATCH):
        if isinstance(item, BatchEnd):
            out.append([])
            continue
        if isinstance(item, Quarantined):
            continue
        record = normalise_record(item)
        if isinstance(record, SourceRecord):
            record_json_and_hash(record)
            out[-1].append(record)
    return [batch for batch in out if batch]


def ingest(
    work: list[list[SourceRecord]], folder: Path, *, scratch: bool = True
) -> tuple[dict[str, float], list[list[NewItems]]]:
    """Ingest the batches with the parts timed; the CPU seconds of each, and the rows inserted
    (``scratch``: into a store as ``resolve``'s, else one that writes every item)."""
    cpu: dict[str, float] = {}
    written: list[list[NewItems]] = []

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                cpu[name] = cpu.get(name, 0.0) + time.process_time() - started

        return call

    insert = sqlite_new_items.SQLiteNewItems.insert_new_items

    def inserting(store: Any, groups: Any) -> set[int]:
        written.append(list(groups))
        return insert(store, groups)

    # Timed where ingest_batch calls them (found_fresh and new_profile are imported by name).
    swaps = [
        (core.batch_ingest, "_split_fresh", "split"),
        (core.batch_ingest, "found_fresh", "rows"),
        (core.ingest_fresh, "new_profile", "profiles"),
        (core.ingest_native.NativeRows, "new_profile", "profiles"),  # the compiled one, where it is on
    ]
    saved = [getattr(target, name) for target, name, _ in swaps]
    for (target, name, part), function in zip(swaps, saved, strict=True):
        setattr(target, name, timed(part, function))
    sqlite_new_items.SQLiteNewItems.insert_new_items = timed("inserts", inserting)  # type: ignore[method-assign]
    settings = IngestSettings(clock=lambda: AT)
    try:
        with SQLiteDatabase(folder / "store.sqlite3", durable=False) as database, database.grouped_commits():
            store = SQLiteProfileStore(database, scratch=scratch)
            gc.disable()
            started = time.process_time()
            for batch in work:
                core.batch_ingest.ingest_batch(batch, store, settings)
            cpu["ingest"] = time.process_time() - started
            gc.enable()
    finally:
        for (target, name, _), function in zip(swaps, saved, strict=True):
            setattr(target, name, function)
        sqlite_new_items.SQLiteNewItems.insert_new_items = insert  # type: ignore[method-assign]
    # found_fresh's time holds the profiles' and the inserts'.
    cpu["rows"] = cpu.get("rows", 0.0) - cpu.get("profiles", 0.0) - cpu.get("inserts", 0.0)
    if "profiles" not in cpu:  # one compiled call a batch wrote the rows with their profiles
        cpu["rows_with_profiles"] = cpu["rows"]
    return cpu, written


def replay(written: list[list[NewItems]], path: Path, *, narrow: bool, staged: bool = False) -> list[float]:
    """Insert the rows again into a new file as ``insert_new_items`` does, one statement per kind;
    the CPU seconds of each kind (``narrow``: IDENT items into a table of their own; ``staged``: each
    kind's rows as one JSON array inserted by ``INSERT ... SELECT``, its encoding timed too)."""
    seconds = [0.0] * len(_KINDS)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        connection.execute("PRAGMA journal_mode = MEMORY")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA cache_size = -65536")  # resolve's 64 MB
        connection.executescript(_SCHEMA)
        connection.execute(_NARROW)
        statements = (_INSERT_NARROW, *_STATEMENTS[1:]) if narrow else _STATEMENTS
        connection.execute("BEGIN")
        gc.disable()
        for groups in written:
            for kind, statement in enumerate(statements):
                rows = [row for group in groups for row in group[kind]]
                started = time.process_time()
                if staged:
                    if rows:
                        connection.execute(_STAGED[kind], (json.dumps(rows, ensure_ascii=False),))
                else:
                    connection.executemany(statement, rows)
                seconds[kind] += time.process_time() - started
        gc.enable()
        connection.execute("COMMIT")
    finally:
        connection.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--file", type=Path, default=None, help="read this file instead of a generated one")
    parser.add_argument(
        "--full", action="store_true", help="a store that writes every item (not resolve's scratch store)"
    )
    parser.add_argument(
        "--narrow-idents", action="store_true", help="also replay into IDENT items of their own"
    )
    parser.add_argument(
        "--staged-json", action="store_true", help="also replay each kind's rows as one JSON array"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ingest-parts-") as name:
        folder = Path(name)
        source = source_file(args.file, folder, args.records)
        work = batches(source)
        records = sum(map(len, work))
        cpu, written = ingest(work, folder, scratch=not args.full)
        load = os.getloadavg()[0]
        store = "every item" if args.full else "a scratch store"
        print(f"{records:,} records in {len(work)} batches, {store}, load {load:.1f}")

        def line(label: str, seconds: float) -> None:
            print(f"  {label:<40} {seconds:6.2f} CPU s {seconds / records * 1e6:6.1f} µs a record")

        line("ingest", cpu["ingest"])
        line("  split into fresh and touching groups", cpu.get("split", 0.0))
        if "profiles" in cpu:
            line("  new customers' rows, without profiles", cpu.get("rows", 0.0))
            line("  profiles", cpu["profiles"])
        else:  # one compiled call a batch writes the rows and the profiles (native/src/batch.rs)
            line("  new customers' rows and profiles", cpu.get("rows", 0.0))
        line("  SQLite's inserts", cpu.get("inserts", 0.0))
        parts = sum(cpu.get(part, 0.0) for part in ("split", "rows", "profiles", "inserts"))
        line("  the rest (newest versions, the planner)", cpu["ingest"] - parts)
        counts = [
            sum(len(group[kind]) for groups in written for group in groups) for kind in range(len(_KINDS))
        ]
        other = "narrow" if args.narrow_idents else "staged" if args.staged_json else None
        layouts = ("rows", other, "rows", other) if other else ("rows",)
        for round_, layout in enumerate(layouts):
            narrow, staged = layout == "narrow", layout == "staged"
            seconds = replay(written, folder / f"replay{round_}.sqlite3", narrow=narrow, staged=staged)
            how = "IDENT items of their own" if narrow else "the items table"
            print(f"  replayed into {how}{', staged as JSON' if staged else ''}:")
            for kind, count in enumerate(counts):
                if count:
                    per_row = seconds[kind] / count * 1e6
                    print(f"    {_KINDS[kind]:<8} {count:9,} rows {per_row:5.2f} µs a row")
            line("  all kinds", sum(seconds))


if __name__ == "__main__":
    main()
