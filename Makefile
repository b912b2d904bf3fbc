# The README's two commands: `make build` (install + dbt build) and `make test` (every test).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: build test lint install simulate docs clean

# The lock check first: a reader holding the warehouse file fails the build in a second, with what to do.
build: $(STAMP)
	$(BIN)/python -m mrs.warehouse_lock
	$(BIN)/dbt build

# Test modules run in parallel, one worker per core (pytest-xdist); a module's tests stay on one
# worker, so its module-scoped builds are made once. TEST_WORKERS=0 runs them in this process.
# Modules are handed out in collection order (tests/conftest.py puts the longest first): xdist's
# default reorders them by test count, which left the long modules of one or two tests to run last.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Every linter runs, and any violation fails: ruff (lint and format), mypy over src/mrs, sqlfluff over the
# dbt SQL of models and singular tests (dbt templater: it compiles the project, and skips macro files).
# Configured in pyproject.toml and .sqlfluff; the pre-commit hooks (.pre-commit-config.yaml) run the same.
SQL_PATHS := models tests/dbt
lint: $(STAMP)
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/mypy || status=1; \
	$(BIN)/sqlfluff lint $(SQL_PATHS) || status=1; \
	exit $$status

install: $(STAMP)

# requirements.lock pins every package of the tested stack; pyproject.toml pins the direct ones.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

simulate: $(STAMP)
	$(BIN)/mrs simulate

clean:
	rm -rf target logs mrs.duckdb mrs.duckdb.wal published
