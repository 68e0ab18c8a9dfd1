"""Sample tasks, like Mastra's ``createSampleTask``: a pending task with a random id, call id and run id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def sample(**overrides: Any) -> dict[str, Any]:
    task: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "status": "pending",
        "toolName": "test-tool",
        "toolCallId": f"call-{uuid.uuid4().hex[:8]}",
        "args": {"query": "test"},
        "agentId": "agent-1",
        "runId": f"run-{uuid.uuid4().hex[:8]}",
        "retryCount": 0,
        "maxRetries": 0,
        "timeoutMs": 300000,
        "createdAt": datetime.now(UTC).replace(microsecond=0),
    }
    task.update(overrides)
    return task


def at(minutes: int) -> datetime:
    """A fixed instant ``minutes`` after 2026-01-01T00:00Z."""
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
