# One entry point for developers and CI (.ci/run calls these targets). `make` or `make help`
# lists them; each target's `## ` comment is its line there. Run inside the virtualenv that has
# `pip install -e '.[test]'` (it brings pytest, ruff and mypy).
PYTHON ?= python
PY_SOURCES := python tests bench examples

.DEFAULT_GOAL := help
.PHONY: help build-dev lint typecheck test test-fast all

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  Test areas (pytest -m AREA): see tests/README.md"

build-dev: ## Build the Rust extension (release) into the active virtualenv
	maturin develop --release

lint: ## rustfmt, clippy -D warnings, the layer check, ruff check and format, then typecheck
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(PYTHON) scripts/check_layers.py
	$(PYTHON) -m ruff check $(PY_SOURCES)
	$(PYTHON) -m ruff format --check $(PY_SOURCES)
	@$(MAKE) --no-print-directory typecheck

typecheck: ## mypy.stubtest of the compiled module's stub, then mypy over python/sagepipe
	$(PYTHON) -m mypy.stubtest sagepipe._core
	$(PYTHON) -m mypy

test: ## The Rust workspace tests and the whole pytest suite (about 10 minutes)
	cargo test --workspace
	$(PYTHON) -m pytest

test-fast: ## pytest without the process-heavy suites (-m "not slow"), well under a minute
	$(PYTHON) -m pytest -q -m "not slow"

all: build-dev lint test ## Build, lint, typecheck and run every test
