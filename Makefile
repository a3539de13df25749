# Two commands matter to a newcomer: `make demo` and `make test`. Everything else is plumbing.
# Each Airflow line we support gets its own virtualenv built from a committed lock file.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
TOOLS := .tools
UV := $(TOOLS)/bin/uv
AIRFLOW ?= 3
VENV := .venv-airflow-$(AIRFLOW)
LOCK := requirements/airflow-$(AIRFLOW).lock

.PHONY: help venv demo test test-one lint typecheck locks bench clean

help:
	@echo "make demo   run the example DAG against a local AIMMS PRO emulator"
	@echo "make test   run the whole test suite on Airflow 3 and Airflow 2.11"
	@echo "make lint   ruff format check and lint; make typecheck: mypy --strict"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q uv

# The stamp makes the venv rebuild whenever its lock or pyproject changes.
$(VENV)/.installed: $(LOCK) pyproject.toml | $(UV)
	$(UV) venv -q --allow-existing -p $(PYTHON) $(VENV)
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(UV) pip install -q -r $(LOCK)
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(UV) pip install -q --no-deps -e .
	touch $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/python scripts/demo.py

test-one: $(VENV)/.installed
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test:
	$(MAKE) test-one AIRFLOW=3
	$(MAKE) test-one AIRFLOW=2

lint: $(VENV)/.installed
	$(VENV)/bin/ruff format --check airflow_provider_aimms tests example_dags bench scripts
	$(VENV)/bin/ruff check airflow_provider_aimms tests example_dags bench scripts

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

# Re-resolve both locks after changing dependencies in pyproject.toml.
locks: | $(UV)
	$(UV) pip compile -q --python-version 3.11 pyproject.toml requirements/airflow-3.in --extra emulator --extra dev --extra bench -o requirements/airflow-3.lock
	$(UV) pip compile -q --python-version 3.11 pyproject.toml requirements/airflow-2.in --extra emulator --extra dev --extra bench -o requirements/airflow-2.lock

clean:
	rm -rf .venv-airflow-* $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
