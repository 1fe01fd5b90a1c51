#!/usr/bin/env bash
# The wheel works outside the repository: build it, install it with the `local` extra into a clean
# virtualenv, and from an empty directory run what a new user runs first: --version, connectors list,
# resolve (which reads the packaged template.yaml), `sync --sandbox`, and a small demo.
#
# Usage: scripts/check-wheel.sh        Network: PyPI only (pip; cached after one run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d -t profilesync-wheel.XXXXXX)
STEP=setup
trap 'echo "check-wheel: FAILED during: $STEP (exit $?)" >&2' ERR
trap 'rm -rf "$WORK"' EXIT
STARTED=$(date +%s)

STEP="build the wheel"
"$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$WORK/dist" "$ROOT"
WHEEL=$(ls "$WORK"/dist/profilesync-*.whl)
echo "  built $(basename "$WHEEL")"
"$PYTHON" - "$WHEEL" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
for needed in ("profilesync/_data/template.yaml", "profilesync/_data/specs/stripe-fixtures3.json.gz",
               "profilesync/cli.py", "functions/pull.py", "connectors/hubspot/_sandbox.py", "core/config.py"):
    assert needed in names, f"the wheel lacks {needed}"
assert not any(n.startswith(("tests/", "bench/")) for n in names), "the wheel carries tests or benches"
PY

STEP="install it into a clean virtualenv"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$WHEEL[local]"
CLI="$WORK/venv/bin/profilesync"

STEP="run it from an empty directory"
mkdir "$WORK/elsewhere"
cd "$WORK/elsewhere"
cp "$ROOT/examples/people.jsonl" people.jsonl
"$CLI" --version
"$CLI" connectors list >/dev/null
"$CLI" resolve people.jsonl --out out/profiles.jsonl >/dev/null
test -s out/profiles.jsonl
"$CLI" sync --connector hubspot --sandbox >/dev/null
"$CLI" demo --people 200 --out demo-out >/dev/null 2>&1
test -s demo-out/profiles.jsonl && test -s demo-out/report.html
echo "check-wheel: OK (the installed wheel ran resolve, sync --sandbox and demo outside the repository) in $(($(date +%s) - STARTED)) s"
