# voicetrail: every target bootstraps its own virtualenvs from pinned requirements.
#   make demo   - the main job offline: local API + embedded DynamoDB + a signed call replay
#   make test   - lint, type check, strict docs build, tests, sam validate --lint (+ sam build when python3.13 is on PATH)
#   make docs   - the documentation site (MkDocs + Material, --strict) into site/; make docs-serve serves it
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
SAM_STAMP := $(SAM_VENV)/.installed
LINT_VENV := .venv-lint
LINT_STAMP := $(LINT_VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv demo serve test test-slow lint typecheck unit integration e2e validate lint-template build smoke bench bench-cold \
	bench-deps docs docs-serve docs-ref docs-ref-data-model clean train-names check-names-model

venv: $(STAMP)

$(STAMP): requirements/dev.txt requirements/docs.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "voicetrail needs Python >= 3.11"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	@# A venv from the days of phonenumberslite (same module name): drop it before the full package goes in.
	@$(PY) -m pip uninstall --quiet --yes phonenumberslite 2>/dev/null || true
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt -r requirements/docs.txt
	@$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

$(SAM_STAMP): requirements/sam.txt
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/sam.txt
	@touch $@

$(LINT_STAMP): requirements/lint.txt
	@test -x $(LINT_VENV)/bin/python || $(PYTHON) -m venv $(LINT_VENV)
	@$(LINT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/lint.txt
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

# The template as CloudFormation sees it: expanded offline by SAM's translator, then cfn-lint (+ the AWS
# serverless rules) and checkov. Every finding not skipped with a reason in tools/template-lint-skips.yaml fails.
lint-template: $(LINT_STAMP)
	$(LINT_VENV)/bin/python tools/lint_template.py

# sam build needs a python matching the Lambda runtime (python3.13) on PATH. Use one on PATH, or this
# machine's pyenv 3.13 for the build step only; skip the build (saying so) when there is none.
PY313 := $(shell for p in python3.13 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13; do \
	"$$p" --version >/dev/null 2>&1 && { command -v "$$p" || echo "$$p"; } && break; done)

build: $(SAM_STAMP)
	@if [ -n "$(PY313)" ]; then \
		echo "sam build with $(PY313)"; \
		PATH="$(dir $(PY313)):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build --template template.yaml && \
		$(PYTHON) tools/artifact_sizes.py .aws-sam/build; \
	else echo "sam build skipped: no python3.13 (the Lambda runtime) on this machine"; fi

# The built artifacts, run as Lambda would: each function's handler imported from its built folder and the
# built layer alone, on python3.13 with only the boto3 stack the runtime provides, answering one
# representative event per option set (tools/smoke_artifacts.py). Built for x86_64 (this machine) into
# .aws-sam/build-x86_64: the template's arm64 wheels cannot load here.
RUNTIME_VENV := .venv-runtime
SMOKE_BUILD := .aws-sam/build-x86_64

$(RUNTIME_VENV)/.installed: requirements/dev.txt
	@test -n "$(PY313)" || { echo "smoke needs python3.13 (the Lambda runtime) on this machine"; exit 1; }
	@test -x $(RUNTIME_VENV)/bin/python || "$(PY313)" -m venv $(RUNTIME_VENV)
	@$(RUNTIME_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(BOTO_PINS)
	@touch $@

smoke: $(STAMP) $(SAM_STAMP) $(RUNTIME_VENV)/.installed
	PATH="$(dir $(PY313)):$$PATH" SAM_CLI_TELEMETRY=0 VOICETRAIL_WHEEL_PLATFORM=manylinux2014_x86_64 \
		$(SAM_VENV)/bin/sam build --template template.yaml --build-dir $(SMOKE_BUILD) --no-cached
	$(PY) tools/artifact_sizes.py --check $(SMOKE_BUILD)
	$(PY) tools/smoke_artifacts.py --build-dir $(SMOKE_BUILD) --runtime-python $(RUNTIME_VENV)/bin/python

unit: $(STAMP)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP)
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

test: lint typecheck validate lint-template docs
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory build
	@if [ -n "$(PY313)" ]; then $(MAKE) --no-print-directory smoke; fi

# docs/reference/data-model.md is generated from layers/common/voicetrail/storage/table.py.
docs-ref-data-model: $(STAMP)
	$(PY) -m tools.docgen_datamodel

test-slow: $(STAMP)
	$(BIN)/pytest -m slow $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# Cold init on the Lambda runtime's Python: a python3.13 venv holding exactly the layer's pinned
# requirements plus the pinned boto3 stack (which Lambda's runtime provides).
LAMBDA_VENV := .venv-lambda
BOTO_PINS = $(shell grep -E '^(boto3|botocore|s3transfer|jmespath|python-dateutil|six|urllib3)==' requirements/dev.txt)

$(LAMBDA_VENV)/.installed: layers/common/requirements.txt requirements/dev.txt
	@test -n "$(PY313)" || { echo "bench-cold needs python3.13 (the Lambda runtime) on this machine"; exit 1; }
	@test -x $(LAMBDA_VENV)/bin/python || "$(PY313)" -m venv $(LAMBDA_VENV)
	@$(LAMBDA_VENV)/bin/python -m pip uninstall --quiet --yes phonenumberslite 2>/dev/null || true
	@$(LAMBDA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-r layers/common/requirements.txt $(BOTO_PINS)
	@touch $@

bench-cold: $(STAMP) $(LAMBDA_VENV)/.installed
	$(PY) benchmarks/cold_init.py --python $(LAMBDA_VENV)/bin/python
	$(PY) benchmarks/provider_cold_init.py --python $(LAMBDA_VENV)/bin/python

# The name tagger (docs/concepts/redaction.md): retrain it, or check that retraining gives the shipped model.
train-names: $(STAMP)
	$(PY) training/names/train.py

check-names-model: $(STAMP)
	$(PY) training/names/train.py --check

# Optional: Presidio + a spaCy English model, so benchmarks/redaction.py compares against it.
bench-deps: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[bench]"

# The documentation site. --strict turns every warning (a broken link, a page missing from the docs
# folder) into a failure. The reference pages under docs/reference/ are generated: make docs-ref.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

# Every generated page: the CLI, parameters, environment, metrics, alarms, the runbook index, the data model.
docs-ref: docs-ref-data-model
	$(PY) -m tools.docgen

clean:
	rm -rf $(VENV) $(SAM_VENV) $(LINT_VENV) $(LAMBDA_VENV) $(RUNTIME_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache site
