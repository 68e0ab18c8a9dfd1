"""BackgroundTaskItem: the stored form of one background task (docs/access-patterns.md, background tasks).

One item ``BT#<id>`` / ``BT`` with every field of the task as its own attribute (camelCase, like Mastra's
JSON): the strings, the counters as numbers, the dates as fixed-width UTC timestamps, ``args``/``result``/
``error``/``suspendPayload`` as JSON (compressed when large). Because each field is its own attribute, a
partial update (``update_task``) is one UpdateItem of the fields it names, under one condition (status, owner,
lease): no read, and two racing claimers cannot both win.

Index entries (both INCLUDE: keys, ``_et``, ``ttl``; ~150 bytes, 1 WCU to write):

* ``gsi5`` by status: ``BTS#<status>`` / ``<agentId>#<createdAt>#<id>``. It serves the running counts (a COUNT
  of one partition, or of one agent's prefix in it) and listings by status and agent. A status change moves
  the entry (delete + put of a small entry); other updates leave it alone.
* ``gsi6`` by run: ``BTR#<runId>`` / ``<createdAt>#<id>``. Its keys never change, so updates never touch it.

Retention (entity ``background_task``): a task gets its ``ttl`` when it is completed (``completedAt`` set),
counted from that write; a task that never completes is never expired.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models.attributes import JsonAttribute, TimestampAttribute
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.records.background_tasks import BackgroundTask
from mastra_dynamo.schema import keys

ENTITY = "background_task"


class BackgroundTaskItem(TableItem, discriminator=ENTITY):
    """One background task. Build it with :meth:`new`; read it with :meth:`record_from_raw`."""

    task_id = UnicodeAttribute(attr_name="id")
    status = UnicodeAttribute(attr_name="status")
    tool_name = UnicodeAttribute(attr_name="toolName")
    tool_call_id = UnicodeAttribute(attr_name="toolCallId")
    agent_id = UnicodeAttribute(attr_name="agentId")
    run_id = UnicodeAttribute(attr_name="runId")
    thread_id = UnicodeAttribute(null=True, attr_name="threadId")
    resource_id = UnicodeAttribute(null=True, attr_name="resourceId")
    args = JsonAttribute(field="args", attr_name="args")
    result = JsonAttribute(field="result", null=True, attr_name="result")
    error = JsonAttribute(field="error", null=True, attr_name="error")
    suspend_payload = JsonAttribute(field="suspendPayload", null=True, attr_name="suspendPayload")
    retry_count = NumberAttribute(attr_name="retryCount")
    max_retries = NumberAttribute(attr_name="maxRetries")
    timeout_ms = NumberAttribute(attr_name="timeoutMs")
    created_at = TimestampAttribute(attr_name="createdAt")
    started_at = TimestampAttribute(null=True, attr_name="startedAt")
    suspended_at = TimestampAttribute(null=True, attr_name="suspendedAt")
    completed_at = TimestampAttribute(null=True, attr_name="completedAt")
    owner_id = UnicodeAttribute(null=True, attr_name="ownerId")
    lease_expires_at = TimestampAttribute(null=True, attr_name="leaseExpiresAt")

    gsi5pk = UnicodeAttribute()
    gsi5sk = UnicodeAttribute()
    gsi6pk = UnicodeAttribute()
    gsi6sk = UnicodeAttribute()

    FIELDS: ClassVar[tuple[str, ...]] = (
        "task_id", "status", "tool_name", "tool_call_id", "agent_id", "run_id", "thread_id", "resource_id", "args",
        "result", "error", "suspend_payload", "retry_count", "max_retries", "timeout_ms", "created_at",
        "started_at", "suspended_at", "completed_at", "owner_id", "lease_expires_at")
    """Model attributes that hold the task's fields (the record field of each is its name, ``id`` for
    ``task_id``)."""

    @classmethod
    def new(cls, task: BackgroundTask, *, expires_at: int | None) -> BackgroundTaskItem:
        """The item of ``task``, expiring at ``expires_at`` (epoch seconds; None: kept)."""
        key = keys.background_task_key(task.id)
        values: dict[str, Any] = {}
        for name in cls.FIELDS:
            value = getattr(task, "id" if name == "task_id" else name)
            if value is not None:
                values[name] = value.model_dump(mode="json", exclude_unset=True) if name == "error" else value
        values["gsi5pk"] = keys.tasks_by_status_pk(task.status)
        values["gsi5sk"] = keys.tasks_by_status_sk(task.agent_id, task.created_at, task.id)
        values["gsi6pk"] = keys.tasks_by_run_pk(task.run_id)
        values["gsi6sk"] = keys.time_sk(task.created_at, task.id)
        if expires_at is not None:
            values["ttl"] = epoch_datetime(expires_at)
        return cls.build(key, values)

    @classmethod
    def record_from_raw(cls, raw: Item) -> BackgroundTask:
        """The task a stored item holds (fields absent from the item are absent from the record)."""
        values = cls.decode_attributes(raw, cls.FIELDS)
        data = {("id" if name == "task_id" else name): value for name, value in values.items() if value is not None}
        for name in ("retry_count", "max_retries", "timeout_ms"):
            if name in data:
                data[name] = int(data[name])
        return BackgroundTask.model_validate(data)



IS_TASK = BackgroundTaskItem.item_type == BackgroundTaskItem
"""Filter condition: the item is a background task (``_et = background_task``)."""
