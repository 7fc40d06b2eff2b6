# chaosbed: the quick-start targets. `make gameday` runs the short game day on
# the local process runtime (no Docker) and prints the verdict table and the
# report's path; `make demo` shows the stack working; `make test` runs the
# whole suite (lint, types, tests).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

GAMEDAY ?= chaos/gamedays/short.yaml
# pytest-xdist workers for `make test`, each given whole test files and a port
# base of its own; at most 3 tests drive stacks at once (tests/conftest.py)
TEST_WORKERS ?= 3

.PHONY: install gameday demo up down status test lint generate bench images clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

gameday: install
	$(BIN)/chaosbed up
	$(BIN)/chaosbed gameday $(GAMEDAY) --no-pause; status=$$?; $(BIN)/chaosbed down; exit $$status

demo: install
	$(BIN)/chaosbed up
	$(BIN)/chaosbed demo
	$(BIN)/chaosbed status

up: install
	$(BIN)/chaosbed up

down: install
	$(BIN)/chaosbed down

status: install
	$(BIN)/chaosbed status

lint: install
	$(BIN)/ruff check services chaos tests benchmarks compose dashboards cluster
	$(BIN)/ruff format --check services chaos tests benchmarks compose dashboards cluster
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# the files written from services/topology.py (a test fails when they are stale)
generate: install
	$(BIN)/python compose/generate.py
	$(BIN)/python dashboards/generate.py
	$(BIN)/python cluster/generate.py

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .chaosbed .mypy_cache .ruff_cache .pytest_cache
