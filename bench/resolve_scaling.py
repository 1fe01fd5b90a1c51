"""Resolve at scale: ``profilesync resolve`` next to the in-memory job and a DuckDB peer, on one file.

    python -m bench.resolve_scaling [--sizes 10000,100000,250000] [--million] [--keep DIR]

For each size it generates overlapping people across three tools (crm, shop, email: the population
of core.testing.population, 2% malformed records) into one JSON-lines file, then runs, each in its
own process so that its peak memory is its own:

* ``profilesync resolve FILE --out ...``: the command a user runs, on its embedded SQLite store;
* the same job on the in-memory store (``profilesync.resolve.resolve`` with InMemoryProfileStore);
* a peer: DuckDB (``pip install 'profilesync[bench]'``) reading the same file, normalising email
  and phone in SQL, grouping records into people by connected components over them (label
  propagation until nothing changes), and writing one line per person with identifiers, sources,
  latest names and country, and paid lifetime value per currency.

It prints seconds, records/s and peak MB of each, and the ratios against the targets of issue 12:
records/s at 100k within 20% of 10k (linear), the embedded store within 1.5x of the in-memory one,
within 4x of the peer at 250k, under 1 GB at 250k; ``--million`` adds a 1,000,000-record run.
Figures depend on what else the machine runs: compare the ratios of one run, not runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from core import ingest_native
from core.testing.population import SOURCES, malformed, people, records_for

#: Targets of issue 12.
LINEAR_MIN_RATIO = 0.80  # records/s at the larger size over records/s at 10k
EMBEDDED_MAX_RATIO = 1.5  # resolve on SQLite over the same job on the in-memory store
PEER_MAX_RATIO = 4.0  # resolve over the DuckDB peer at 250k
PEAK_MAX_MB = 1024  # at 250k
RECORDS_PER_PERSON = 1.87  # the population's average (crm 70%, shop 55%, email 60%, at least one)


@dataclass
class Run:
    job: str
    records: int
    seconds: float
    cpu_seconds: float
    peak_mb: float
    output_lines: int

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def cpu_rate(self) -> float:
        return self.records / self.cpu_seconds


def generate(path: Path, records: int, seed: int = 12) -> int:
    """Write about ``records`` shuffled records (2% malformed) and return how many were written."""
    rng = random.Random(seed)
    crowd = people(max(1, round(records / RECORDS_PER_PERSON / 1.02)), seed)
    lines = [json.dumps(r, ensure_ascii=False) for p in crowd for r in records_for(p, rng)]
    lines += [json.dumps(malformed(rng, i)) for i in range(len(lines) // 50)]
    rng.shuffle(lines)
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")
    return len(lines)


def source_file(given: Path | None, folder: Path, records: int) -> Path:
    """``given``, or a population of about ``records`` records written into ``folder`` (``generate``):
    the input of the benches that take ``--file`` or ``--records``."""
    if given is not None:
        return given
    source = folder / "records.jsonl"
    generate(source, records)
    return source


def measure(job: str, command: list[str], records: int, output: Path) -> Run:
    """Run ``command`` in a child process; its wall time and its own peak resident memory."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(Path.cwd()), os.environ.get("PYTHONPATH")])),
    }
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    if status != 0:
        raise SystemExit(f"{job} failed (status {status}): {stderr[-2000:]}")
    lines = sum(1 for _ in output.open(encoding="utf-8")) if output.exists() else 0
    cpu = usage.ru_utime + usage.ru_stime
    return Run(job, records, seconds, cpu, usage.ru_maxrss / 1024, lines)  # ru_maxrss: KiB on Linux


def run_size(records: int, folder: Path) -> list[Run]:
    source = folder / f"records-{records}.jsonl"
    written = generate(source, records)
    python = sys.executable
    runs = []
    out = folder / f"resolve-{records}.jsonl"
    runs.append(
        measure(
            "resolve (SQLite)",
            [python, "-m", "profilesync.cli", "resolve", str(source), "--out", str(out), "--quiet"],
            written,
            out,
        )
    )
    out = folder / f"memory-{records}.jsonl"
    runs.append(
        measure(
            "in-memory store",
            [python, "-m", "bench.resolve_scaling", "--child-memory", str(source), str(out)],
            written,
            out,
        )
    )
    out = folder / f"duckdb-{records}.jsonl"
    runs.append(
        measure(
            "DuckDB peer",
            [python, "-m", "bench.resolve_scaling", "--child-duckdb", str(source), str(out)],
            written,
            out,
        )
    )
    for path in folder.glob(f"*-{records}.jsonl"):
        path.unlink()
    for path in folder.glob(f"*-{records}.quarantine.jsonl"):
        path.unlink()
    return runs


