# launderbench: two commands do everything on a fresh machine (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-dask bench lint clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/launderbench run --suite default --workers 2 --out reports/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider --benchmark-disable tests benchmarks

# the Dask tests (a real scheduler and two workers as subprocesses): installs the extra 'dask'
test-dask: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,dask]"
	$(BIN)/python -m pytest -q -p no:cacheprovider --benchmark-disable \
		tests/benchmarks/test_dask.py

bench: $(STAMP)
	mkdir -p reports
	LAUNDERBENCH_BENCH_FULL=1 $(BIN)/python -m pytest -q -p no:cacheprovider benchmarks/speed \
		--benchmark-only --benchmark-json=reports/bench.json
	$(BIN)/python -m launderbench.benchmarks.benchtable reports/bench.json

lint: $(STAMP)
	$(BIN)/ruff check launderbench simulator detectors benchmarks tests

clean:
	rm -rf $(VENV) reports build *.egg-info
