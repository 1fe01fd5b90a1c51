"""Cold start: what each handler's import and first invocation cost, next to ``import boto3`` alone.

Each number is the best of several fresh interpreters (a cold start imports everything anew), timed
inside the interpreter in CPU time, so Python's own start-up is left out as Lambda's runtime start-up
is. The best, not the median: on a shared 2-core machine the median mostly measures the neighbours.
The interpreters get the environment Lambda and template.yaml give a function: ``AWS_LAMBDA_FUNCTION_NAME``
(the handlers then manage the collector for the cold start: core/runtime.py), the configuration
document named by ``PROFILESYNC_CONFIG`` (YAML, as ``sam build`` bundles it), credentials in Secrets
Manager under ``PROFILESYNC_SECRETS_PREFIX``.

* ``import``: ``import functions.<name>``, which builds the module-level objects (Logger, Metrics,
  the batch processor), from compiled code as Lambda runs it (each tree measured is compiled first:
  ``precompile``). No boto3 here: handlers import botocore on first use.
* ``first use``: the first invocation's own work, with every AWS call answered by moto's server on
  this machine (``AWS_ENDPOINT_URL``; its CPU is not the probe's). Merge, privacy and the profile API
  run their real handler: merge ingests one SQS message of one record (erased people checked with
  the audit salt from Secrets Manager), privacy serves an export (the person looked up, the audit
  item written), the profile API answers a support role's GET /profiles?email= for the person merge
  ingested (role policy, lookup, view, read audit). Pull, push and the dispatcher stop
  where they would call a vendor or start another function: each validates its event, makes its
  first call of each AWS client it uses, and builds its connectors (credentials from Secrets Manager);
  pull also maps and normalises one record, as its first page does.
* ``pull, Tracer on``: the import with ``PROFILESYNC_TRACING=sdk``, i.e. Powertools' Tracer, which
  imports aws_xray_sdk; this is why the template leaves it off by default.

    python -m bench.cold_start [--runs 7] [--baseline DIR] [--bundle [--no-pyc]]

``--baseline DIR`` measures the code in DIR too (a checkout of main, say: ``git worktree add`` or
``git archive main | tar -x -C DIR``), alternating with this tree run by run, so both see the same
load; each row then shows DIR's figures and this tree's.

``--bundle`` measures what Lambda runs instead of this virtualenv: each tree's function code as
``sam build`` makes it (scripts/build_lambda.py: only what the handlers import, precompiled), with
the lock file's dependencies installed for this machine (phonenumberslite, no CLI extras) and a boto3
standing in for the runtime's, and nothing else on the path (``python -S``). The dependencies are the
ones scripts/check-template.sh installs (its cache, built here if missing: PyPI). ``--no-pyc`` leaves
the code uncompiled and lets nothing be written, as a bundle of .py files in Lambda's read-only
/var/task would run.

The target (issue 15) is each handler's import at most ``IMPORT_LIMIT`` times ``import boto3``; the
ratio to that limit is printed (at most 1.00 meets it). First use is printed beside it, and the total
of both as a multiple of ``import boto3``: both are part of every cold start. Figures from a shared
machine are noisy: run it when the machine is quiet. Needs moto's server (the ``local`` extra, which
``make`` installs). Informational: it always exits 0.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import importlib.util
import json
import logging
import os
import py_compile
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.cold_start_probes import (
    CONFIG_DOCUMENT,
    CONTEXT,
    ENV,
    FIRST_USE,
    INGEST_EVENT,
    PROFILE_REQUEST,
    RECORD,
    REGION,
    SECRETS,
    SECRETS_PREFIX,
    STREAM_RECORD,
    TABLE,
    probe_first_use,
)

ROOT = Path(__file__).resolve().parent.parent
#: Each handler's import may cost at most this many times ``import boto3``.
IMPORT_LIMIT = 1.3


# CPU time of the interpreter (time.process_time), not wall time: importing is CPU-bound (the files
# are in the page cache after the first run), and on a shared machine wall time mostly measures the
# neighbours. The ratio to boto3 is what the target is about, and CPU time keeps it steady.
PROBE = """
import json, sys, time
t0 = time.process_time()
{imports}
t1 = time.process_time()
{first_use}
t2 = time.process_time()
sys.__stdout__.write("\\n" + json.dumps({{"import": t1 - t0, "first_use": t2 - t1}}) + "\\n")
"""


#: Set by ``--bundle``: the dependencies' directories, put on the path after the code, and the
#: interpreter's flags (``-S``: no virtualenv, no site directory).
DEPENDENCIES: list[Path] = []
PYTHON_FLAGS: list[str] = []


def measure_once(code_root: Path, imports: str, first_use: str, env: dict[str, str]) -> tuple[float, float]:
    """(import, first use) seconds of one fresh interpreter running the code in ``code_root``."""
    code = PROBE.format(imports=imports, first_use=first_use)
    path = os.pathsep.join(str(p) for p in [code_root, *DEPENDENCIES])
    environ = {**os.environ, **ENV, **env, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, *PYTHON_FLAGS, "-c", code],
        cwd=code_root,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"probe failed in {code_root}:\n{done.stderr}")
    sample = json.loads(done.stdout.strip().splitlines()[-1])
    return sample["import"], sample["first_use"]


def best_of(
    roots: list[Path], imports: str, first_use: str, runs: int, env: dict[str, str]
) -> list[tuple[float, float]]:
    """For each root, the least (import, first use) over ``runs`` interpreters, the roots alternating."""
    samples: list[list[tuple[float, float]]] = [[] for _ in roots]
    for _ in range(runs):
        for index, root in enumerate(roots):
            samples[index].append(measure_once(root, imports, first_use, env))
    return [(min(s[0] for s in runs_of), min(s[1] for s in runs_of)) for runs_of in samples]


@contextmanager
def aws_endpoint() -> Iterator[str]:
    """moto's server on a free local port, holding the template's table, the ingest queue and the
    secrets; yields its URL."""
    from moto.server import ThreadedMotoServer

    from profilesync.embedded import model_aws_semantics
    from profilesync.template import create_table

    model_aws_semantics()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        import boto3

        def client(service: str) -> Any:
            return boto3.client(
                service,  # type: ignore[call-overload]
                endpoint_url=url,
                region_name=REGION,
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
            )

        create_table(client("dynamodb"), TABLE)
        client("sqs").create_queue(QueueName="profilesync-bench-ingest")
        secrets = client("secretsmanager")
        for name, value in SECRETS.items():
            secrets.create_secret(Name=SECRETS_PREFIX + name, SecretString=value)
        yield url
    finally:
        server.stop()


def host_layer() -> Path:
    """The lock file's dependencies installed for this machine, and boto3 in ``_runtime`` standing in
    for the Lambda runtime's: scripts/check-template.sh's cache, made the same way when missing."""
    lock = ROOT / "deploy" / "lambda-requirements.txt"
    cache = ROOT / ".aws-sam" / "layer-cache"
    layer = cache / f"host-{hashlib.sha256(lock.read_bytes()).hexdigest()[:16]}"
    if not layer.is_dir():
        partial = layer.with_name(layer.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        pins = [line.split()[0] for line in lock.read_text().splitlines() if "==" in line]
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--no-deps", "--only-binary=:all:", f"--target={partial}", *pins], check=True)
        subprocess.run([*pip, "--target", str(partial / "_runtime"), "boto3"], check=True)
        partial.rename(layer)
    # Compiled once, as scripts/build_lambda.py compiles the real layer.
    compileall.compile_dir(
        str(layer), quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )
    return layer


def precompile(tree: Path) -> Path:
    """Compile ``tree``'s code into its ``__pycache__``, as any checkout has it after its first run and
    as the bundle ships it. Where ``PYTHONDONTWRITEBYTECODE`` is set (this machine, some CI), nothing
    else would ever write them, and every probe would time the compiler on the code it imports (30-40
    ms of each handler's import) instead of the import."""
    for package in ("core", "connectors", "functions", "profilesync"):
        compileall.compile_dir(str(tree / package), quiet=1)
    return tree


def bundle(tree: Path, target: Path, *, compiled: bool) -> Path:
    """``tree``'s function code as ``sam build`` makes it, in ``target``; without .pyc files when not
    ``compiled``."""
    spec = importlib.util.spec_from_file_location("build_lambda", ROOT / "scripts" / "build_lambda.py")
    assert spec is not None
    assert spec.loader is not None
    build_lambda = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_lambda)
    build_lambda.build_code(target, root=tree)
    if not compiled:
        for cache in list(target.rglob("__pycache__")):
            shutil.rmtree(cache)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per measurement")
    parser.add_argument(
        "--baseline", type=Path, help="also measure the code in this directory (e.g. a checkout of main)"
    )
    parser.add_argument(
        "--bundle", action="store_true", help="measure the built function code and the layer's dependencies"
    )
    parser.add_argument("--no-pyc", action="store_true", help="with --bundle: the code left uncompiled")
    args = parser.parse_args()
    trees = [ROOT] if args.baseline is None else [args.baseline.resolve(), ROOT]
    labels = ["this tree"] if args.baseline is None else [f"baseline {args.baseline}", "this tree"]

    with tempfile.TemporaryDirectory() as tmp, aws_endpoint() as url:
        document = Path(tmp) / "profilesync.yaml"
        document.write_text(CONFIG_DOCUMENT, encoding="utf-8")
        env = {"AWS_ENDPOINT_URL": url, "PROFILESYNC_CONFIG": str(document)}
        roots = [precompile(tree) for tree in trees]
        what = f"this virtualenv, python {sys.version.split()[0]}"
        if args.bundle:
            layer = host_layer()
            DEPENDENCIES[:] = [layer, layer / "_runtime"]
            PYTHON_FLAGS[:] = ["-S"]
            roots = [
                bundle(tree, Path(tmp) / f"bundle-{index}", compiled=not args.no_pyc)
                for index, tree in enumerate(trees)
            ]
            if args.no_pyc:
                env["PYTHONDONTWRITEBYTECODE"] = "1"  # /var/task is read-only: nothing gets cached
            what = f"the built bundle{' without .pyc' if args.no_pyc else ''} and the lock's dependencies"
        boto3_s = best_of(roots[-1:], "import boto3", "pass", args.runs, env)[0][0]
        print(f"cold start, CPU time, best of {args.runs} fresh interpreters ({what})")
        print(f"  {'import boto3':<34} {boto3_s * 1000:7.0f} ms   1.00x  (the yardstick)")
        suffixes = [f"  [{label}]" if len(roots) > 1 else "" for label in labels]
        for name in FIRST_USE:
            measured = best_of(roots, f"import functions.{name}", probe_first_use(name), args.runs, env)
            for suffix, (imported, used) in zip(suffixes, measured, strict=True):
                ratio = imported / boto3_s
                print(
                    f"  {name + ' handler':<16} import {imported * 1000:5.0f} ms {ratio:5.2f}x boto3 "
                    f"({ratio / IMPORT_LIMIT:4.2f} of the {IMPORT_LIMIT}x limit);"
                    f"  + first use {used * 1000:4.0f} ms = {(imported + used) * 1000:4.0f} ms, "
                    f"{(imported + used) / boto3_s:4.2f}x boto3{suffix}"
                )
        sdk = {**env, "PROFILESYNC_TRACING": "sdk"}
        try:
            traced = best_of(roots, "import functions.pull", "pass", args.runs, sdk)
        except SystemExit as failed:
            if "No module named 'aws_xray_sdk'" not in str(failed):
                raise
            print(f"  {'pull, Tracer on':<16} fails: aws_xray_sdk is not among the dependencies")
            return
        for suffix, (imported, _) in zip(suffixes, traced, strict=True):
            print(
                f"  {'pull, Tracer on':<16} import {imported * 1000:5.0f} ms {imported / boto3_s:5.2f}x boto3"
                f"  (PROFILESYNC_TRACING=sdk: aws_xray_sdk; off by default){suffix}"
            )


__all__ = [
    "CONFIG_DOCUMENT",
    "CONTEXT",
    "DEPENDENCIES",
    "ENV",
    "FIRST_USE",
    "IMPORT_LIMIT",
    "INGEST_EVENT",
    "PROBE",
    "PROFILE_REQUEST",
    "PYTHON_FLAGS",
    "RECORD",
    "REGION",
    "ROOT",
    "SECRETS",
    "SECRETS_PREFIX",
    "STREAM_RECORD",
    "TABLE",
    "aws_endpoint",
    "best_of",
    "bundle",
    "host_layer",
    "main",
    "measure_once",
    "precompile",
    "probe_first_use",
]

if __name__ == "__main__":
    main()
