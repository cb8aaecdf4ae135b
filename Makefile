# Two commands do all the set-up: `make demo` (the pipeline on the bundled sample
# site) and `make test`. Both create .venv and install the project on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: demo run status test test-fast lint format bench docs clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/.installed  ## serve samples/ on 127.0.0.1 and poll it once
	$(BIN)/newsmon demo

run: $(BIN)/.installed  ## poll the real feeds in feeds.toml once
	$(BIN)/newsmon poll

status: $(BIN)/.installed  ## feed health, last runs, article counts
	$(BIN)/newsmon status

lint: $(BIN)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint  ## lint, then the whole test suite
	$(BIN)/pytest

test-fast: $(BIN)/.installed  ## the inner loop: every test not marked slow (under a minute)
	$(BIN)/pytest -m "not slow"

docs: $(BIN)/.installed  ## regenerate docs/settings.md and docs/schema.md from the code
	$(BIN)/python docs/generate.py

bench: $(BIN)/.installed  ## the benchmarks, one JSON line per figure set (a few minutes)
	$(BIN)/python benchmarks/pipeline.py
	$(BIN)/python benchmarks/pipeline.py --real
	$(BIN)/python benchmarks/extraction.py
	$(BIN)/python benchmarks/dedup_scale.py
	$(BIN)/python benchmarks/polling.py
	$(BIN)/python benchmarks/storage.py
	$(BIN)/python benchmarks/backfill.py
	$(BIN)/python benchmarks/novelty.py
	$(BIN)/python benchmarks/hostile.py
	$(BIN)/python benchmarks/signal_quality.py
	$(BIN)/python benchmarks/search.py
	$(BIN)/python benchmarks/said.py

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
