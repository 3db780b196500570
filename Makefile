# The project's entry points. On a fresh machine (Python 3.11 + pip) each target
# builds the environment it needs first: uv installs the locked dependencies.

PYTHON ?= python3
# pipefail: a failing command piped into a filter still fails the target.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV := .venv
BIN := $(VENV)/bin
UV := .tools/bin/uv

OUTPUT := $(CURDIR)/data/output
SAMPLE := $(CURDIR)/data/sample
# The sample company bills Aug–Oct 2026; the demo runs as of Nov 5, past October's grace period.
DEMO_PERIODS := 2026-08..2026-10
DEMO_AS_OF := 2026-11-05T00:00:00Z

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_HOME := $(OUTPUT)/dagster_home
export BILLING_DATA_DIR := $(SAMPLE)
export BILLING_DB := $(OUTPUT)/billing.duckdb
export BILLING_OUTPUT_DIR := $(OUTPUT)

.PHONY: demo test ui lint clean sample bench portal browser-deps spark-deps

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

# Bytecode compiled once at install: every `billing` command, pytest run and dbt
# start then skips compiling ~3,000 modules (seconds each time, and on every
# start where PYTHONDONTWRITEBYTECODE is set).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $@

sample: $(VENV)/.synced
	$(BIN)/python data/generate_sample.py --out $(SAMPLE)

demo: $(VENV)/.synced $(DAGSTER_HOME)/dagster.yaml sample
	$(BIN)/billing run --data-dir $(SAMPLE) --db $(BILLING_DB) --period $(DEMO_PERIODS) --as-of $(DEMO_AS_OF)
	$(BIN)/billing sync stripe quickbooks --db $(BILLING_DB) --as-of $(DEMO_AS_OF) \
		| grep -v ": written to the outbox$$"
	$(BIN)/billing portal --db $(BILLING_DB)
	@echo "Done. Warehouse: $(BILLING_DB) | invoice PDFs: $(OUTPUT)/invoices | outbox: $(OUTPUT)/outbox"
	@echo "Usage portal: $(OUTPUT)/portal/index.html (open it in a browser, no server needed)"

test: $(VENV)/.synced
	$(BIN)/pytest

ui: $(VENV)/.synced $(DAGSTER_HOME)/dagster.yaml sample
	$(BIN)/python -c "from orchestration.project import ensure_dbt_manifest; ensure_dbt_manifest()"
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

# The benchmark of a synthetic month (tests/benchmarks/): SCALE=100k|1M|10M|100M.
# RENDER_LIMIT renders only that many PDFs and extrapolates the rest.
SCALE ?= 1M
RENDER_LIMIT ?= 200
bench: $(VENV)/.synced
	$(BIN)/python -m tests.benchmarks.run_benchmark --scale $(SCALE) --render-limit $(RENDER_LIMIT)

# The usage portal of the demo's warehouse (after `make demo`): static HTML in data/output/portal/.
portal: $(VENV)/.synced
	$(BIN)/billing portal --db $(BILLING_DB)

# Headless Chromium for the portal's browser tests (Debian; as root with apt).
browser-deps:
	@if command -v chromium >/dev/null 2>&1; then \
		echo "chromium present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq chromium >/dev/null 2>&1 \
		|| (timeout 300 apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq chromium >/dev/null 2>&1) \
		|| echo "chromium not installed: the portal's browser tests will skip (or fail under CI)"; \
	else \
		echo "optional: sudo apt-get install chromium (the portal's browser tests)"; \
	fi

# The dbt project on Apache Spark (README "Running on Spark"): the `spark` extra (pyspark,
# dbt-spark) in .venv, and Debian's Java 17 (as root with apt) for pyspark's local Spark.
spark-deps: $(VENV)/.synced
	$(UV) sync --frozen --inexact --extra spark
	@if command -v java >/dev/null 2>&1; then \
		echo "java present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq openjdk-17-jre-headless >/dev/null 2>&1 \
		|| (timeout 300 apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq openjdk-17-jre-headless >/dev/null 2>&1) \
		|| echo "java not installed: the Spark parity test will skip (or fail under CI)"; \
	else \
		echo "optional: sudo apt-get install openjdk-17-jre-headless (the Spark parity test)"; \
	fi

lint: $(VENV)/.synced
	$(BIN)/ruff check .

clean:
	rm -rf data/output data/sample dbt_project/target dbt_project/logs
