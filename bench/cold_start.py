"""Cold start: what importing each handler costs, next to the cost of importing boto3 alone.

Each number is the best of several fresh interpreters (a cold start imports everything anew), timed
inside the interpreter, so Python's own start-up is left out as Lambda's runtime start-up is. The
best, not the median: on a shared 2-core machine the median mostly measures the neighbours.

* ``import``: ``import functions.<name>``, which builds the module-level objects (Logger, Metrics,
  the batch processor). No boto3 here: handlers import it on first use.
* ``+ first use``: what the first invocation adds before doing any work: the wiring, the boto3
  clients and stores that handler uses (no network call is made).
* ``pull, Tracer on``: the same with ``PROFILESYNC_TRACING=sdk``, i.e. Powertools' Tracer, which
  imports aws_xray_sdk; this is why the template leaves it off by default.

    python -m bench.cold_start [--runs 5]

Informational: it always exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ENV = {
    "TABLE_NAME": "profilesync-bench-profiles",
    "INGEST_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/profilesync-bench-ingest",
    "CONNECTORS": "{}",
    "POWERTOOLS_SERVICE_NAME": "profilesync",
    "POWERTOOLS_METRICS_NAMESPACE": "ProfileSync",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "PROFILESYNC_TRACING": "lambda",
}

#: What the first invocation of each handler builds before its first AWS call.
FIRST_USE = {
    "pull": "w.client('sqs'); w.client('lambda'); w.sync_state; w.leases",
    "merge": "w.profiles",
    "push": "w.profiles; w.sync_state",
    "privacy": "w.profiles; w.erasure; import connectors._http",
    "profiles": "from functions._governance import governance; governance()",
}

PROBE = """
import json, time
t0 = time.perf_counter()
{imports}
t1 = time.perf_counter()
{first_use}
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "first_use": t2 - t1}}))
"""


def measure(imports: str, first_use: str = "pass", runs: int = 5, **env: str) -> tuple[float, float]:
    """Least seconds of (imports, first use) over ``runs`` fresh interpreters."""
    code = PROBE.format(imports=imports, first_use=first_use)
    environ = {**os.environ, **ENV, **env, "PYTHONPATH": str(ROOT)}
    samples: list[dict[str, float]] = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"probe failed:\n{done.stderr}")
        samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return min(s["import"] for s in samples), min(s["first_use"] for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per measurement")
    args = parser.parse_args()

    boto3_s, _ = measure("import boto3", runs=args.runs)
    print(f"cold start, best of {args.runs} fresh interpreters (python {sys.version.split()[0]})")
    print(f"  {'import boto3':<34} {boto3_s * 1000:7.0f} ms   1.00x  (the yardstick)")
    for name, first_use in FIRST_USE.items():
        imported, used = measure(
            f"import functions.{name}",
            f"from functions._wiring import wiring\nw = wiring()\n{first_use.replace('; ', chr(10))}",
            runs=args.runs,
        )
        print(
            f"  {name + ' handler':<20} import {imported * 1000:7.0f} ms {imported / boto3_s:5.2f}x boto3;"
            f"  + first use {used * 1000:5.0f} ms (total {(imported + used) / boto3_s:4.2f}x)"
        )
    traced, _ = measure("import functions.pull", runs=args.runs, PROFILESYNC_TRACING="sdk")
    print(
        f"  {'pull handler, Tracer on':<20} import {traced * 1000:7.0f} ms {traced / boto3_s:5.2f}x boto3"
        "  (PROFILESYNC_TRACING=sdk: aws_xray_sdk; off by default)"
    )


if __name__ == "__main__":
    main()
