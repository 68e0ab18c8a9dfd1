"""Domain names and the store contract of each domain (typing Protocols).

Backends implement these protocols; they never inherit from each other. ``DynamoDBStore`` serves every domain
but observability; ``composite.MastraCompositeStore`` routes each domain to the store that owns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from mastra_dynamo.records.background_tasks import (
    BackgroundTask,
    TaskFilter,
    TaskListResult,
    TaskUpdate,
    TaskUpdateOptions,
)
from mastra_dynamo.records.base import PerPage
from mastra_dynamo.records.memory import (
    CloneThreadOptions,
    CloneThreadResult,
    IncludeItem,
    Message,
    MessageFilter,
    MessageList,
    MessagePage,
    MessageUpdate,
    OrderBy,
    Resource,
    Thread,
    ThreadFilter,
    ThreadPage,
)


class Domain(StrEnum):
    MEMORY = "memory"
    WORKFLOWS = "workflows"
    SCORES = "scores"
    OBSERVABILITY = "observability"
    AGENTS = "agents"
    DATASETS = "datasets"
    EXPERIMENTS = "experiments"
    BACKGROUND_TASKS = "backgroundTasks"


@runtime_checkable
class MemoryStorage(Protocol):
    """Conversation memory (spec 3.1). Every method is keyword-only and raises only StorageError subclasses."""

    supports_observational_memory: bool
    supports_partial_thread_update: bool

    def init(self) -> None: ...

    def get_thread_by_id(self, *, thread_id: str, resource_id: str | None = None) -> Thread | None: ...

    def save_thread(self, *, thread: Thread | Mapping[str, Any]) -> Thread: ...

    def update_thread(
        self, *, id: str, title: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> Thread: ...

    def delete_thread(self, *, thread_id: str) -> None: ...

    def list_threads(
        self,
        *,
        page: int = 0,
        per_page: PerPage | None = None,
        order_by: OrderBy | Mapping[str, Any] | None = None,
        filter: ThreadFilter | Mapping[str, Any] | None = None,
    ) -> ThreadPage: ...

    def list_messages(
        self,
        *,
        thread_id: str | Sequence[str],
        resource_id: str | None = None,
        include: Sequence[IncludeItem | Mapping[str, Any]] | None = None,
        per_page: PerPage | None = None,
        page: int = 0,
        filter: MessageFilter | Mapping[str, Any] | None = None,
        order_by: OrderBy | Mapping[str, Any] | None = None,
        include_total: bool = True,
    ) -> MessagePage: ...

    def list_messages_by_id(self, *, message_ids: Sequence[str]) -> MessageList: ...

    def save_messages(self, *, messages: Sequence[Message | Mapping[str, Any]]) -> MessageList: ...

    def update_messages(self, *, messages: Sequence[MessageUpdate | Mapping[str, Any]]) -> list[Message]: ...

    def delete_messages(self, message_ids: Sequence[str]) -> None: ...

    def clone_thread(
        self,
        *,
        source_thread_id: str,
        new_thread_id: str | None = None,
        resource_id: str | None = None,
        title: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        options: CloneThreadOptions | Mapping[str, Any] | None = None,
    ) -> CloneThreadResult: ...

    def get_resource_by_id(self, *, resource_id: str) -> Resource | None: ...

    def save_resource(self, *, resource: Resource | Mapping[str, Any]) -> Resource: ...

    def update_resource(
        self,
        *,
        resource_id: str,
        working_memory: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Resource: ...

    def dangerously_clear_all(self) -> None: ...


@runtime_checkable
class BackgroundTasksStorage(Protocol):
    """Background tasks (spec 3.11). Values Mastra takes positionally are positional here too."""

    def init(self) -> None: ...

    def create_task(self, task: BackgroundTask | Mapping[str, Any]) -> BackgroundTask: ...

    def update_task(self, task_id: str, update: TaskUpdate | Mapping[str, Any],
                    options: TaskUpdateOptions | Mapping[str, Any] | None = None) -> bool: ...

    def get_task(self, task_id: str) -> BackgroundTask | None: ...

    def list_tasks(self, filter: TaskFilter | Mapping[str, Any] | None = None) -> TaskListResult: ...

    def delete_task(self, task_id: str) -> None: ...

    def delete_tasks(self, filter: TaskFilter | Mapping[str, Any] | None = None) -> None: ...

    def get_running_count(self) -> int: ...

    def get_running_count_by_agent(self, agent_id: str) -> int: ...

    def dangerously_clear_all(self) -> None: ...
