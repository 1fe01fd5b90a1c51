"""Cold start: what importing each handler costs, next to the cost of importing boto3 alone.

Each number is the best of several fresh interpreters (a cold start imports everything anew), timed
inside the interpreter in CPU time, so Python's own start-up is left out as Lambda's runtime start-up
is. The best, not the median: on a shared 2-core machine the median mostly measures the neighbours.

* ``import``: ``import functions.<name>``, which builds the module-level objects (Logger, Metrics,
  the batch processor). No boto3 here: handlers import it on first use.
* ``+ first use``: what the first invocation adds before doing any work: the wiring, the boto3
  clients and stores that handler uses (no network call is made).
* ``pull, Tracer on``: the same with ``PROFILESYNC_TRACING=sdk``, i.e. Powertools' Tracer, which
  imports aws_xray_sdk; this is why the template leaves it off by default.

    python -m bench.cold_start [--runs 5]

The target (issue 15) is each handler's import at most ``IMPORT_LIMIT`` times ``import boto3``; the
ratio to that limit is printed (at most 1.00 meets it). First use is printed beside it: it is part of
every cold start too. Figures from a shared machine are noisy: run it when the machine is quiet.
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
#: Each handler's import may cost at most this many times ``import boto3``.
IMPORT_LIMIT = 1.3

ENV = {
    # Lambda sets it; the handlers then manage the collector for the cold start (core/runtime.py).
    "AWS_LAMBDA_FUNCTION_NAME": "profilesync-bench",
    "TABLE_NAME": "profilesync-bench-profiles",
    "INGEST_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/profilesync-bench-ingest",
    "CONNECTORS": '{"hubspot": {}, "shopify-eu": {"vendor": "shopify", "options": {"shop": "acme-eu"}}}',
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
    "dispatch": "w.client('lambda'); w.sync_state; w.settings.document",
    "pull": "w.client('sqs'); w.client('lambda'); w.sync_state; w.leases",
    "merge": "w.profiles",
    "push": "w.profiles; w.sync_state",
    "privacy": "w.profiles; w.erasure; import connectors._http",
}

# CPU time of the interpreter (time.process_time), not wall time: importing is CPU-bound (the files
# are in the page cache after the first run), and on a shared machine wall time mostly measures the
# neighbours. The ratio to boto3 is what the target is about, and CPU time keeps it steady.
PROBE = """
import json, time
t0 = time.process_time()
{imports}
t1 = time.process_time()
{first_use}
t2 = time.process_time()
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
    print(f"cold start, CPU time, best of {args.runs} fresh interpreters (python {sys.version.split()[0]})")
    print(f"  {'import boto3':<34} {boto3_s * 1000:7.0f} ms   1.00x  (the yardstick)")
    for name, first_use in FIRST_USE.items():
        imported, used = measure(
            f"import functions.{name}",
            f"from functions._wiring import wiring\nw = wiring()\n{first_use.replace('; ', chr(10))}",
            runs=args.runs,
        )
        ratio = imported / boto3_s
        print(
            f"  {name + ' handler':<20} import {imported * 1000:7.0f} ms {ratio:5.2f}x boto3 "
            f"({ratio / IMPORT_LIMIT:4.2f} of the {IMPORT_LIMIT}x limit);"
            f"  + first use {used * 1000:5.0f} ms (total {(imported + used) / boto3_s:4.2f}x)"
        )
    traced, _ = measure("import functions.pull", runs=args.runs, PROFILESYNC_TRACING="sdk")
    print(
        f"  {'pull handler, Tracer on':<20} import {traced * 1000:7.0f} ms {traced / boto3_s:5.2f}x boto3"
        "  (PROFILESYNC_TRACING=sdk: aws_xray_sdk; off by default)"
    )


if __name__ == "__main__":
    main()
