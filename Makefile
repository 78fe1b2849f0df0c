# lenslog: the index of commands. `make demo` and `make test` work from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_DEFAULT_REGION ?= eu-central-1

.PHONY: help venv demo local test test-fast lint format typecheck bench bench-local bench-snapshot bench-scale synth clean openapi fuzz-api bench-labels

help:
	@echo "make demo    run the gate + audit on the embedded AWS (writes out/)"
	@echo "make test    run every test (creates .venv on first use)"
	@echo "make lint    ruff + mypy"
	@echo "make synth   synthesise the CDK app offline into cdk.out/"
	@echo "make bench   run the benchmarks (IMAGES=DIR for your own photos)"
	@echo "make bench-labels  parse cost of label files and the gate's rate with labels vs without"
	@echo "make bench-local  10,000 images through lenslog local + lenslog ingest (~25 min here)"
	@echo "make bench-snapshot  a snapshot of 2,000 records on moto and 10^4..3x10^5 in process (~4 min)"
	@echo "make bench-scale  a cell at fleet scale: index, hot items, recall -> bench/scale.json (~10 min)"
	@echo "make openapi rewrite docs/openapi.json from the audit API's routes and models"
	@echo "make fuzz-api schemathesis on the local API, more examples, a random seed (not in make test)"

# checkov (the infra tests' template scanner) pins packages that conflict with lenslog's: it gets
# an environment of its own inside .venv, from the `checkov` dependency group of pyproject.toml.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Only the tests need it: `make demo` does not wait for it.
$(CHECKOV_STAMP): pyproject.toml
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --upgrade --quiet pip
	$(CHECKOV_VENV)/bin/pip install --quiet --group checkov
	touch $(CHECKOV_STAMP)

venv: $(STAMP) $(CHECKOV_STAMP)

demo: $(STAMP)
	$(BIN)/lenslog demo --out out

local: $(STAMP)
	$(BIN)/lenslog local

test: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/pytest tests/unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

# The CDK CLI is pinned in package.json (aws-cdk 2.x) and installed into node_modules/.
NODE_STAMP := node_modules/.package-lock.json
# Synthesis is offline: no credentials, no instance-metadata probing, no notices or telemetry.
# ACCOUNT names the target account (default: the cells' configured account or a placeholder).
CDK := AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_CLI_TELEMETRY=true npx --no-install cdk
CDK_ARGS := --no-notices $(if $(ACCOUNT),-c account=$(ACCOUNT))

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund

synth: $(STAMP) $(NODE_STAMP)
	$(CDK) synth --quiet $(CDK_ARGS)
	@echo "templates written to cdk.out/"

openapi: $(STAMP)
	$(BIN)/python -c "from lenslog.api.app import write_openapi; write_openapi('docs/openapi.json')"

# The contract run of `make test` with a random seed and more examples per operation (printed seed:
# LENSLOG_FUZZ_SEED=<seed> replays it). EXAMPLES=N to change the count.
fuzz-api: $(STAMP)
	LENSLOG_FUZZ_SEED=random LENSLOG_FUZZ_EXAMPLES=$(or $(EXAMPLES),500) \
		$(BIN)/pytest tests/component/test_audit_api_contract.py -p no:xdist -q -s

# Benchmarks: never part of `make test` or CI. IMAGES=DIR runs the gate figures on your photos.
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	PYTHONPATH=. $(BIN)/python -m bench.run $(if $(IMAGES),--images $(IMAGES)) $(BENCH_ARGS)

bench-labels: $(STAMP)
	PYTHONPATH=. $(BIN)/python -m bench.labels $(BENCH_ARGS)

bench-local: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	PYTHONPATH=. $(BIN)/python -m bench.local_scale $(BENCH_ARGS)

bench-snapshot: $(STAMP)
	PYTHONPATH=. $(BIN)/python -m bench.snapshot $(BENCH_ARGS)

# A cell at fleet scale (never in CI): measured on moto / in process, modelled beyond; BENCH_ARGS=--quick.
bench-scale: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	PYTHONPATH=. $(BIN)/python -m bench.fleet_scale $(BENCH_ARGS)

clean:
	rm -rf $(VENV) out cdk.out .pytest_cache .mypy_cache .ruff_cache node_modules build
