# Two entry points: `make demo` (the main job) and `make test` (lint, types, tests, docs).
# Both create .venv on first use and install everything into it, in an order that keeps
# the local CPU torch: torch==2.13.0, ninja, torch_scatter + torch_cluster built from source
# against that torch, then gen_pyg in editable mode with its extras.
# The stamp file makes every later run skip the set-up and start in seconds.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.gen_pyg-setup-done
export MAX_JOBS ?= 2
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt

.PHONY: setup demo test lint typecheck pytest docs bench clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q torch==2.13.0 ninja numpy
	$(PIP) install -q --no-build-isolation torch_scatter torch_cluster
	$(PIP) install -q -e '.[test,dev,docs]'
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/gen-pyg demo

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks docs/conf.py

typecheck: setup
	$(VENV)/bin/mypy

pytest: setup
	$(PY) -m pytest

docs: setup
	$(VENV)/bin/sphinx-build -q -W --keep-going -b html docs docs/_build/html

test: lint typecheck pytest docs

bench: setup
	$(PY) benchmarks/run_all.py

clean-venv:
	rm -rf $(VENV)
