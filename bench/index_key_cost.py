"""The CPU cost of keying the link and history index items by keyed hash (priv30): ``block_item_key``
and ``named_pk`` with the audit salt (HMAC-SHA256, core.key_hashing) against without (BLAKE2b, the
previous layout and the embedded store's), per key, by ``time.process_time``, old and new
alternately (a shared machine: CPU, not wall). Prints each round and the extra cost per key against
its limit: a record reads and files about a dozen keys, so 5 us a key is 60 us a record, a few
percent of ingest's CPU per record (docs/architecture.md).

    python -m bench.index_key_cost [--keys 200000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from core.governance.history_names import named_pk
from core.link_blocks import block_item_key

#: The most extra CPU a keyed index key may cost over the unkeyed one (microseconds).
LIMIT_US = 5.0
SALT = "a-deployed-audit-salt-of-32-chars"


def _per_key(fn: Callable[[str], str], values: list[str]) -> float:
    started = time.process_time()
    for value in values:
        fn(value)
    return (time.process_time() - started) / len(values) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    keys = [f"pf:sw{i % 997}a{i}aa:{chr(97 + i % 26)}" for i in range(args.keys)]
    names = [f"email#person{i}@example.com" for i in range(args.keys)]
    cases: dict[str, tuple[Callable[[str], str], list[str]]] = {
        "block_item_key unkeyed": (block_item_key, keys),
        "block_item_key keyed": (lambda k: block_item_key(k, SALT), keys),
        "named_pk unkeyed": (named_pk, names),
        "named_pk keyed": (lambda n: named_pk(n, SALT), names),
    }
    seen: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(args.rounds):
        for label, (fn, values) in cases.items():
            seen[label].append(_per_key(fn, values))
    for label, figures in seen.items():
        print(f"{label:24} " + " ".join(f"{f:5.2f}" for f in figures) + " us a key")
    worst = 0.0
    for kind in ("block_item_key", "named_pk"):
        extra = min(seen[f"{kind} keyed"]) - min(seen[f"{kind} unkeyed"])
        worst = max(worst, extra)
        print(
            f"{kind}: +{extra:.2f} us a key keyed (ratio to the {LIMIT_US} us limit: {extra / LIMIT_US:.2f})"
        )
    return 0 if worst <= LIMIT_US else 1


if __name__ == "__main__":
    raise SystemExit(main())
