# The hub on a bare machine. `make run` and `make test` are the two commands a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install services migrate run demo test lint sandbox bench bench-sandbox bench-distributor bench-feed bench-compliance admin-key clean

$(VENV)/.installed: requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	@touch $@

install: $(VENV)/.installed

services:
	@bash scripts/ensure_services.sh

migrate: install services
	$(PY) -m services.api.cli migrate

## Start api, distributor and scheduler together (Ctrl-C stops all three).
run: migrate
	$(PY) scripts/run_all.py

## Same, with the demo region loaded and the network sandbox running in place of VK, OK and Telegram.
demo: migrate
	$(PY) -m services.api.cli load-demo
	$(PY) scripts/run_all.py --sandbox

## Print a new admin API key (the first key of a fresh install).
admin-key: migrate
	$(PY) -m services.api.cli create-admin-key

## The whole suite against real PostgreSQL and Redis (database hub_test is recreated by the suite).
test: install services
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

sandbox: install
	$(PY) -m sandbox --host 127.0.0.1 --port 8900 --world sandbox/worlds/demo.json --state-file var/sandbox-state.json

## Benchmarks: each compares against its baseline in the same run and ends with one `bench-NAME:` line.
bench: bench-sandbox bench-distributor bench-feed bench-compliance

bench-sandbox: install
	$(PY) bench/bench_sandbox.py

bench-distributor: install services
	$(PY) bench/bench_distributor.py

## Needs wrk (Debian: apt-get install wrk).
bench-feed: install services
	@command -v wrk >/dev/null || { echo 'bench-feed needs wrk: apt-get install wrk'; exit 1; }
	$(PY) bench/bench_feed.py

## Builds a country-sized week in its own database first (several minutes); --skip-build reuses it.
bench-compliance: install services
	$(PY) bench/bench_compliance.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
