# One-command set-up: every target creates .venv with Python 3.10 (lava-nc 0.10.0 supports nothing
# newer) and installs the project into it when pyproject.toml changed.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTHON310 ?= $(shell sh scripts/find_python310.sh)

.PHONY: demo test bench clean help

help:
	@echo "make demo   train, convert, simulate and report (the main job: surnn-neuro run)"
	@echo "make test   run the test suite"
	@echo "make bench  run the benchmarks (writes benchmarks/results/*.json)"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON310)" || { echo "error: Python 3.10 not found. Install it (e.g. 'pyenv install 3.10') or run 'make PYTHON310=/path/to/python3.10'"; exit 1; }
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/surnn-neuro run --out runs/demo

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) runs build *.egg-info
