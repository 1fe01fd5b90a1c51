#!/usr/bin/env bash
# Check template.yaml as CloudFormation and SAM see it, and build it as a SAM user would:
#
#   1. cfn-lint template.yaml, and `sam validate --lint`
#   2. a fresh copy of the repository (what git tracks, plus new files not ignored): `sam build` there,
#      with samconfig.toml's defaults, exactly as `sam build` from a fresh clone
#   3. what was built: each function holds its handler and the code it imports, and none of the CLI,
#      the demo, the specs or the tests; each function is under 25 MB unzipped (the layer apart)
#   4. a one-line change to a handler, then `sam build` again: the change is in the build (never stale)
#   5. the built code, with the lock file's dependencies installed for this machine (phonenumberslite
#      included) and nothing else on the path: every handler and builtin connector imports, and phone
#      numbers normalise as with the full phonenumbers the tests use
#
# cfn-lint and the SAM CLI live in their own venv, .venv-sam/, installed on first use: the SAM CLI
# pins older boto3 and pydantic than the project needs, so it must not share .venv.
#
# Usage: scripts/check-template.sh [--keep]   (--keep: also build into this repository's .aws-sam/build)
# Network: PyPI only (pip, for the tools and the layer's dependencies; both are cached after one run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV=.venv-sam
PYTHON=${PYTHON:-python3}
KEEP=0
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    *) echo "usage: $0 [--keep]" >&2; exit 2 ;;
  esac
done
MAX_FUNCTION_BYTES=$((25 * 1024 * 1024))

# The SAM CLI must not try to phone home or find credentials: nothing here needs an AWS account.
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
export AWS_REGION=$AWS_DEFAULT_REGION
export PROFILESYNC_LAYER_CACHE="$ROOT/.aws-sam/layer-cache"

STARTED=$(date +%s)
STEP="setup"
WORK=$(mktemp -d -t profilesync-sam-check.XXXXXX)
trap 'echo "check-template: FAILED during: $STEP (exit $?)" >&2' ERR
trap 'rm -rf "$WORK"' EXIT

run() {
  echo "+ $*"
  "$@"
}

STEP="install cfn-lint and aws-sam-cli into $VENV"
if [ ! -x "$VENV/bin/sam" ] || [ ! -x "$VENV/bin/cfn-lint" ]; then
  run "$PYTHON" -m venv "$VENV"
  run "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  run "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "aws-sam-cli>=1.120" "cfn-lint>=1.0"
fi
SAM="$ROOT/$VENV/bin/sam"
echo "  $("$SAM" --version), cfn-lint $("$VENV/bin/cfn-lint" --version | awk '{print $2}')"

STEP="cfn-lint template.yaml"
run "$VENV/bin/cfn-lint" template.yaml

STEP="sam validate --lint"
run "$SAM" validate --lint --template-file template.yaml --region "$AWS_DEFAULT_REGION"

STEP="copy the repository as a fresh clone would have it"
mkdir -p "$WORK/repo" "$PROFILESYNC_LAYER_CACHE"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' file; do
  [ -e "$file" ] && printf '%s\0' "$file"
done | xargs -0 cp --parents -t "$WORK/repo"
echo "  $(find "$WORK/repo" -type f | wc -l) files in $WORK/repo"

STEP="sam build (fresh copy, samconfig.toml defaults)"
(cd "$WORK/repo" && run "$SAM" build)
BUILD="$WORK/repo/.aws-sam/build"

STEP="check what was built"
"$PYTHON" - "$BUILD" "$MAX_FUNCTION_BYTES" <<'PY'
import sys
from pathlib import Path

