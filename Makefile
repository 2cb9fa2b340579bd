# hexlit: `make run` serves the showcase app, `make test` runs every check.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Strict editable install: a tree of links to the real files that mypy can read (ADR 0001).
INSTALL := $(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev,streamlit]" --config-settings editable_mode=strict
APP ?= examples/showcase/app.py
WEB ?= starlette

.PHONY: run test install system-packages lint typecheck architecture pytest e2e bench bench-install soak bench-files bench-replicas clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip

install: $(BIN)/python
	$(INSTALL)

run: install
	$(BIN)/hexlit run $(APP) --web $(WEB) --server.address 127.0.0.1 --server.port 8501

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy reads the package through the editable link tree; paths are printed as repo paths.
typecheck:
	MYPYPATH="$$(echo build/__editable__.*)" $(BIN)/mypy -p hexlit \
		| sed -E 's#build/__editable__[^/]*/hexlit/##'

architecture:
	$(BIN)/lint-imports

# Real peers the tests start on loopback: Debian's Chromium (e2e), Redis and nginx
# (replicas). Installed with apt when missing (root).
SYSTEM_PACKAGES := /usr/bin/chromium:chromium /usr/bin/redis-server:redis-server /usr/sbin/nginx:nginx
system-packages:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
		test -x "$${pair%%:*}" || missing="$$missing $${pair##*:}"; done; \
	if [ -n "$$missing" ]; then echo "== installing$$missing with apt"; \
		timeout 600 apt-get update -qq && timeout 900 apt-get install -y -qq $$missing; fi

pytest: system-packages
	$(BIN)/python -m pytest

e2e: install system-packages
	$(BIN)/python -m pytest tests/e2e

test: install lint typecheck architecture pytest

# Benchmarks (never part of `make test`) run from a venv of their own with only what a
# user installs (`.[streamlit,bench]`): the speed-ups the test venv carries would speed up
# `streamlit run` too (uvloop sets TCP_NODELAY). BENCH_EXTRAS=streamlit,bench,speed
# measures with them. Needs wrk (installed with apt when missing).
BENCH_VENV := .venv-bench
BENCH_EXTRAS ?= streamlit,bench
BENCH := $(BENCH_VENV)/bin/python

$(BENCH):
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip

bench-install: $(BENCH)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -e ".[$(BENCH_EXTRAS)]" --config-settings editable_mode=strict
	@command -v wrk >/dev/null || { timeout 600 apt-get update -qq && timeout 900 apt-get install -y -qq wrk; }

# Every workload of docs/performance.md, side by side with `streamlit run` and the bare
# frameworks; prints the table, writes bench/results/suite.json and docs/performance.png.
bench: bench-install
	$(BENCH) bench/suite.py
	$(BENCH) bench/chart.py
	$(BENCH) bench/report.py

# 200 sessions rerunning for 10 minutes on each stack (SOAK_SECONDS to change); not in CI.
soak: bench-install
	$(BENCH) bench/soak.py

# Peak server RSS and MB/s for a 100 MB upload and download, memory and filesystem stores.
bench-files: bench-install
	$(BENCH) bench/rss_files.py

# Media MB/s through nginx with 1 and with 2 replicas sharing Redis.
bench-replicas: bench-install system-packages
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check redis
	$(BENCH) bench/replicas_media.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache .hypothesis
