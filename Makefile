# The README's two commands: `make build` (install + dbt build) and `make test` (every test).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: build test install simulate docs clean

# The lock check first: a reader holding the warehouse file fails the build in a second, with what to do.
build: $(STAMP)
	$(BIN)/python -m mrs.warehouse_lock
	$(BIN)/dbt build

test: $(STAMP)
	$(BIN)/pytest

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
