# Two commands after cloning: `make demo` (the main job, local default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHECKOV := .venv-checkov/bin/checkov
export TF_CLI_CONFIG_FILE := $(CURDIR)/tests/terraform/terraformrc

.PHONY: install test test-python test-terraform lint bench demo package schemas clean

install: $(STAMP)

$(STAMP): pyproject.toml package.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[serve,aws,dev]'
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet checkov==3.3.30
	npm ci --no-audit --no-fund --silent
	touch $(STAMP)

test: install
	$(BIN)/pytest -q
	bash tests/terraform/run.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check handlers scripts tests ssm
	$(BIN)/python ssm/build.py --check
	$(BIN)/mypy
	shellcheck --shell=sh -x ssm/scripts/*.sh
	terraform fmt -check -recursive

bench: install
	$(BIN)/python scripts/bench.py

demo: install
	$(BIN)/python scripts/demo.py

package: install
	$(BIN)/python scripts/package.py

schemas: install
	$(BIN)/python -m eksdiag.tools.gateway_schemas

clean:
	rm -rf dist .bench .demo .pytest_cache .ruff_cache .mypy_cache
