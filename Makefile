# pgaurora — two commands from a fresh clone: `make serve` and `make test`.
# Every target creates .venv and installs what it needs when it is missing.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Debian keeps the PostgreSQL server binaries (the test oracle) off PATH.
PGBIN := $(firstword $(wildcard /usr/lib/postgresql/15/bin) $(wildcard /usr/lib/postgresql/*/bin))
export PATH := $(if $(PGBIN),$(PGBIN):,)$(CURDIR)/$(BIN):$(PATH)
ARGS ?=

.PHONY: serve test test-long bench lint postgres clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# The real PostgreSQL 15 the tests and benchmarks compare against (Debian packages).
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v pgbench >/dev/null 2>&1 \
	    || ! command -v psql >/dev/null 2>&1; then \
	  echo "installing PostgreSQL 15 (Debian packages) for the oracle tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q \
	    postgresql postgresql-client postgresql-contrib; \
	fi

serve: $(STAMP)
	$(BIN)/pgaurora serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check pgaurora tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# A hung test fails after pyproject's per-test timeout (300 s); TEST_WALL bounds the whole run
# (a hang in a teardown after that timeout fired, say), far above its usual 6 minutes.
TEST_WALL ?= 2400

test: $(STAMP) postgres lint
	timeout -k 30 $(TEST_WALL) $(BIN)/pytest -q -p no:cacheprovider $(ARGS); rc=$$?; \
	  [ $$rc -eq 124 ] && echo "make test: pytest ran past $(TEST_WALL) s and was stopped"; \
	  [ $$rc -eq 5 ] && exit 0; exit $$rc

test-long: $(STAMP) postgres
	$(BIN)/pytest -q -p no:cacheprovider -m long $(ARGS); rc=$$?; [ $$rc -eq 5 ] && exit 0; exit $$rc

bench: $(STAMP) postgres
	$(BIN)/python -m benchmarks $(ARGS)
	$(BIN)/python -m benchmarks.server_cpu
	$(BIN)/python -m benchmarks.server_cpu --rows 1000000 --repeat 3
	$(BIN)/python -m benchmarks.cluster_bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
