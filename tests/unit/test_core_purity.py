"""core/ is pure: importing it must not import boto3 or httpx (nor botocore), directly or not.

The adapters that may use them live in core.storage, core.testing and core.cli (and in connectors/
and functions/). Every other module under core/ is discovered with pkgutil, without importing it
here, so a new module is covered the day it is added. Imports are checked in a fresh interpreter
(a subprocess), because this test process has long since imported everything.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"
#: Modules (and their submodules) allowed to use AWS or HTTP clients.
IMPURE = ("core.storage", "core.testing", "core.cli")
BANNED = ("boto3", "botocore", "httpx")


def is_impure(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in IMPURE)


def pure_modules(path: Path = CORE, prefix: str = "core.") -> Iterator[str]:
    """Every module under ``path`` except the impure ones, found without importing anything.

    pkgutil.walk_packages would import each package to find its submodules, which would import
    core.storage and friends here; so recurse through the directories by hand instead.
    """
    for info in pkgutil.iter_modules([str(path)], prefix):
        if is_impure(info.name):
            continue
        yield info.name
        if info.ispkg:
            yield from pure_modules(path / info.name.rpartition(".")[2], info.name + ".")


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_discovery_finds_core_modules_and_skips_adapters() -> None:
    """GIVEN core/ WHEN its modules are discovered THEN the known pure ones are in, adapters out."""
    found = set(pure_modules())
    assert {"core.errors", "core.schema", "core.normalise"} <= found
    assert not any(is_impure(name) for name in found)


def test_normalise_schema_errors_import_without_aws_or_http() -> None:
    """GIVEN a fresh interpreter WHEN core.normalise, schema and errors are imported THEN no clients."""
    code = (
        "import core.normalise, core.schema, core.errors; import sys; "
        "assert 'boto3' not in sys.modules and 'httpx' not in sys.modules"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr


def test_every_pure_core_module_imports_without_aws_or_http() -> None:
    """GIVEN every pure module under core/ WHEN each is imported in turn THEN none pulls a client in.

    One interpreter imports them all in order; the first module after whose import a banned module
    appears is the one named (it, or something it imports, is the culprit).
    """
    modules = ["core", *pure_modules()]
    code = f"""
import importlib, json, sys
banned = {BANNED!r}
culprits = {{}}
for name in {modules!r}:
    before = {{b for b in banned if b in sys.modules}}
    try:
        importlib.import_module(name)
    except Exception as exc:
        culprits[name] = f"import failed: {{type(exc).__name__}}: {{exc}}"
        continue
    new = sorted(b for b in banned if b in sys.modules and b not in before)
    if new:
        culprits[name] = "imports " + ", ".join(new)
print(json.dumps(culprits))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    culprits = json.loads(result.stdout.strip().splitlines()[-1])
    assert culprits == {}, f"core must stay pure (move adapters to core.storage): {culprits}"
