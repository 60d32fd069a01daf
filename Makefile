# telcochain — the two commands:
#   make demo   set everything up, start a local chain, deploy, tell the story
#   make test   set everything up and run the whole test suite
#   make audit  static analysis (slither) of the contracts, judged against audit/slither-triage.yaml
# Set-up is stamped: a second run skips what is already done.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SOLC_VERSION := $(shell sed -n 's/.*"solc": "\([0-9.]*\)".*/\1/p' package.json)
SOLC_BRIDGE  := .solcx/solc-v$(SOLC_VERSION)
SOURCES      := $(shell find contracts -name '*.sol' 2>/dev/null)

# Project-local toolchain: the solc bridge, the anvil binary from npm, the venv's tools.
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup test demo bench chaos lint typecheck abi lock clean audit

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(VENV)/.installed node_modules/.installed $(SOLC_BRIDGE) .build/.compiled  ## install and compile everything (idempotent)

$(VENV)/.installed: pyproject.toml constraints.txt
	@echo "==> Python environment ($(VENV))"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade "pip==26.3"
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	@echo "==> node tools (anvil, solc, OpenZeppelin) with npm ci"
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(SOLC_BRIDGE): tools/solc-bridge.js node_modules/.installed
	@echo "==> solc $(SOLC_VERSION) bridge in .solcx/ (npm solc, no download)"
	mkdir -p .solcx
	printf '#!/bin/sh\nexec node "$$(dirname "$$0")/../tools/solc-bridge.js" "$$@"\n' > $@
	chmod +x $@
	$@ --version | grep -q "Version: $(SOLC_VERSION)"

.build/.compiled: $(SOURCES) ape-config.yaml $(SOLC_BRIDGE) $(VENV)/.installed
	@echo "==> compiling contracts"
	$(BIN)/ape compile
	$(BIN)/python scripts/export_abis.py
	$(BIN)/python scripts/gen_rule_docs.py
	touch $@

# The suite runs in parallel (pytest-xdist) on one worker more than the logical CPUs: about a
# third of a test's time is spent waiting on nodes, servers and subprocesses, which the extra
# worker fills (2 cores, quiet: 3 m 30 s - 3 m 50 s with three workers). Each test file stays
# on one worker (its module-scoped deployments made once), each package of tests/contracts runs
# as one ordered group, and the longest groups start first (tests/support/scheduling.py and tests/conftest.py say why; without
# --no-loadscope-reorder xdist would start the groups with the most tests first instead).
# TEST_WORKERS=0 runs it serially, TEST_WORKERS=logical on the logical CPUs only.
# Bytecode is cached outside the tree (.build/pycache), also where PYTHONDONTWRITEBYTECODE is set:
# the suite starts many Python processes (CLI runs, node supervisors, servers, scripts), and
# each compiled the SDK from source again (~1.2 s a process on this machine).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

test: setup  ## set up, then run the whole test suite
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/.build/pycache $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

demo: setup  ## set up, start a local chain, deploy a consortium, run the story
	TELCOCHAIN_DEMO_PORT=$(or $(TELCOCHAIN_DEMO_PORT),8545) $(BIN)/python scripts/demo.py

audit: $(VENV)/.installed node_modules/.installed $(SOLC_BRIDGE)  ## slither on contracts/ (contracts/test excluded); fails on an untriaged High/Medium
	mkdir -p .build/audit
	rm -f .build/audit/slither.json
	$(BIN)/python audit/standard_json.py > .build/audit/input.json
	$(BIN)/slither .build/audit/input.json --compile-force-framework solc-json --solc $(SOLC_BRIDGE) \
	  --filter-paths node_modules --json .build/audit/slither.json > .build/audit/slither.txt 2>&1 || true
	$(BIN)/python audit/check_slither.py .build/audit/slither.json audit/slither-triage.yaml

bench: setup  ## benchmarks (prints measured figures)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/index_bench.py
	$(BIN)/python bench/rest_bench.py
	$(BIN)/python bench/hub_bench.py

chaos: setup  ## kill the node, listeners and RPC at bad moments; count what was lost (bench/results/chaos.json)
	$(BIN)/python bench/chaos.py

lint: setup  ## ruff + mypy
	$(BIN)/ruff check pysdk tests scripts bench audit
	$(BIN)/ruff format --check pysdk tests scripts bench audit
	$(BIN)/mypy

abi: .build/.compiled  ## regenerate the ABIs the SDK ships, its action parameter table and the docs' grants tables

lock:  ## re-pin every Python package after a change to pyproject.toml
	{ echo "# Every Python package the project installs, pinned (pip install -c constraints.txt)."; \
	  echo "# Regenerate with: make lock"; \
	  $(BIN)/pip freeze --exclude-editable | grep -vi '^telcochain' | sort -f; } > constraints.txt

clean:  ## remove build output and local chain data (keeps the venv and node_modules)
	rm -rf .build .telcochain/node
