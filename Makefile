# hexlit: `make run` serves the showcase app, `make test` runs every check.
SHELL := /bin/bash
comma := ,
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APP ?= examples/showcase/app.py
WEB ?= starlette
PORT ?= 8501
ADDRESS ?= 127.0.0.1

# Every install comes from uv.lock (ADR 0010). uv itself is the one tool installed before
# the lock can be read, from a pinned and hashed requirement in .ci/uv-requirements.txt.
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
TEST_EXTRAS := --extra dev --extra streamlit
LOCK_HINT := uv.lock does not match pyproject.toml: run 'make lock', then commit uv.lock on its own

.PHONY: run test install lock lock-check versions test-latest system-packages lint typecheck \
	architecture pytest e2e bench bench-install soak bench-files bench-replicas clean

$(UV): .ci/uv-requirements.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check --require-hashes \
		-r .ci/uv-requirements.txt
	@touch $@

lock-check: $(UV)
	@$(UV) lock --check --quiet 2>/dev/null || { echo "hexlit: $(LOCK_HINT)" >&2; exit 1; }

# The strict editable install is a tree of links that mypy reads (ADR 0001); it is rebuilt
# when a file of the package is added, moved or removed, and only then.
PACKAGE_TREE := $(shell find ports domain adapters composition -not -path '*__pycache__*' \
	\( -type d -o -name '*.py' \) 2>/dev/null)
$(VENV)/.installed: uv.lock pyproject.toml setup.py $(PACKAGE_TREE) | $(UV)
	@$(MAKE) --no-print-directory lock-check
	$(UV) sync --locked $(TEST_EXTRAS) --reinstall-package hexlit
	@touch $@

install: $(VENV)/.installed

# Refresh the lock to the newest releases pyproject.toml's bounds allow (docs/maintenance.md).
lock: $(UV)
	$(UV) lock --upgrade

# The versions under test: hexlit's direct dependencies, and the real peers the tests run.
versions: install
	@echo "== hexlit's direct dependencies, as locked"
	@$(BIN)/python .ci/versions.py
	@echo "== real peers"
	@for cmd in "/usr/bin/chromium --version" "/usr/bin/redis-server --version" \
		"/usr/sbin/nginx -v"; do test -x "$${cmd%% *}" && $$cmd 2>&1 \
		|| echo "$${cmd%% *}: not installed"; done

run: install
	$(BIN)/hexlit run $(APP) --web $(WEB) --server.address $(ADDRESS) --server.port $(PORT)

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

# Drift check, not part of `make test`: the whole suite in a venv of its own, against the
# newest releases pyproject.toml's bounds allow, after printing what differs from the lock.
LATEST_VENV := .venv-latest
test-latest: $(UV) system-packages
	rm -rf $(LATEST_VENV)
	$(UV) venv --quiet $(LATEST_VENV)
	VIRTUAL_ENV=$(LATEST_VENV) $(UV) pip install --quiet --upgrade --resolution highest -e ".[dev,streamlit]"
	@echo "== newest allowed releases that differ from uv.lock (locked -> latest)"
	@join -a2 -e '(not locked)' -o 0,1.2,2.2 \
		<($(UV) export --frozen --no-hashes --no-header --no-annotate --no-emit-project \
			$(TEST_EXTRAS) | sed -nE 's/^([^ =;]+)==([^ ;]+).*/\1 \2/p' | tr A-Z_ a-z- | sort) \
		<($(UV) pip freeze --quiet --python $(LATEST_VENV)/bin/python --exclude-editable \
			| sed -nE 's/^([^ =]+)==(.+)/\1 \2/p' | tr A-Z_ a-z- | sort) \
		| awk '$$2 != $$3 { print "  " $$1 ": " $$2 " -> " $$3; n++ } END { if (!n) print "  none" }'
	$(MAKE) --no-print-directory lint typecheck architecture pytest BIN=$(LATEST_VENV)/bin

# Benchmarks (never part of `make test`) run from a venv of their own with only what a
# user installs (`.[streamlit,bench]`): the speed-ups the test venv carries would speed up
# `streamlit run` too (uvloop sets TCP_NODELAY). BENCH_EXTRAS=streamlit,bench,speed
# measures with them. Needs wrk (installed with apt when missing).
BENCH_VENV := .venv-bench
BENCH_EXTRAS ?= streamlit,bench
BENCH := $(BENCH_VENV)/bin/python

bench-install: $(UV)
	@$(MAKE) --no-print-directory lock-check
	UV_PROJECT_ENVIRONMENT=$(BENCH_VENV) $(UV) sync --locked $(foreach extra,$(subst $(comma), ,$(BENCH_EXTRAS)),--extra $(extra))
	@command -v wrk >/dev/null || { timeout 600 apt-get update -qq && timeout 900 apt-get install -y -qq wrk; }

# Every workload of docs/performance.md, side by side with `streamlit run` and the bare
# frameworks; prints the table, writes bench/results/suite.json and docs/performance.png.
bench: bench-install
	$(BENCH) -m bench.suite
	$(BENCH) -m bench.chart
	$(BENCH) -m bench.report

# 200 sessions rerunning for 10 minutes on each stack (SOAK_SECONDS to change); not in CI.
soak: bench-install
	$(BENCH) -m bench.soak

# Peak server RSS and MB/s for a 100 MB upload and download, memory and filesystem stores.
bench-files: bench-install
	$(BENCH) -m bench.rss_files

# Media MB/s through nginx with 1 and with 2 replicas sharing Redis.
bench-replicas: BENCH_EXTRAS := streamlit,bench,redis
bench-replicas: bench-install system-packages
	$(BENCH) -m bench.replicas_media

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(LATEST_VENV) $(TOOLS) build *.egg-info .mypy_cache .pytest_cache .ruff_cache .hypothesis
