# perpx: the two commands users need are `make demo` and `make test`; each sets itself up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
# Offline machines: never let py-solc-x or pip's version check reach out at run time.
export PIP_DISABLE_PIP_VERSION_CHECK := 1

PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
TEST_ARGS ?=
# Two pytest-xdist workers, each with its own anvil (foundry host: auto); TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2

.PHONY: help setup test demo gas bench lint audit clean mutants gas-snapshot

help: ## list targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), f"Python 3.11+ required, found {sys.version.split()[0]}"'
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): $(VENV)/bin/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m pip check
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@node -e 'const v=+process.versions.node.split(".")[0]; if (v<20) { console.error("Node 20+ required, found "+process.version); process.exit(1) }'
	npm ci --no-audit --no-fund --loglevel=error
	@test -x node_modules/.bin/anvil || { echo "anvil binary missing: npm did not install @foundry-rs/anvil-linux-amd64 (linux x86_64 only)"; exit 1; }
	@touch $@

setup: $(PY_STAMP) $(NODE_STAMP) ## venv + pip, npm ci, solc registration, compile (idempotent)
	$(BIN)/python tools/provision_solc.py
	$(BIN)/ape compile

test: setup ## run the whole test suite (HYPOTHESIS_PROFILE=nightly for long fuzzing)
	$(BIN)/ape test $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS)) $(TEST_ARGS)

demo: setup ## run the exchange on a local anvil chain and print a report
	$(BIN)/ape run demo --network ethereum:local:foundry

gas: setup ## print gas used by key operations (anvil)
	$(BIN)/ape run gas_report --network ethereum:local:foundry

bench: setup ## run benchmarks and print their figures
	$(BIN)/ape run bench --network ethereum:local:foundry

lint: setup ## ruff + solhint
	$(BIN)/ruff check offchain scripts tests tools
	$(BIN)/ruff format --check offchain scripts tests tools
	solhint --max-warnings 0 'contracts/**/*.sol'

# slither lives in its own venv: it brings solc-select, whose `solc` shim must not shadow anything.
AUDIT_VENV := .venv-audit
SLITHER_VERSION := 0.11.6
$(AUDIT_VENV)/.installed:
	$(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install --quiet slither-analyzer==$(SLITHER_VERSION)
	@touch $@

audit: setup $(AUDIT_VENV)/.installed ## slither static analysis through the repo's solc wrapper
	$(AUDIT_VENV)/bin/python tools/audit.py

clean: ## remove build outputs (keeps venv and node_modules)
	rm -rf .build .cache crytic-export

mutants: setup ## test the tests: apply deliberate contract bugs one at a time (prints mutants killed=k total=n)
	$(BIN)/python tools/mutants.py

gas-snapshot: setup ## rewrite audit/gas-snapshot.json from the full `make gas` registry (after intended gas changes)
	$(BIN)/python tools/gas_snapshot.py --update --keep-going
