# The two commands of the quick start (make demo, make test) set everything up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR ?= .elearn/demo

BENCH_DIR ?= .elearn/bench

.PHONY: venv demo test unit protos bench-gateway up down status clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## demo: boot the local cluster, run the main job through the gateway, shut down.
demo: venv
	@set -e; \
	trap '$(BIN)/elearn down --data-dir $(DEMO_DIR)' EXIT; \
	$(BIN)/elearn up --data-dir $(DEMO_DIR); \
	$(BIN)/python -m launcher.demo --gateway 127.0.0.1:$$($(BIN)/python -c "import json;print(json.load(open('$(DEMO_DIR)/cluster.json'))['ports']['gateway'])")

## test: the whole suite (unit, integration on a real local cluster, end-to-end through the gateway).
test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: venv
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

## bench-gateway: the gateway's overhead (through gateway / direct) at concurrency 1 and 32.
bench-gateway: venv
	@set -e; \
	trap '$(BIN)/elearn down --data-dir $(BENCH_DIR)' EXIT; \
	$(BIN)/elearn up --data-dir $(BENCH_DIR) --port-offset 200 > /dev/null; \
	$(BIN)/python -m benchmarks.gateway_overhead --gateway 127.0.0.1:50251 --direct 127.0.0.1:50261

## protos: regenerate the Python stubs in elearning/ from protos/.
protos: venv
	$(BIN)/python tools/codegen.py

up: venv
	$(BIN)/elearn up
down: venv
	$(BIN)/elearn down
status: venv
	$(BIN)/elearn status

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