def child_memory(source: Path, out: Path) -> None:
    """The in-memory job: what ``profilesync resolve`` does (batches that keep each person's lines
    together, connectors.jsonl.batched), on InMemoryProfileStore."""
    from connectors.jsonl.batched import read_jsonl_batched
    from core.runtime import bulk_gc
    from core.storage.memory import InMemoryProfileStore
    from profilesync.resolve import EMBEDDED_BATCH_SIZE, resolve, write_profiles

    store = InMemoryProfileStore()
    with bulk_gc(), out.open("w", encoding="utf-8") as handle:
        resolve(read_jsonl_batched(source, EMBEDDED_BATCH_SIZE), store)
        write_profiles(store.iter_profiles(), handle)


def child_duckdb(source: Path, out: Path) -> None:
    """The peer: the same grouping by normalised email and phone, and a profile per group, in SQL."""
    try:
        import duckdb
    except ImportError:
        raise SystemExit(
            "the peer needs DuckDB: pip install 'profilesync[bench]' (make bench does)"
        ) from None
    db = duckdb.connect()
    db.execute(
        f"""
        CREATE TABLE raw AS SELECT row_number() OVER () AS rid, *
        FROM read_json('{source}', format = 'newline_delimited', columns = {{
            'source': 'VARCHAR', 'id': 'VARCHAR', 'updated_at': 'VARCHAR', 'email': 'VARCHAR',
            'phone': 'VARCHAR', 'first_name': 'VARCHAR', 'last_name': 'VARCHAR', 'country': 'VARCHAR',
            'orders': 'JSON'}})
        """
    )
    # Normalise: email lower-cased and trimmed; phone to E.164 for the formats the population has
    # (+CC..., GB national 0..., US national (NXX) NXX-XXXX); a bad time or no identifier drops the row.
    db.execute(
        """
        CREATE TABLE r AS SELECT * FROM (
            SELECT rid, source, id, first_name, last_name, country, orders,
                try_cast(updated_at AS TIMESTAMPTZ) AS changed,
                CASE WHEN regexp_matches(lower(trim(email)), '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$')
                     THEN lower(trim(email)) END AS email,
                CASE WHEN length(d) < 8 THEN NULL
                     WHEN starts_with(trim(phone), '+') THEN '+' || d
                     WHEN starts_with(d, '0') THEN '+44' || substr(d, 2)
                     WHEN length(d) = 10 THEN '+1' || d END AS phone
            FROM (SELECT *, regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g') AS d FROM raw))
        WHERE changed IS NOT NULL AND (email IS NOT NULL OR phone IS NOT NULL)
        """
    )
    db.execute(
        """
        CREATE TABLE edge AS
            SELECT rid, 'email#' || email AS k FROM r WHERE email IS NOT NULL
            UNION ALL SELECT rid, 'phone#' || phone FROM r WHERE phone IS NOT NULL;
        CREATE TABLE label AS SELECT rid, rid AS c FROM r;
        """
    )
    while True:  # label propagation: each record takes the smallest label its identifiers reach
        db.execute(
            """
            CREATE OR REPLACE TABLE key_label AS
                SELECT k, min(c) AS c FROM edge JOIN label USING (rid) GROUP BY k;
            CREATE OR REPLACE TABLE next_label AS
                SELECT label.rid, least(label.c, coalesce(min(key_label.c), label.c)) AS c
                FROM label LEFT JOIN edge USING (rid) LEFT JOIN key_label USING (k)
                GROUP BY label.rid, label.c;
            """
        )
        changed = db.execute(
            "SELECT count(*) FROM label JOIN next_label USING (rid) WHERE label.c <> next_label.c"
        )
        done = changed.fetchone() == (0,)
        db.execute("DROP TABLE label; ALTER TABLE next_label RENAME TO label")
        if done:
            break
    db.execute(
        f"""
        COPY (
            WITH member AS (SELECT r.*, label.c FROM r JOIN label USING (rid)),
            paid AS (
                SELECT c, o ->> 'currency' AS currency,
                    sum(TRY_CAST(o ->> 'total' AS DECIMAL(18, 2))) AS total
                FROM (
                    SELECT c, unnest(from_json(orders, '["JSON"]')) AS o
                    FROM member WHERE orders IS NOT NULL)
                WHERE coalesce(o ->> 'status', 'paid') = 'paid' GROUP BY ALL),
            ltv AS (
                SELECT c, map_from_entries(list((currency, total))) AS lifetime_value
                FROM paid GROUP BY c)
            SELECT member.c AS customer,
                list(DISTINCT source || ':contact:' || id) AS sources,
                list(DISTINCT email) FILTER (WHERE email IS NOT NULL) AS emails,
                list(DISTINCT phone) FILTER (WHERE phone IS NOT NULL) AS phones,
                arg_max(first_name, changed) FILTER (WHERE first_name IS NOT NULL) AS first_name,
                arg_max(last_name, changed) FILTER (WHERE last_name IS NOT NULL) AS last_name,
                arg_max(country, changed) FILTER (WHERE country IS NOT NULL) AS country,
                any_value(ltv.lifetime_value) AS lifetime_value
            FROM member LEFT JOIN ltv USING (c) GROUP BY member.c
        ) TO '{out}' (FORMAT JSON)
        """
    )


