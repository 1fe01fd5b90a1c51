# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean check-template

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,dev]'
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

unit: $(STAMP)
	$(BIN)/pytest -q -n auto

test: lint typecheck unit check-template

bench: $(STAMP)
	$(BIN)/python -m bench.core_throughput
	$(BIN)/python -m bench.store_cost
	$(BIN)/python -m bench.bad_input
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.hubspot_efficiency
	$(BIN)/python -m bench.mailchimp_efficiency
	$(BIN)/python -m bench.shopify_efficiency
	$(BIN)/python -m bench.salesforce_efficiency
	$(BIN)/python -m bench.profile_api

clean:
	rm -rf $(VENV) .venv-sam build .aws-sam out .mypy_cache .ruff_cache .pytest_cache .hypothesis
