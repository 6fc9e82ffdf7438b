# Set-up and everyday commands. Every target bootstraps .venv when it is missing.
VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# nbgrader starts `alembic` as a subprocess, so the venv's bin must be on PATH.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: demo test lab bench release lint

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PYTHON) -m grader demo

test: $(STAMP)
	$(PYTHON) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check conv_lib grader tests examples/build.py

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

release: $(STAMP)
	$(PYTHON) -m grader release

bench: $(STAMP)
	$(PYTHON) -m conv_lib.bench --png docs/benchmarks.png
