# Two commands after cloning: `make demo` (the main job, local default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHECKOV := .venv-checkov/bin/checkov

.PHONY: install test lint bench bench-load demo package package-upgrade schemas docs clean

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
	$(BIN)/python -m eksdiag.tools.gateway_schemas --check
	$(BIN)/python scripts/scope_table.py --check
	$(BIN)/python scripts/gateway_resource_schemas.py --check
	shellcheck --shell=sh -x ssm/scripts/*.sh
	TF_CLI_CONFIG_FILE=tests/terraform/terraformrc terraform fmt -check -recursive
	$(CHECKOV) -d . --framework terraform --quiet --compact --skip-download
	$(BIN)/python scripts/tf_docs.py --check
	$(BIN)/python scripts/coverage_doc.py --check

bench: install
	$(BIN)/python scripts/bench.py

# Load on the local HTTP server over loopback: p50/p99 per tool at 100 clients, cheap calls with and
# without expensive searches running (bounded: about two minutes).
bench-load: install
	$(BIN)/python scripts/bench_load.py

demo: install
	$(BIN)/python scripts/demo.py

# The Lambda packages shipped in the module (packages/, both architectures), from the current
# sources with the wheel versions pinned in packages/manifest.json; package-upgrade re-resolves them.
# A custom build: python scripts/package.py --arch x86_64 --python-version 3.13 --out dist
package: install
	$(BIN)/python scripts/package.py --ship

package-upgrade: install
	$(BIN)/python scripts/package.py --ship --upgrade

schemas: install
	$(BIN)/python -m eksdiag.tools.gateway_schemas
	$(BIN)/python scripts/scope_table.py
	$(BIN)/python scripts/gateway_resource_schemas.py

docs: install
	$(BIN)/python scripts/tf_docs.py
	$(BIN)/python scripts/coverage_doc.py

clean:
	rm -rf dist .bench .demo .pytest_cache .ruff_cache .mypy_cache
