# voicetrail: every target bootstraps its own virtualenvs from pinned requirements.
#   make demo   - the main job offline: local API + embedded DynamoDB + a signed call replay
#   make test   - lint, type check, tests, sam validate --lint (+ sam build when python3.13 is on PATH)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
SAM_STAMP := $(SAM_VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv demo serve test test-slow lint typecheck unit integration e2e validate build bench clean

venv: $(STAMP)

$(STAMP): requirements/dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "voicetrail needs Python >= 3.11"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

$(SAM_STAMP): requirements/sam.txt
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/sam.txt
	@touch $@

demo: $(STAMP)
	$(BIN)/voicetrail demo

serve: $(STAMP)
	$(BIN)/voicetrail serve --port 3000

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

validate: $(SAM_STAMP)
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(SAM_VENV)/bin/sam validate --lint --template template.yaml

# sam build needs a python matching the Lambda runtime (python3.13) on PATH; skipped otherwise.
build: $(SAM_STAMP)
	@if command -v python3.13 >/dev/null 2>&1 && python3.13 --version >/dev/null 2>&1; then \
		SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build --template template.yaml; \
	else echo "sam build skipped: no python3.13 on PATH (the Lambda runtime)"; fi

unit: $(STAMP)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP)
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

test: lint typecheck validate
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory build

test-slow: $(STAMP)
	$(BIN)/pytest -m slow $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
