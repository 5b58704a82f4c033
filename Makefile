# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test unit soak migrate bench install clean extensions

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)  ## the virtualenv with the app and its test tools; the UI extensions' npm toolchain

var/local.env: | $(STAMP)
	$(BIN)/python -c 'from tools.local_env import write_local_env; write_local_env()'

migrate: $(STAMP) var/local.env  ## bring DATABASE_URL (default: SQLite under var/) to the latest schema
	$(BIN)/loyalty db upgrade

run: $(STAMP) var/local.env  ## web + worker + background + scheduler (+ embedded Redis when REDIS_URL is unset)
	$(BIN)/python -m tools.launcher

test: $(STAMP) $(NODE_STAMP)  ## layer contracts, the UI extensions (typecheck, build, unit tests), then the suite
	$(BIN)/lint-imports
	npm run --silent check
	$(BIN)/python -m pytest

unit: $(STAMP)  ## the fast tier (tests/unit): pure rules only, starts nothing (no database, Redis or network)
	$(BIN)/python -m pytest tests/unit

soak: $(STAMP)  ## long fault and load runs (10,000-event stream, killed workers, Redis and database outages)
	$(BIN)/python -m pytest -m soak -v -s

bench: $(STAMP) var/local.env  ## benchmarks; figures written to tools/bench/results.md
	$(BIN)/python -m tools.bench

extensions: $(NODE_STAMP)  ## typecheck, bundle (within Shopify's size limits) and unit-test the UI extensions
	npm run --silent check

clean:
	rm -rf $(VENV) var node_modules
