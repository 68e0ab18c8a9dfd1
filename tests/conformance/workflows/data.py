"""Builders shared by the workflows conformance cases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from mastra_dynamo import DynamoDBStore

BASE_TIME = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
"""Far-past base time: explicit ``created_at`` values are ``BASE_TIME + delta``."""

PENDING = {"__mastra_pending__": True}


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def at(*, days: float = 0, hours: float = 0, seconds: float = 0, ms: float = 0) -> datetime:
    return BASE_TIME + timedelta(days=days, hours=hours, seconds=seconds, milliseconds=ms)


def snapshot(run_id: str, status: str = "running", **extra: Any) -> dict[str, Any]:
    """A Mastra ``WorkflowRunState``; ``extra`` overrides or adds top-level fields."""
    state: dict[str, Any] = {
        "runId": run_id,
        "status": status,
        "value": {},
        "context": {"input": {"question": "why?"}},
        "serializedStepGraph": [{"type": "step", "step": {"id": "step-1", "description": "first"}}],
        "activePaths": [0],
        "activeStepsPath": {"step-1": [0]},
        "suspendedPaths": {},
        "resumeLabels": {},
        "waitingPaths": {},
        "timestamp": 1741593600000,
    }
    state.update(extra)
    return state


def partition_sort_keys(store: DynamoDBStore, run_id: str) -> list[str]:
    """Sort keys of every raw item in the run's partition ``W#<runId>`` (index entry, head, snapshot chunks)."""
    sort_keys: list[str] = []
    params: dict[str, Any] = {
        "TableName": store.table_name,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": f"W#{run_id}"}},
        "ProjectionExpression": "pk, sk",
        "ConsistentRead": True,
    }
    while True:
        page = store.table.raw.query(**params)
        sort_keys += [item["sk"]["S"] for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return sort_keys
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def spent(store: DynamoDBStore, before: dict[str, int]) -> dict[str, int]:
    """The requests ``store`` sent since ``before`` (a copy of its ``request_counts()``), per operation."""
    return {op: n - before.get(op, 0) for op, n in store.request_counts().items() if n - before.get(op, 0)}