build, limit = Path(sys.argv[1]), int(sys.argv[2])
functions = sorted(p for p in build.iterdir() if p.name.endswith("Function"))
assert len(functions) >= 6, f"expected the six functions, built {[p.name for p in functions]}"
for fn in functions:
    files = [p for p in fn.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    names = {p.relative_to(fn).as_posix() for p in files}
    for needed in ("functions/pull.py", "functions/dispatch.py", "core/pipeline.py", "profilesync/registry.py",
                   "profilesync.yaml"):
        assert needed in names, f"{fn.name} was built without {needed}"
    for banned in ("profilesync/cli.py", "profilesync/demo.py", "profilesync/local.py", "template.yaml",
                   "pyproject.toml"):
        assert banned not in names, f"{fn.name} ships {banned}, which Lambda never runs"
    for prefix in ("specs/", "tests/", "bench/", "docs/", "examples/", ".venv", "profilesync/testing/",
                   "core/testing/", "connectors/_sandbox/"):
        assert not any(n.startswith(prefix) for n in names), f"{fn.name} ships {prefix}"
    # The profile API falls back to the sample role policy, a data file of the core package.
    assert "core/governance/sample_policy.yaml" in names, f"{fn.name} was built without the sample policy"
    sandboxes = sorted(n for n in names if "/_sandbox" in n)
    assert not sandboxes, f"{fn.name} ships the vendor sandboxes {sandboxes}"
    assert size < limit, f"{fn.name} is {size / 2**20:.1f} MB unzipped, over {limit / 2**20:.0f} MB"
    print(f"  {fn.name:<18} {size / 2**20:5.1f} MB unzipped, {len(files)} files")
layer = build / "DependenciesLayer" / "python"
size = sum(p.stat().st_size for p in layer.rglob("*") if p.is_file())
assert (layer / "pydantic_core").is_dir() and (layer / "aws_lambda_powertools").is_dir()
assert any(p.name.startswith("phonenumberslite-") for p in layer.iterdir()), "the layer lacks phonenumberslite"
assert not (layer / "phonenumbers" / "geodata").exists(), "the layer carries the full phonenumbers"
kept = sorted(p.relative_to(layer / "pycountry" / "locales").as_posix()
              for p in (layer / "pycountry" / "locales").rglob("*") if p.is_file())
assert kept and all(k.endswith("/LC_MESSAGES/iso3166-1.mo") for k in kept), \
    f"pycountry's translations were not trimmed to the country names: {kept[:5]}"
assert any(p.name.endswith("aarch64-linux-gnu.so") for p in (layer / "pydantic_core").iterdir()), \
    "pydantic_core was not built for arm64"
print(f"  {'DependenciesLayer':<18} {size / 2**20:5.1f} MB unzipped")
PY

STEP="a one-line change to a handler, then sam build again"
MARKER="# check-template marker $RANDOM$RANDOM"
echo "$MARKER" >> "$WORK/repo/functions/pull.py"
(cd "$WORK/repo" && run "$SAM" build >/dev/null)
grep -qF "$MARKER" "$BUILD/PullFunction/functions/pull.py" || {
  echo "check-template: the change to functions/pull.py is not in the build: sam build is stale" >&2
  exit 1
}
echo "  the change is in .aws-sam/build/PullFunction/functions/pull.py"

STEP="import the built code with the lock file's dependencies (for this machine)"
HOST_LAYER="$PROFILESYNC_LAYER_CACHE/host-$(sha256sum deploy/lambda-requirements.txt | cut -c1-16)"
if [ ! -d "$HOST_LAYER" ]; then
  sed -n 's/^\([A-Za-z0-9_.-]*==[^ ]*\).*/\1/p' deploy/lambda-requirements.txt > "$WORK/host-requirements.txt"
  # boto3 stands in for the one the Lambda runtime provides.
  run "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --target "$HOST_LAYER.partial" -r "$WORK/host-requirements.txt"
  run "$PYTHON" -m pip install --quiet --disable-pip-version-check --target "$HOST_LAYER.partial/_runtime" boto3
  mv "$HOST_LAYER.partial" "$HOST_LAYER"
fi
# Phone numbers from the population the tests use, read in several regions: the bundle (with
# phonenumberslite) must normalise them as the full library in .venv does.
"$PYTHON" - "$WORK/phones.json" <<'PY'
import json, sys
texts = ["+44 20 7946 0018", "020 7946 0018", "(201) 200-0173", "0044 20 7946 0018", "+1 415-555-2671",
         "06 12 34 56 78", "+33 6 12 34 56 78", "030 901820", "+49 30 901820", "+81 3-1234-5678",
         "+61 2 9374 4000", "12", "+999 123", "not a phone", "+1 800 FLOWERS", "07911 123456"]
json.dump([[t, r] for t in texts for r in ("US", "GB", "FR", "DE")], open(sys.argv[1], "w"))
PY
(cd "$WORK" && PYTHONPATH="$BUILD/PullFunction:$HOST_LAYER:$HOST_LAYER/_runtime" \
  "$PYTHON" -S "$ROOT/scripts/smoke_lambda_bundle.py" "$WORK/phones.json" > "$WORK/lite.json")
echo "  every handler and builtin connector imports from the built bundle and its layer alone"
if [ -x "$ROOT/.venv/bin/python" ]; then
  "$ROOT/.venv/bin/python" -c '
import json, sys
from core.errors import NormalisationError
from core.normalise import normalise_phone
out = []
for text, region in json.load(open(sys.argv[1])):
    try:
        out.append(normalise_phone(text, region))
    except NormalisationError as error:
        out.append(f"error: {error.reason}")
print(json.dumps(out))' "$WORK/phones.json" > "$WORK/full.json"
  cmp -s "$WORK/lite.json" "$WORK/full.json" || {
    echo "check-template: phonenumberslite in the layer normalises phones differently from phonenumbers:" >&2
    diff <(tr ',' '\n' < "$WORK/lite.json") <(tr ',' '\n' < "$WORK/full.json") >&2 || true
    exit 1
  }
  echo "  $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/phones.json") phone numbers normalise the same with phonenumberslite as with phonenumbers"
fi

if [ "$KEEP" = 1 ]; then
  STEP="sam build into .aws-sam/build"
  run "$SAM" build
fi
echo "check-template: OK (cfn-lint, sam validate --lint, sam build twice, bundle checks) in $(($(date +%s) - STARTED)) s"
