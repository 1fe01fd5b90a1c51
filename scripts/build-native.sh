#!/usr/bin/env bash
# Build and install native/ (profilesync_native, the optional compiled common path) into the
# virtualenv of the python given (default .venv/bin/python): `make native`.
#
# cargo reads the crates offline from Debian's registry when apt installed them
# (`apt-get install rustc cargo librust-pyo3-dev librust-serde-json-dev librust-blake2b-simd-dev`:
# /usr/share/cargo/registry), through a CARGO_HOME of its own that replaces crates.io with that
# directory, and Debian's cargo comes first on the PATH (a rustup toolchain elsewhere is not what CI
# has). Without that registry, the cargo on the PATH builds from crates.io as usual.
set -euo pipefail
python=${1:-.venv/bin/python}
cd "$(dirname "$0")/.."
registry=/usr/share/cargo/registry
if [ -d "$registry" ]; then
  export CARGO_HOME="$PWD/native/target/cargo-home"
  mkdir -p "$CARGO_HOME"
  cat > "$CARGO_HOME/config.toml" <<TOML
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "$registry"

[net]
offline = true
TOML
  export PATH="/usr/bin:$PATH"
fi
command -v cargo >/dev/null || { echo "build-native: no cargo on the PATH (apt-get install rustc cargo librust-pyo3-dev librust-serde-json-dev librust-blake2b-simd-dev)" >&2; exit 1; }
export CARGO_TARGET_DIR="$PWD/native/target"
"$python" -m pip install --quiet ./native
"$python" -c "import profilesync_native" && echo "build-native: profilesync_native installed ($(cargo --version))"
