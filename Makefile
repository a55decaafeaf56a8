# Two commands set up a fresh machine:
#   make serve   run Hookline on http://127.0.0.1:6060 (embedded SQLite)
#   make test    lint, type-check and run the whole test suite
#   make bench   the benchmarks (docs/PERFORMANCE.md)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
CHROMIUM := /usr/bin/chromium
# axe-core, which the browser tests run on every page, from npm at the
# version package-lock.json pins.
AXE := node_modules/axe-core/axe.min.js

.PHONY: serve test lint check-chromium check-wrk bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

serve: $(STAMP)
	$(BIN)/hookline serve

# Browser tests drive Debian's Chromium; install it when it is missing.
check-chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  elif command -v sudo >/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "Chromium is missing: install Debian's 'chromium' package (browser tests will skip)"; \
	  fi; \
	fi

# Request rates in the benchmarks come from wrk (see docs/PERFORMANCE.md).
check-wrk:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null; \
	  elif command -v sudo >/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
	  else \
	    echo "wrk is missing: install Debian's 'wrk' package (the benchmarks need it)"; \
	  fi; \
	fi

$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: $(DEV_STAMP) check-chromium check-wrk $(AXE) lint
	$(BIN)/pytest $(PYTEST_ARGS)

# Full benchmarks (about an hour on 2 CPUs): bench/results/<date>.json and docs/PERFORMANCE.md.
bench: $(DEV_STAMP) check-wrk
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
