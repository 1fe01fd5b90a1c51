"""``resolve --out``'s lines, by the Python path and by the compiled pages, on one store.

    python -m bench.resolve_output_lines --file FILE [--rounds 5]

Runs ``profilesync resolve FILE`` once in this process and keeps a copy of its store when the
output is about to be written (``write_store``), then writes every profile of that copy to a
temporary file in one process (what both writing processes of ``resolve`` do between them), the
Python path (``document_line`` and json's encoder) and the extension's ``profile_lines``
(native/src/out_line.rs) alternating, ``--rounds`` times each. Prints the CPU µs a profile and a
line of the input of each round, the best of each way and their ratio, and checks the two wrote
the same bytes each round (sha256). CPU seconds, not wall: the machine is shared.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from profilesync import resolve_output
from profilesync.cli import main as cli_main


def _keep_store(folder: Path) -> Path:
    kept = folder / "kept.sqlite"
    original = resolve_output.write_store

    def keeping(store: Path, *args: Any, **kwargs: Any) -> int:
        with sqlite3.connect(store) as source, sqlite3.connect(kept) as copy:
            source.backup(copy)
        return original(store, *args, **kwargs)

    resolve_output.write_store = keeping
    return kept


def _written(store: Path, out: Path, lines: Any) -> tuple[float, int, str]:
    resolve_output.LINES = lines
    connection = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
    with connection, out.open("w", encoding="utf-8") as file:
        cpu = time.process_time()
        count = resolve_output._write_range(connection, "", None, file)
        spent = time.process_time() - cpu
    connection.close()
    return spent, count, hashlib.sha256(out.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    compiled = resolve_output.LINES
    if compiled is None:
        raise SystemExit("no profilesync_native.profile_lines (make native), or PROFILESYNC_NATIVE is off")
    lines_in = sum(1 for _ in args.file.open("rb"))
    with tempfile.TemporaryDirectory() as folder:
        original = resolve_output.write_store
        kept = _keep_store(Path(folder))
        try:
            cli_main(["resolve", str(args.file), "--out", str(Path(folder) / "out.jsonl"), "--quiet"])
        finally:
            resolve_output.write_store = original
        best: dict[str, float] = {}
        try:
            for round_ in range(args.rounds):
                digests = {}
                for way, lines in (("python", None), ("compiled", compiled)):
                    spent, count, digests[way] = _written(kept, Path(folder) / f"{way}.jsonl", lines)
                    best[way] = min(best.get(way, spent), spent)
                    per_profile, per_line = 1e6 * spent / count, 1e6 * spent / lines_in
                    print(
                        f"round {round_ + 1} {way:8} {spent:6.2f} CPU s  {per_profile:6.2f} µs a profile"
                        f"  {per_line:6.2f} µs a line ({count:,} profiles, {lines_in:,} lines)"
                    )
                if digests["python"] != digests["compiled"]:
                    raise SystemExit(f"the two ways wrote other bytes: {digests}")
        finally:
            resolve_output.LINES = compiled
    ratio = best["compiled"] / best["python"]
    python, native = best["python"], best["compiled"]
    print(f"best: python {python:.2f} CPU s, compiled {native:.2f} ({ratio:.2f}x), same bytes")


if __name__ == "__main__":
    main()
