# One-command set-up: demo, test and bench create .venv with Python 3.10 (lava-nc 0.10.0, the Lava
# target, supports nothing newer) and install the project with every extra into it when
# pyproject.toml changed. test-py312 does the same in .venv312 with Python 3.12, numpy 2 and no Lava.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTHON310 ?= $(shell sh scripts/find_python.sh 3.10)

VENV312   := .venv312
PY312     := $(VENV312)/bin/python
STAMP312  := $(VENV312)/.installed
PYTHON312 ?= $(shell sh scripts/find_python.sh 3.12)

.PHONY: demo test test-py312 bench clean help

help:
	@echo "make demo        train, convert, simulate and report (the main job: surnn-neuro run)"
	@echo "make test        run the test suite (Python 3.10, everything including Lava)"
	@echo "make test-py312  run the test suite on Python 3.12 with numpy 2, without Lava (.venv312)"
	@echo "make bench       run the benchmarks (writes benchmarks/results/*.json)"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON310)" || { echo "error: Python 3.10 not found. Install it (e.g. 'pyenv install 3.10') or run 'make PYTHON310=/path/to/python3.10'"; exit 1; }
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,lava]"
	@touch $(STAMP)

$(STAMP312): pyproject.toml
	@test -n "$(PYTHON312)" || { echo "error: Python 3.12 not found. Install it (e.g. 'pyenv install 3.12') or run 'make test-py312 PYTHON312=/path/to/python3.12'"; exit 1; }
	@test -x $(PY312) || $(PYTHON312) -m venv $(VENV312)
	$(PY312) -m pip install --quiet --upgrade pip
	$(PY312) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP312)

demo: $(STAMP)
	$(VENV)/bin/surnn-neuro run --out runs/demo

test: $(STAMP)
	$(VENV)/bin/ruff check surnn_neuro tests benchmarks scripts conftest.py
	$(PY) -m pytest

test-py312: $(STAMP312)
	$(PY312) -m pytest

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) $(VENV312) runs build *.egg-info
