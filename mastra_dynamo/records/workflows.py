"""Workflow domain records."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mastra_dynamo.records.base import Record, UtcDatetime

WORKFLOW_STATUSES = (
    "running", "success", "failed", "tripwire", "suspended", "waiting", "pending", "canceled", "bailed",
    "paused", "skipped",
)


class WorkflowRun(Record):
    """A stored run (``WorkflowRun``): the snapshot is Mastra's ``WorkflowRunState`` as a dict."""

    workflow_name: str
    run_id: str
    snapshot: dict[str, Any] | str
    created_at: UtcDatetime
    updated_at: UtcDatetime
    resource_id: str | None = None


class WorkflowRuns(Record):
    runs: list[WorkflowRun]
    total: int


class WorkflowStateUpdate(Record):
    """``opts`` of update_workflow_state: set fields are shallow-merged into the snapshot."""

    model_config = Record.model_config | {"extra": "allow"}

    status: str
    result: Any = None
    error: Any = None
    suspended_paths: dict[str, Any] | None = None
    waiting_paths: dict[str, Any] | None = None
    resume_labels: dict[str, Any] | None = None
    active_paths: list[Any] | None = None
    active_steps_path: dict[str, Any] | None = None
    tracing_context: dict[str, Any] | None = None
    expected_status: str | list[str] | None = Field(default=None)
