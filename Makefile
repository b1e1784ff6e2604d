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
TORCH_STAMP := $(VENV)/.torch-stack-done
export MAX_JOBS ?= 2
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt

.PHONY: setup demo test lint typecheck pytest docs bench clean-venv

setup: $(STAMP)

# The torch stack has its own stamp, so that editing pyproject.toml reinstalls gen_pyg only.
# torch_scatter and torch_cluster compile one file at a time (their setup.py turn ninja off),
# so their wheels are built concurrently, one per core; pip's wheel cache keeps them.
$(TORCH_STAMP): constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> [1/3] pip, torch==2.13.0 (CPU), ninja, numpy"
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q torch==2.13.0 ninja numpy
	@echo "==> [2/3] torch_scatter, torch_cluster against that torch: compiled on the first set-up"
	@echo "    of a machine (about 15 minutes on 2 cores), then taken from pip's wheel cache (seconds)"
	@rm -rf $(VENV)/ext-wheels
	$(PIP) wheel -q --no-build-isolation --no-deps -w $(VENV)/ext-wheels torch_scatter & a=$$!; \
	$(PIP) wheel -q --no-build-isolation --no-deps -w $(VENV)/ext-wheels torch_cluster & b=$$!; \
	wait $$a && wait $$b
	$(PIP) install -q --find-links $(VENV)/ext-wheels torch_scatter torch_cluster
	@touch $(TORCH_STAMP)

$(STAMP): $(TORCH_STAMP) pyproject.toml
	@echo "==> [3/3] gen_pyg (editable) with its test, dev and docs extras"
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
