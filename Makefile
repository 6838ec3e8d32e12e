# launderbench: two commands do everything on a fresh machine (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-dask test-gnn bench lint clean venv

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

# the graph neural networks need torch and torch-geometric (the gnn extra, about 0.9 GB with
# the CPU build of torch): they live in a venv of their own, never in the default one
GNN_VENV := .venv-gnn
GNN_STAMP := $(GNN_VENV)/.installed

$(GNN_STAMP): pyproject.toml
	test -x $(GNN_VENV)/bin/python || $(PYTHON) -m venv $(GNN_VENV)
	$(GNN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(GNN_VENV)/bin/python -m pip install --quiet -e ".[dev,gnn]"
	touch $(GNN_STAMP)

test-gnn: $(GNN_STAMP)
	$(GNN_VENV)/bin/python -m pytest -q -p no:cacheprovider --benchmark-disable \
		tests/detectors/test_gnn.py tests/detectors/test_gnn_absent.py \
		benchmarks/speed/test_speed_gnn.py

bench: $(STAMP)
	mkdir -p reports
	LAUNDERBENCH_BENCH_FULL=1 $(BIN)/python -m pytest -q -p no:cacheprovider benchmarks/speed \
		--benchmark-only --benchmark-json=reports/bench.json
	$(BIN)/python -m launderbench.benchmarks.benchtable reports/bench.json

lint: $(STAMP)
	$(BIN)/ruff check launderbench simulator detectors benchmarks tests

clean:
	rm -rf $(VENV) $(GNN_VENV) reports build *.egg-info
