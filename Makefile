# lenslog: the index of commands. `make demo` and `make test` work from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_DEFAULT_REGION ?= eu-central-1

.PHONY: help venv demo local test test-fast lint format typecheck bench synth clean

help:
	@echo "make demo    run the gate + audit on the embedded AWS (writes out/)"
	@echo "make test    run every test (creates .venv on first use)"
	@echo "make lint    ruff + mypy"
	@echo "make synth   synthesise the CDK app offline into cdk.out/"
	@echo "make bench   run the benchmarks (IMAGES=DIR for your own photos)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/lenslog demo --out out

local: $(STAMP)
	$(BIN)/lenslog local

test: $(STAMP)
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

# Benchmarks: never part of `make test` or CI. IMAGES=DIR runs the gate figures on your photos.
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	PYTHONPATH=. $(BIN)/python -m bench.run $(if $(IMAGES),--images $(IMAGES)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) out cdk.out .pytest_cache .mypy_cache .ruff_cache
