"""Background tasks domain records (spec 3.11): ``BackgroundTask``, its partial update, the list filter."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from mastra_dynamo.clock import utc_now
from mastra_dynamo.records.base import Record, UtcDatetime

TaskStatus = Literal["pending", "running", "suspended", "completed", "failed", "cancelled", "timed_out"]
TASK_STATUSES: tuple[TaskStatus, ...] = ("pending", "running", "suspended", "completed", "failed", "cancelled",
                                         "timed_out")
TaskDateField = Literal["createdAt", "startedAt", "suspendedAt", "completedAt"]
DEFAULT_TIMEOUT_MS = 300_000


class TaskError(Record):
    """``error`` of a failed task."""

    model_config = Record.model_config | {"extra": "allow"}

    message: str
    stack: str | None = None


class BackgroundTask(Record):
    """One background tool call (``BackgroundTask``). ``args``, ``result`` and ``suspend_payload`` are JSON."""

    ALWAYS_SHOWN: ClassVar[frozenset[str]] = frozenset({"created_at", "args", "retry_count", "max_retries",
                                                        "timeout_ms"})

    id: str
    status: TaskStatus
    tool_name: str
    tool_call_id: str
    args: dict[str, Any] = Field(default_factory=dict)
    agent_id: str
    thread_id: str | None = None
    resource_id: str | None = None
    run_id: str
    result: Any = None
    error: TaskError | None = None
    created_at: UtcDatetime = Field(default_factory=utc_now)
    started_at: UtcDatetime | None = None
    suspended_at: UtcDatetime | None = None
    completed_at: UtcDatetime | None = None
    retry_count: int = Field(default=0, ge=0)
    max_retries: int = Field(default=0, ge=0)
    timeout_ms: int = Field(default=DEFAULT_TIMEOUT_MS, ge=0)
    suspend_payload: Any = None
    owner_id: str | None = None
    """The worker that holds the task (execution ownership), when one does."""
    lease_expires_at: UtcDatetime | None = None
    """Until when ``owner_id`` holds the task."""


class TaskUpdate(Record):
    """A partial update (``UpdateBackgroundTask``): the fields given change, a field given as None is cleared
    (``status`` and the counters, which a task always has, are left as they are when given as None). The
    identity of a task (id, tool, call, args, agent, thread, resource, run, createdAt) never changes."""

    status: TaskStatus | None = None
    result: Any = None
    error: TaskError | None = None
    suspend_payload: Any = None
    retry_count: int | None = Field(default=None, ge=0)
    max_retries: int | None = Field(default=None, ge=0)
    timeout_ms: int | None = Field(default=None, ge=0)
    started_at: UtcDatetime | None = None
    suspended_at: UtcDatetime | None = None
    completed_at: UtcDatetime | None = None
    owner_id: str | None = None
    lease_expires_at: UtcDatetime | None = None


class TaskUpdateOptions(Record):
    """Conditions of ``update_task``, all AND-ed. ``expected_owner_id`` / ``expected_lease_expires_at`` given as
    None mean "the task must have none"; left out, they are not checked."""

    expected_status: TaskStatus | None = None
    expected_owner_id: str | None = None
    expected_lease_expires_at: UtcDatetime | None = None


class TaskFilter(Record):
    """``listTasks`` / ``deleteTasks`` filter (``TaskFilter``): every given field must match."""

    status: TaskStatus | list[TaskStatus] | None = None
    agent_id: str | None = None
    thread_id: str | None = None
    resource_id: str | None = None
    tool_name: str | None = None
    tool_call_id: str | None = None
    run_id: str | None = None
    from_date: UtcDatetime | None = None
    """Inclusive lower bound on ``date_filter_by``."""
    to_date: UtcDatetime | None = None
    """Exclusive upper bound on ``date_filter_by``."""
    date_filter_by: TaskDateField = "createdAt"
    order_by: TaskDateField = "createdAt"
    order_direction: Literal["asc", "desc"] = "asc"
    page: int | None = Field(default=None, ge=0)
    per_page: int | None = Field(default=None, ge=0)

    @field_validator("date_filter_by", "order_by", mode="before")
    @classmethod
    def _camel_date_field(cls, value: Any) -> Any:
        """Accept ``created_at`` as well as Mastra's ``createdAt``."""
        if isinstance(value, str) and "_" in value:
            head, *rest = value.split("_")
            return head + "".join(part.title() for part in rest)
        return value

    def statuses(self) -> tuple[TaskStatus, ...] | None:
        if self.status is None:
            return None
        return (self.status,) if isinstance(self.status, str) else tuple(dict.fromkeys(self.status))


class TaskListResult(Record):
    """``listTasks`` result: the page and the number of matches before paging."""

    tasks: list[BackgroundTask]
    total: int
