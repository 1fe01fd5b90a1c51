#!/usr/bin/env python3
"""Build what Lambda runs, for ``sam build`` (template.yaml: ``BuildMethod: makefile``; the Makefile's
``build-<LogicalId>`` targets call this script with SAM's ``$ARTIFACTS_DIR``).

    scripts/build_lambda.py code  DIR   the function code: core, connectors, functions, the registry,
                                        and the configuration documents (profilesync*.yaml|yml|json)
    scripts/build_lambda.py layer DIR   DIR/python: the locked dependencies (deploy/lambda-requirements.txt)
                                        for python3.11 on arm64, trimmed
    scripts/build_lambda.py lock        resolve deploy/lambda-requirements.in again into the lock file

Why a makefile build and not SAM's own Python builder: the code is four packages at the repository
root, next to tests, docs, benchmarks and virtualenvs; SAM's builder copies the whole CodeUri into every
function. This script copies exactly what the handlers import (so ``sam build`` always ships the code as
it is now, and never a stale staging folder), keeps the CLI, the demo, the local runtime, the specs and
the tests out of the bundle, and puts the dependencies in one layer built from a lock file with hashes.

It needs only the Python standard library and pip (it runs before any virtualenv exists on a fresh
clone). When that Python is 3.11, the code is precompiled (``unchecked-hash`` .pyc, valid whatever the
zip does to file times), so a cold start does not compile it.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_IN = ROOT / "deploy" / "lambda-requirements.in"
LOCK = ROOT / "deploy" / "lambda-requirements.txt"
LAMBDA_PYTHON = (3, 11)
PLATFORM = "manylinux2014_aarch64"  # template.yaml: Architectures [arm64]

#: The packages the handlers import. profilesync/ contributes only its connector registry.
CODE_PACKAGES = ("core", "connectors", "functions")
CODE_FILES = ("profilesync/__init__.py", "profilesync/registry.py")
#: Never in a function bundle: the vendor sandboxes and the test population they seed from (each
#: connector imports its sandbox only when one is built: core.connector.lazy_factory), tests, fixtures.
CODE_EXCLUDES = (
    "__pycache__",
    "*.pyc",
    "*.pyo",
    "tests",
    "fixtures",
    "_sandbox",
    "_sandbox.py",
    "_sandbox_*.py",
    "testing",
)
#: The configuration documents a stage may name in ConfigFile.
CONFIG_GLOBS = ("profilesync*.yaml", "profilesync*.yml", "profilesync*.json")
#: Trimmed from the layer: pycountry's translations (22 MB), test suites, and type stubs.
LAYER_TRIM = ("pycountry/locales", "*/tests", "*/test")
#: Kept of pycountry's translations: the country-name catalogue (``iso3166-1.mo``) of each language
#: core/normalise/_country_translations.py reads (its ``LANGUAGES``; tests/unit/test_packaging.py
#: checks the two agree), about 0.8 MB, so ``Italie`` is Italy in Lambda as it is on a laptop.
KEPT_CATALOGUE = "iso3166-1.mo"
KEPT_LOCALES = (
    "de", "fr", "es", "it", "pt", "pt_BR", "nl", "pl", "sv", "da",
    "nb_NO", "fi", "cs", "sk", "ro", "hu", "el", "tr", "ru", "uk",
    "ja", "zh_CN", "zh_TW", "ko", "ar", "he", "id", "th", "ca", "hr",
)  # fmt: skip


def build_code(target: Path, root: Path = ROOT) -> list[Path]:
    """Copy the function code of the tree ``root`` into ``target`` (emptied first); return the files
    written. (bench/cold_start.py builds other trees than this one, to compare them.)"""
    _empty(target)
    for package in CODE_PACKAGES:
        shutil.copytree(root / package, target / package, ignore=shutil.ignore_patterns(*CODE_EXCLUDES))
    for name in CODE_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target / name)
    for pattern in CONFIG_GLOBS:
        for document in sorted(root.glob(pattern)):
            shutil.copy2(document, target / document.name)
    _precompile(target)
    return sorted(p for p in target.rglob("*") if p.is_file())


def build_layer(target: Path, lock: Path = LOCK) -> Path:
    """Install the lock file for Lambda's platform into ``target/python`` (cached by the lock's hash)."""
    digest = hashlib.sha256(lock.read_bytes() + PLATFORM.encode()).hexdigest()[:16]
    # PROFILESYNC_LAYER_CACHE lets scripts/check-template.sh share one cache between repository copies.
    cache_root = Path(os.environ.get("PROFILESYNC_LAYER_CACHE") or ROOT / ".aws-sam" / "layer-cache")
    cache = cache_root / digest
    if not (cache / "python").is_dir():
        staging = cache.with_name(cache.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staged = staging / "python"
        _pip(
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--no-deps",
            "--require-hashes",
            "--only-binary=:all:",
            f"--platform={PLATFORM}",
            "--implementation=cp",
            f"--python-version={LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]}",
            f"--target={staged}",
            "-r",
            str(lock),
        )
        _trim(staged)
        _precompile(staged)
        shutil.rmtree(cache, ignore_errors=True)
        staging.rename(cache)  # complete or absent: an interrupted build never leaves half a cache
    _empty(target)
    shutil.copytree(cache / "python", target / "python")
    return target / "python"


def lock_requirements(source: Path = LOCK_IN, lock: Path = LOCK) -> str:
    """Resolve ``source`` for Lambda's platform with pip and write ``name==version --hash=...`` lines."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        _pip(
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--dry-run",
            "--ignore-installed",
            "--only-binary=:all:",
            f"--platform={PLATFORM}",
            "--implementation=cp",
            f"--python-version={LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]}",
            f"--target={tmp}/target",
            f"--report={report}",
            "-r",
            str(source),
        )
        installs = json.loads(report.read_text())["install"]
    lines = [
        "# The Lambda layer's dependencies, resolved for python3.11 on arm64 from",
        "# deploy/lambda-requirements.in by `scripts/build_lambda.py lock`; do not edit by hand.",
    ]
    for item in sorted(installs, key=lambda i: i["metadata"]["name"].lower()):
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        sha = item["download_info"]["archive_info"]["hashes"]["sha256"]
        lines.append(f"{name}=={version} \\\n    --hash=sha256:{sha}")
    text = "\n".join(lines) + "\n"
    lock.write_text(text, encoding="utf-8")
    return text


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", *args]
    done = subprocess.run(command, check=False)
    if done.returncode != 0:
        raise SystemExit(f"build_lambda: pip failed ({done.returncode}): {' '.join(command)}")


