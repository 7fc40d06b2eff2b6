# chaosbed: the quick-start targets. `make demo` runs the stack locally and
# shows it working; `make test` runs the whole suite (lint, types, tests).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install demo up down status test lint bench images clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

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
	$(BIN)/ruff check services chaos tests benchmarks
	$(BIN)/ruff format --check services chaos tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .chaosbed .mypy_cache .ruff_cache .pytest_cache
