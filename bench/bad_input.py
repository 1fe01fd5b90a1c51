"""Bad input: 10,000 generated malformed records through read -> normalise -> ingest.

No crash, and every record is accounted for: records in = normalised + quarantined. The records are
drawn from a seeded generator that breaks every field in the ways exports break: wrong types,
invalid emails and phones, missing ids, unparseable timestamps, nested junk, huge strings, NaN
amounts, lines that are not JSON at all.

    python -m bench.bad_input [--records 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from connectors.jsonl import read_jsonl
from core.storage.memory import InMemoryProfileStore
from profilesync.resolve import resolve

JUNK: list[Any] = [
    None,
    "",
    " ",
    0,
    -1,
    3.5,
    True,
    [],
    {},
    [1, 2],
    {"a": {"b": []}},
    "NaN",
    "null",
    "x" * 5000,
    "\u0000",
    "😀",
    "Robert'); DROP TABLE",
    "+",
    "++44",
    "0",
    "1e999",
]


def _field(rng: random.Random, good: Any) -> Any:
    return good if rng.random() < 0.35 else rng.choice(JUNK)


def malformed(rng: random.Random, i: int) -> str:
    if rng.random() < 0.05:
        return rng.choice(["{not json", "[1,2,3]", '"just a string"', '{"id": }', "\ufeff{}"])
    record: dict[str, Any] = {
        "source": _field(rng, rng.choice(["crm", "shop"])),
        "id": _field(rng, f"x{i}"),
        "updated_at": _field(rng, rng.choice(["2026-01-05T10:00:00Z", "2026-13-45", "yesterday", 1e20])),
        "email": _field(rng, rng.choice(["ann@example.com", "ann@", "@x.com", "a b@c.d", ["x@y.z", 5]])),
        "phone": _field(rng, rng.choice(["+44 20 7946 0018", "12", "phone", ["+1", None]])),
        "first_name": _field(rng, "ann"),
        "country": _field(rng, rng.choice(["GB", "Atlantis", "ZZ"])),
        "consent": _field(rng, rng.choice([{"email": True}, {"email": "maybe"}, {"sms": {"granted": 1}}])),
        "orders": _field(
            rng,
            [
                {
                    "id": _field(rng, "o1"),
                    "total": _field(rng, "19.90"),
                    "currency": _field(rng, rng.choice(["GBP", "XXX", "pounds"])),
                    "created_at": _field(rng, "2026-01-02T09:00:00Z"),
                }
            ],
        ),
    }
    return json.dumps({k: v for k, v in record.items() if rng.random() < 0.9})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bad.jsonl"
        path.write_text("\n".join(malformed(rng, i) for i in range(args.records)) + "\n", encoding="utf-8")
        reasons: Counter[str] = Counter()
        start = time.perf_counter()
        report = resolve(read_jsonl(path), InMemoryProfileStore(), quarantine=lambda q: None)
        elapsed = time.perf_counter() - start
        reasons = report.quarantine_reasons
    accounted = report.normalised + report.quarantined
    print(f"bad input: {report.read:,} records read in {elapsed:.2f} s, no crash")
    print(f"  normalised {report.normalised:,} + quarantined {report.quarantined:,} = {accounted:,}")
    for reason, count in reasons.most_common(6):
        print(f"    {count:>6,}  {reason}")
    print(
        f"  records in = normalised + quarantined: {'yes' if accounted == args.records else 'NO'}; "
        f"ratio {accounted / args.records:.3f} (target 1.000)"
    )


if __name__ == "__main__":
    main()
