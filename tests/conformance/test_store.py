"""DynamoDBStore facade: init checks, domains, lifecycle, error seam, async facade."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from mastra_dynamo import (
    ConfigurationError,
    DynamoDBStore,
    RetryableError,
    TableMismatchError,
    TableNotFoundError,
    ValidationError,
)
from mastra_dynamo.aio import AsyncDynamoDBStore
from mastra_dynamo.schema.table import TABLE_SPEC
from tests.conftest import Backend, make_store, require


def test_get_store_serves_memory_and_not_observability(store: DynamoDBStore) -> None:
    assert store.get_store("memory") is store.get_store("memory")
    assert store.get_store("workflows") is not None and store.get_store("scores") is not None
    assert store.get_store("workflows").supports_concurrent_updates() is True
    assert store.get_store("observability") is None
    assert store.get_store("no-such-domain") is None
    assert set(store.stores) == {"memory", "workflows", "scores", "agents", "datasets", "experiments",
                                 "backgroundTasks"}
    assert store.get_store("background_tasks") is store.get_store("backgroundTasks")


def test_init_on_missing_table_is_actionable(backend: Backend) -> None:
    s = make_store(backend)
    with pytest.raises(TableNotFoundError) as info:
        s.init()
    assert "create_table" in str(info.value) and info.value.code == "TABLE_NOT_FOUND"
    s.create_table()
    s.init()  # a retry after the failure runs again and succeeds
    s.delete_table()


def test_a_domain_used_on_its_own_still_checks_the_table(backend: Backend) -> None:
    s = make_store(backend)
    with pytest.raises(TableNotFoundError):
        s.get_store("memory").init()


def test_init_rejects_a_table_with_missing_indexes(backend: Backend) -> None:
    s = make_store(backend)
    request = TABLE_SPEC.create_table_request(s.table_name)
    request["GlobalSecondaryIndexes"] = request["GlobalSecondaryIndexes"][:1]
    request["AttributeDefinitions"] = [a for a in request["AttributeDefinitions"]
                                       if a["AttributeName"] in ("pk", "sk", "gsi1pk", "gsi1sk")]
    s.table.raw.create_table(**request)
    try:
        with pytest.raises(TableMismatchError) as info:
            s.init()
        problems = info.value.details["problems"]
        assert any("gsi2" in p for p in problems)
        assert any("time to live" in p for p in problems)  # TTL was never enabled
    finally:
        s.delete_table()


def test_init_runs_describe_once(store: DynamoDBStore) -> None:
    before = store.request_counts().get("DescribeTable", 0)
    store.init()
    store.init()
    assert store.request_counts().get("DescribeTable", 0) == before


@pytest.mark.parametrize(
    "kwargs",
    [{"id": ""}, {"id": "   "}, {"table_name": "x"}, {"table_name": "bad name!"}],
)
def test_constructor_validation(kwargs: dict[str, str]) -> None:
    args = {"id": "s", "table_name": "table", "region": "us-east-1", **kwargs}
    with pytest.raises(ValidationError):
        DynamoDBStore(**args)  # type: ignore[arg-type]


def test_region_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")  # no profile region either
    with pytest.raises(ConfigurationError):
        DynamoDBStore(id="s", table_name="table")


def test_ttl_config_must_use_the_single_table_attribute() -> None:
    with pytest.raises(ConfigurationError):
        DynamoDBStore(id="s", table_name="table", region="us-east-1",
                      ttl={"message": {"enabled": True, "attributeName": "expiresAt"}})
    with pytest.raises(ConfigurationError):
        DynamoDBStore(id="s", table_name="table", region="us-east-1", ttl={"nonsense": {"enabled": True}})


def test_unreachable_endpoint_raises_a_typed_retryable_error() -> None:
    s = DynamoDBStore(id="s", table_name="table", region="us-east-1", endpoint_url="http://127.0.0.1:9")
    s.table.raw.meta.config.retries["max_attempts"] = 1
    memory = s.get_store("memory")
    with pytest.raises(RetryableError) as info:
        memory.get_thread_by_id(thread_id="t")
    assert info.value.retryable and info.value.__cause__ is not None


def test_async_facade_runs_the_same_implementation(http_backend: Backend, http_store: DynamoDBStore) -> None:
    require(http_backend, "concurrent_clients")
    store = http_store
    async def scenario() -> None:
        astore = AsyncDynamoDBStore(store)
        memory = astore.get_store("memory")
        assert astore.get_store("observability") is None
        await memory.save_thread(thread={"id": "at", "resourceId": "r", "title": "async"})
        await asyncio.gather(*[
            memory.save_messages(messages=[{"id": f"am{i}", "threadId": "at", "role": "user", "content": str(i)}])
            for i in range(5)
        ])
        page = await memory.list_messages(thread_id="at", per_page=False)
        assert sorted(m.id for m in page.messages) == [f"am{i}" for i in range(5)]
        thread = await memory.get_thread_by_id(thread_id="at")
        assert thread is not None and thread.title == "async"
        workflows = astore.get_store("workflows")
        assert workflows.supports_concurrent_updates is not None
        await workflows.persist_workflow_snapshot(workflow_name="wf", run_id="r", snapshot={"status": "running"})
        assert await workflows.load_workflow_snapshot(workflow_name="wf", run_id="r") == {"status": "running"}
        await astore.close()

    asyncio.run(scenario())


def test_no_scan_on_request_paths() -> None:
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in [*root.joinpath("mastra_dynamo").rglob("*.py"), *root.joinpath("composite").rglob("*.py")]:
        if path.name == "admin.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r'\bscan\(|"Scan"', line):
                offenders.append(f"{path.relative_to(root)}:{number}")
    assert offenders == []