def _trim(site: Path) -> None:
    locales = site / "pycountry" / "locales"
    kept = {
        lang: (locales / lang / "LC_MESSAGES" / KEPT_CATALOGUE).read_bytes()
        for lang in KEPT_LOCALES
        if (locales / lang / "LC_MESSAGES" / KEPT_CATALOGUE).is_file()
    }
    for pattern in LAYER_TRIM:
        for found in site.glob(pattern):
            if found.is_dir():
                shutil.rmtree(found)
    for lang, catalogue in kept.items():
        (locales / lang / "LC_MESSAGES").mkdir(parents=True, exist_ok=True)
        (locales / lang / "LC_MESSAGES" / KEPT_CATALOGUE).write_bytes(catalogue)
    for cache in site.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def _precompile(tree: Path) -> None:
    if sys.version_info[:2] != LAMBDA_PYTHON:
        print(
            f"build_lambda: this is Python {sys.version_info[0]}.{sys.version_info[1]}, not "
            f"{LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]}: the bundle is not precompiled (cold starts compile it)",
            file=sys.stderr,
        )
        return
    ok = compileall.compile_dir(
        str(tree),
        quiet=1,
        workers=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        # The path Lambda unpacks to, so tracebacks name /var/task files, not the build machine's.
        stripdir=str(tree),
        prependdir="/var/task" if tree.name != "python" else "/opt/python",
    )
    if not ok:
        raise SystemExit(f"build_lambda: a file in {tree} does not compile")


def _empty(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for child in target.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=("code", "layer", "lock"))
    parser.add_argument("target", nargs="?", type=Path, help="the artifacts directory (code, layer)")
    args = parser.parse_args(argv)
    if args.what == "lock":
        print(lock_requirements(), end="")
        return 0
    target = args.target or (Path(os.environ["ARTIFACTS_DIR"]) if os.environ.get("ARTIFACTS_DIR") else None)
    if target is None:
        parser.error("give the artifacts directory (sam build sets ARTIFACTS_DIR)")
    if args.what == "code":
        files = build_code(target)
        print(f"build_lambda: {len(files)} files of function code in {target}")
    else:
        built = build_layer(target)
        print(f"build_lambda: layer in {built}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
