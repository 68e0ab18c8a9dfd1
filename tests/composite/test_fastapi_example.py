"""examples/fastapi_app.py (the README's "Async API" example, included there verbatim) served by FastAPI's
TestClient: its lifespan opens the composite store, its routes await the domain stores."""

from __future__ import annotations

import re
import runpy
import uuid
from pathlib import Path
from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore

from .chdb_http import ChdbHttpServer
from .conftest import HTTP_PASSWORD, HTTP_USER, run_sql

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "fastapi_app.py"


def test_readme_shows_the_example_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- examples/fastapi_app\.py -->\n```python\n(.*?)```\n", readme, re.DOTALL)
    assert found is not None, "README: the example block after <!-- examples/fastapi_app.py --> is missing"
    assert found.group(1) == EXAMPLE.read_text(encoding="utf-8")


def test_the_example_serves_memory_and_traces(http_store: DynamoDBStore, chdb_http: ChdbHttpServer,
                                              chdb_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    database = f"obs_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("MASTRA_TABLE", http_store.table_name)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", str(http_store.endpoint_url))
    monkeypatch.setenv("CLICKHOUSE_DSN", f"http://{HTTP_USER}:{HTTP_PASSWORD}@127.0.0.1:{chdb_http.port}")
    monkeypatch.setenv("CLICKHOUSE_DATABASE", database)
    example: dict[str, Any] = runpy.run_path(str(EXAMPLE))
    try:
        with TestClient(example["app"]) as client:
            assert example["dynamodb"].is_open and example["traces"].is_open
            for i in range(3):
                answer = client.post("/threads/t1/messages", json={"id": f"m{i}", "resourceId": "u1",
                                                                   "role": "user", "content": f"hello {i}"})
                assert answer.status_code == 200, answer.text
            page = client.get("/threads/t1/messages", params={"user": "u1"}).json()
            assert [m["id"] for m in page["messages"]] == ["m2", "m1", "m0"]
            traces = client.get("/threads/t1/traces").json()
            assert traces["pagination"]["total"] == 3
            assert {s["threadId"] for s in traces["spans"]} == {"t1"}
        assert not example["dynamodb"].is_open and not example["traces"].is_open
    finally:
        run_sql(chdb_path, f"DROP DATABASE IF EXISTS `{database}`")
