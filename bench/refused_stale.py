"""What merge pays to keep the index of refused values free of stale entries (core.privacy_refused_stale).

On the embedded store (SQLite), ``--records`` people are ingested with a suppression check (a tenth
with a refused value), then pulled again changed (the update path: every customer loaded), half of
those with a refused value now without it. Printed: the CPU seconds of the two ingests, those spent in
the stale-entry work (``replaced_refused`` in the plan, ``after_commit`` after each commit: the entries
written again, the stale ones deleted and their records' ``source#`` items read), its share of the
ingest, and that share against its limit of 10% (a ratio of 1 is the limit).

    python -m bench.refused_stale [--records 4000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import core.privacy_refused_stale as stale
from core.pipeline import IngestSettings, ingest
from core.schema import DroppedValue, SourceRecord
from core.storage.refused_index import refused_index
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_privacy import SQLiteSuppressionStore
from core.suppression import SuppressionCheck
from core.testing.records import make_record

LIMIT = 0.10
BATCH = 100


def _records(count: int, day: int) -> list[SourceRecord]:
    out = []
    for n in range(count):
        record = make_record(
            "crm", str(n), email=f"p{n}@example.com", day=day, traits={"first_name": f"N{n}.{day}"}
        )
        # a tenth hold a refused address; pulled again, every other one of them has lost it
        if n % 10 == 0 and not (day and n % 20 == 0):
            refused = DroppedValue(field="email", value=f"X <x{n}@example.org>", reason="not an email")
            record = record.model_copy(update={"dropped": (refused,)})
        out.append(record)
    return out


def _timed(spent: list[float], function: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - started

    return timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=4000)
    args = parser.parse_args(argv)
    spent = [0.0]
    stale.after_commit = _timed(spent, stale.after_commit)  # type: ignore[method-assign]
    stale.replaced_refused = _timed(spent, stale.replaced_refused)  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as folder, SQLiteDatabase(Path(folder) / "bench.sqlite3") as database:
        profiles = SQLiteProfileStore(database)
        check = SuppressionCheck(SQLiteSuppressionStore(database), "bench-salt")
        settings = IngestSettings(suppression=check, sleep=lambda _: None)
        started = time.process_time()
        for day in (0, 1):
            batch = _records(args.records, day)
            for start in range(0, len(batch), BATCH):
                ingest(batch[start : start + BATCH], profiles, settings)
        total = time.process_time() - started
        index = refused_index(profiles)
        assert index is not None
        left = sum(
            len(r)
            for r in index.records(
                [check.hash(f"email#x{n}@example.org") for n in range(0, args.records, 10)]
            ).values()
        )
    expected = len(range(10, args.records, 20))
    assert left == expected, f"{left} entries left, {expected} expected: the stale ones were not deleted"
    share = spent[0] / total
    again = f"{args.records:,} again ({args.records // 20:,} losing a refused value)"
    print(f"records: {args.records:,} new, then {again}")
    print(f"ingest: {total:.2f} CPU s; stale-entry work: {spent[0]:.3f} CPU s ({share:.1%})")
    print(f"ratio against the limit of {LIMIT:.0%}: {share / LIMIT:.2f}")
    return 0 if share <= LIMIT else 1


if __name__ == "__main__":
    raise SystemExit(main())