def report(runs: list[Run]) -> None:
    print(
        f"{'records':>10}  {'job':<18} {'seconds':>8} {'records/s':>10} {'CPU s':>8} {'per CPU s':>10} "
        f"{'peak MB':>8} {'profiles':>9}"
    )
    for run in runs:
        print(
            f"{run.records:>10,}  {run.job:<18} {run.seconds:>8.1f} {run.rate:>10,.0f} "
            f"{run.cpu_seconds:>8.1f} {run.cpu_rate:>10,.0f} {run.peak_mb:>8,.0f} {run.output_lines:>9,}"
        )
    by = {(r.job, r.records): r for r in runs}
    sizes = sorted({r.records for r in runs})
    resolve = [by[("resolve (SQLite)", n)] for n in sizes]
    print(
        "targets, on wall time, and [on CPU time], which other work on the machine disturbs less "
        "(a ratio meets its target on the right side of it):"
    )
    smallest = resolve[0]
    for run in resolve[1:]:
        wall, cpu = run.rate / smallest.rate, run.cpu_rate / smallest.cpu_rate
        print(
            f"  linear: records/s at {run.records:,} / at {smallest.records:,} = {wall:.2f} [{cpu:.2f}] "
            f"(>= {LINEAR_MIN_RATIO:.2f})"
        )
    for n in sizes:
        ours, memory, peer = by[("resolve (SQLite)", n)], by[("in-memory store", n)], by[("DuckDB peer", n)]
        print(
            f"  at {n:,}: embedded / in-memory {ours.seconds / memory.seconds:.2f} "
            f"[{ours.cpu_seconds / memory.cpu_seconds:.2f}] (<= {EMBEDDED_MAX_RATIO:.2f}); "
            f"resolve / peer {ours.seconds / peer.seconds:.1f} [{ours.cpu_seconds / peer.cpu_seconds:.1f}] "
            f"(<= {PEER_MAX_RATIO:.1f} at 250k); peak {ours.peak_mb:,.0f} MB (< {PEAK_MAX_MB:,} at 250k)"
        )
        if ours.output_lines != memory.output_lines:
            print(f"  !! at {n:,} the SQLite and in-memory jobs wrote different numbers of profiles")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,250000", help="record counts, comma-separated")
    parser.add_argument("--million", action="store_true", help="add a run of 1,000,000 records")
    parser.add_argument(
        "--keep", type=Path, default=None, help="work in this folder (default: a temporary one)"
    )
    parser.add_argument("--child-memory", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-duckdb", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        child_memory(*args.child_memory)
        return
    if args.child_duckdb:
        child_duckdb(*args.child_duckdb)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.million:
        sizes.append(1_000_000)
    print(f"resolve scaling: {', '.join(f'{n:,}' for n in sizes)} records over {', '.join(SOURCES)}")
    print(f"  the compiled path (core.ingest_native): {ingest_native.UNAVAILABLE or 'on'}")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="resolve-scaling-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            runs.extend(run_size(n, folder))
            print(f"  {n:,} records done", flush=True)
    report(runs)


if __name__ == "__main__":
    main()
