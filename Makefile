# Two set-up commands: `make demo` and `make test`. Everything else is installed by the targets below.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: deps test demo run lint bench-media fuzz clean infra-check mutation

deps: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt media_host/requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: deps
	$(PY) -m tools.demo

test: deps infra-check
	$(PY) -m tools.azurite -- $(PY) -m pytest -q $(PYTEST_ARGS)

# Azurite, the media host and `func start` together, for users who have Azure Functions Core Tools.
run: deps
	@command -v func >/dev/null || { echo "func (Azure Functions Core Tools v4) is not installed."; \
	  echo "Install it with: npm install -g azure-functions-core-tools@4 --unsafe-perm true"; \
	  echo "or see https://learn.microsoft.com/azure/azure-functions/functions-run-local"; exit 1; }
	@test -f local.settings.json || { echo "Copy local.settings.json.example to local.settings.json and fill it in."; exit 1; }
	$(PY) -m tools.local_run

# ruff, mypy (strict on shared/) and import-linter (the design's boundaries, pyproject.toml); zero findings.
lint: deps
	$(PY) -m ruff check .
	$(PY) -m mypy shared adapters calls media_host tools function_app.py
	$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf $(VENV) node_modules .pytest_cache out .run

# --- infra checks (owned by infra/; see docs/deploy.md) ---
INFRA_VENV := .venv-infra
# Offline: no API key (nothing is uploaded), no policy download; every skip is justified in the Bicep.
CHECKOV_ARGS := -d infra --framework bicep --quiet --compact --skip-download

infra-check:
	@if [ ! -f $(INFRA_VENV)/.installed ] || [ requirements-infra.txt -nt $(INFRA_VENV)/.installed ]; then \
		rm -rf $(INFRA_VENV) && $(PYTHON) -m venv $(INFRA_VENV) && \
		$(INFRA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-infra.txt && \
		touch $(INFRA_VENV)/.installed; \
	fi
	$(INFRA_VENV)/bin/python infra/scripts/parse_bicep.py
	$(INFRA_VENV)/bin/python infra/scripts/check_azure_yaml.py
	env -u BC_API_KEY -u PRISMA_API_URL BC_SKIP_MAPPING=TRUE $(INFRA_VENV)/bin/checkov $(CHECKOV_ARGS)

# --- mutation testing of the pure core (a bench, not part of `make test`; see docs/mutation.md) ---
# mutmut in its own venv, .venv-mutation. MODULES picks modules (default: bench/mutation's list), e.g.
# `make mutation MODULES="shared/acs_jwt.py shared/call_token.py"`.
MUTATION_VENV := .venv-mutation
MODULES ?=
MUTATION_ARGS ?=

mutation:
	@if [ ! -f $(MUTATION_VENV)/.installed ] || [ requirements-mutation.txt -nt $(MUTATION_VENV)/.installed ] \
			|| [ requirements-dev.txt -nt $(MUTATION_VENV)/.installed ]; then \
		rm -rf $(MUTATION_VENV) && $(PYTHON) -m venv $(MUTATION_VENV) && \
		$(MUTATION_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
			-r requirements-mutation.txt -c constraints.txt && \
		touch $(MUTATION_VENV)/.installed; \
	fi
	$(MUTATION_VENV)/bin/python -m bench.mutation $(MUTATION_ARGS) $(MODULES)
