# The two commands of the quick start (make demo, make test) set everything up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR ?= .elearn/demo
DEMO_CALLS ?= 3000

BENCH_DIR ?= .elearn/bench

.PHONY: venv system-deps demo test unit lint protos bench bench-gateway bench-failover bench-loaddriver bench-telemetry bench-scale up down status clean \
        k8s-validate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# The buf CLI (lints the protos, checks them for breaking changes) from npm, pinned in package-lock.json.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null)
	npm ci --silent --no-audit --no-fund
	touch $(NODE_STAMP)

venv: $(STAMP) $(NODE_STAMP)

# Debian tools the cluster and the tests use: etcd (etcd-server) stores Patroni's leader keys, pdftoppm
# (poppler-utils) renders the PDF report, docker-compose validates docker-compose.yml offline, and
# python3-venv lets Debian's Python make Patroni's venv. Installed when missing (needs root, as on CI).
SYSTEM_TOOLS := etcd:etcd-server pdftoppm:poppler-utils docker-compose:docker-compose
# Patroni runs as the `postgres` user (PostgreSQL refuses root), so it lives in a venv of Debian's own
# /usr/bin/python3 outside root's home, where that user can read and run it.
PATRONI_HOME ?= /opt/elearn/patroni
PATRONI_PINS := 'patroni[etcd3]==4.1.5' psycopg2-binary==2.9.13
system-deps:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair##*:}"; done; \
	dpkg -s python3-venv >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	  || echo "could not install$$missing: the tests that need them will fail"; \
	fi
	@if ! $(PATRONI_HOME)/bin/patroni --version 2>/dev/null | grep -q ' 4.1.5$$'; then \
	  echo "installing Patroni 4.1.5 into $(PATRONI_HOME)"; \
	  /usr/bin/python3 -m venv $(PATRONI_HOME) && \
	  $(PATRONI_HOME)/bin/pip install --quiet --disable-pip-version-check $(PATRONI_PINS) && \
	  chmod -R a+rX $(PATRONI_HOME); \
	fi

## demo: boot the local cluster, drive a few thousand calls through the gateway, write report.pdf
## (with report.json and report.csv), shut down.
demo: venv system-deps
	@set -e; \
	trap '$(BIN)/elearn down --data-dir $(DEMO_DIR)' EXIT; \
	$(BIN)/elearn up --data-dir $(DEMO_DIR); \
	$(BIN)/elearn load --data-dir $(DEMO_DIR) --total $(DEMO_CALLS) --name demo --report report.pdf

## test: the whole suite (unit, integration on a real local cluster, end-to-end through the gateway).
test: venv system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: venv
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

## lint: what tests/unit/test_lint.py and test_protos_*.py check, on their own (make test runs them too).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	node_modules/.bin/buf lint

## bench-gateway: the gateway's overhead (through gateway / direct) at concurrency 1 and 32.
bench-gateway: venv system-deps
	@set -e; \
	trap '$(BIN)/elearn down --data-dir $(BENCH_DIR)' EXIT; \
	$(BIN)/elearn up --data-dir $(BENCH_DIR) --port-offset 200 > /dev/null; \
	ELEARN_CONFIG=$(BENCH_DIR)/topology.json $(BIN)/python -m benchmarks.gateway_overhead --gateway 127.0.0.1:50251 --direct 127.0.0.1:50261

## bench-shed: how fast an overloaded server sheds, each way of shedding side by side (no cluster needed).
.PHONY: bench-shed
bench-shed: venv
	$(BIN)/python -m benchmarks.shed_path

## bench: the hottest write (RecordLessonProgress) through the gateway and direct, beside pgbench.
bench: venv system-deps
	@set -e; \
	trap '$(BIN)/elearn down --data-dir $(BENCH_DIR)' EXIT; \
	$(BIN)/elearn up --data-dir $(BENCH_DIR) --port-offset 200 > /dev/null; \
	$(BIN)/python -m benchmarks.write_path --data-dir $(BENCH_DIR)

## bench-telemetry: the single-call rate with telemetry on and off, side by side, ROUNDS times (default 3).
ROUNDS ?= 3
bench-telemetry: venv system-deps
	@set -e; \
	trap '$(BIN)/elearn down --data-dir $(BENCH_DIR)' EXIT; \
	$(BIN)/elearn up --data-dir $(BENCH_DIR) --port-offset 200 > /dev/null; \
	$(BIN)/python -m benchmarks.telemetry_overhead --data-dir $(BENCH_DIR) --rounds $(ROUNDS)

## bench-scale: p50/p99 of the main calls at 1x, 10x, 100x the default data (FACTORS=1,10 for a shorter run;
## SCALE_PORT_OFFSET and SCALE_DIR to run it beside another cluster).
SCALE_DIR ?= .elearn/bench-scale
FACTORS ?= 1,10,100
SCALE_PORT_OFFSET ?= 300
bench-scale: venv system-deps
	@set -e; \
	trap '$(BIN)/elearn down --data-dir $(SCALE_DIR)' EXIT; \
	$(BIN)/elearn up --data-dir $(SCALE_DIR) --port-offset $(SCALE_PORT_OFFSET) > /dev/null; \
	$(BIN)/python -m benchmarks.scale --data-dir $(SCALE_DIR) --factors $(FACTORS)

## bench-failover: kill -9 a shard primary under writes, fail over, time it; sync vs async write rate.
bench-failover: venv system-deps
	@set -e; \
	trap '$(BIN)/elearn down --data-dir $(BENCH_DIR)' EXIT; \
	$(BIN)/elearn up --data-dir $(BENCH_DIR) --port-offset 200 > /dev/null; \
	$(BIN)/python -m benchmarks.failover --data-dir $(BENCH_DIR)

## k8s-validate: render every deploy/k8s overlay with kubectl kustomize and validate each object offline
## against the Kubernetes 1.29 and 1.37 schemas (kubectl from apt via system-deps, the schemas with `make venv`).
K8S_OVERLAYS := $(wildcard deploy/k8s/overlays/*)
# The tests run deploy/k8s/dev-secrets.sh, which makes its keys and certificates with openssl.
SYSTEM_TOOLS += openssl:openssl kubectl:kubectl
# `elearn up --with-prometheus` and its test run Debian's Prometheus; promtool (same package) checks the rules.
SYSTEM_TOOLS += prometheus:prometheus
k8s-validate: venv system-deps
	@set -e; for overlay in $(K8S_OVERLAYS); do \
	  for version in 1.29.0 1.37.0; do \
	    kubectl kustomize $$overlay | $(BIN)/kubernetes-validate --strict --quiet -k $$version -; \
	  done; echo "$$overlay: valid"; \
	done

## bench-loaddriver: the load driver's RSS as a run passes each of CALLS (default 10k 100k 300k; 1000000 supported)
## calls against a fast fake backend, then its peak.
bench-loaddriver: venv
	$(BIN)/python -m benchmarks.load_memory $(if $(CALLS),--calls $(CALLS))

## protos: regenerate the Python stubs in elearning/ from protos/.
protos: venv
	$(BIN)/python tools/codegen.py

up: venv system-deps
	$(BIN)/elearn up
down: venv
	$(BIN)/elearn down
status: venv
	$(BIN)/elearn status

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
