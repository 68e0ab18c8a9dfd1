"""Async facade: the same implementation, run on worker threads so the event loop never blocks.

``AsyncDynamoDBStore`` wraps a :class:`~mastra_dynamo.store.DynamoDBStore`; each domain method is awaited
and executes the synchronous implementation in ``asyncio.to_thread`` (the botocore client is thread-safe).
Behaviour, errors and request counts are identical to the sync API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from mastra_dynamo.records.memory import (
    CloneThreadResult,
    Message,
    MessageList,
    MessagePage,
    Resource,
    Thread,
    ThreadPage,
)
from mastra_dynamo.store import DynamoDBStore
from mastra_dynamo.stores.memory import DynamoMemoryStore

P = ParamSpec("P")
T = TypeVar("T")


async def _run(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await asyncio.to_thread(fn, *args, **kwargs)


class AsyncDomainStore:
    """Awaitable wrapper of any domain store: each public method runs the sync implementation on a worker
    thread; attributes that are not callables (capability flags) are passed through."""

    def __init__(self, sync: Any) -> None:
        self.sync = sync

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.sync, name)
        if name.startswith("_") or not callable(target):
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(target, *args, **kwargs)

        call.__name__ = name
        call.__doc__ = getattr(target, "__doc__", None)
        return call


class AsyncMemoryStore(AsyncDomainStore):
    """Awaitable memory domain; see :class:`~mastra_dynamo.domains.MemoryStorage` for the semantics."""

    supports_observational_memory = DynamoMemoryStore.supports_observational_memory
    supports_partial_thread_update = DynamoMemoryStore.supports_partial_thread_update

    def __init__(self, sync: DynamoMemoryStore) -> None:
        self.sync = sync

    async def init(self) -> None:
        await _run(self.sync.init)

    async def get_thread_by_id(self, *, thread_id: str, resource_id: str | None = None) -> Thread | None:
        return await _run(self.sync.get_thread_by_id, thread_id=thread_id, resource_id=resource_id)

    async def save_thread(self, *, thread: Thread | Mapping[str, Any]) -> Thread:
        return await _run(self.sync.save_thread, thread=thread)

    async def update_thread(self, *, id: str, title: str | None = None,
                            metadata: Mapping[str, Any] | None = None) -> Thread:
        return await _run(self.sync.update_thread, id=id, title=title, metadata=metadata)

    async def delete_thread(self, *, thread_id: str) -> None:
        await _run(self.sync.delete_thread, thread_id=thread_id)

    async def list_threads(self, **kwargs: Any) -> ThreadPage:
        return await _run(self.sync.list_threads, **kwargs)

    async def list_messages(self, **kwargs: Any) -> MessagePage:
        return await _run(self.sync.list_messages, **kwargs)

    async def list_messages_by_resource_id(self, **kwargs: Any) -> MessagePage:
        return await _run(self.sync.list_messages_by_resource_id, **kwargs)

    async def list_messages_by_id(self, *, message_ids: Sequence[str]) -> MessageList:
        return await _run(self.sync.list_messages_by_id, message_ids=message_ids)

    async def save_messages(self, *, messages: Sequence[Message | Mapping[str, Any]]) -> MessageList:
        return await _run(self.sync.save_messages, messages=messages)

    async def update_messages(self, *, messages: Sequence[Any]) -> list[Message]:
        return await _run(self.sync.update_messages, messages=messages)

    async def delete_messages(self, message_ids: Sequence[str]) -> None:
        await _run(self.sync.delete_messages, message_ids)

    async def clone_thread(self, **kwargs: Any) -> CloneThreadResult:
        return await _run(self.sync.clone_thread, **kwargs)

    async def get_resource_by_id(self, *, resource_id: str) -> Resource | None:
        return await _run(self.sync.get_resource_by_id, resource_id=resource_id)

    async def save_resource(self, *, resource: Resource | Mapping[str, Any]) -> Resource:
        return await _run(self.sync.save_resource, resource=resource)

    async def update_resource(self, *, resource_id: str, working_memory: str | None = None,
                              metadata: Mapping[str, Any] | None = None) -> Resource:
        return await _run(self.sync.update_resource, resource_id=resource_id, working_memory=working_memory,
                          metadata=metadata)

    async def dangerously_clear_all(self) -> None:
        await _run(self.sync.dangerously_clear_all)


class AsyncDynamoDBStore:
    """Awaitable DynamoDBStore. Accepts the same arguments as DynamoDBStore, or wraps an existing one."""

    def __init__(self, store: DynamoDBStore | None = None, **kwargs: Any) -> None:
        self.sync = store if store is not None else DynamoDBStore(**kwargs)
        self.id = self.sync.id
        self.disable_init = self.sync.disable_init
        self._domains: dict[str, Any] = {}

    def get_store(self, name: str) -> Any:
        """The awaitable domain store for ``name``, or None when the domain is not served."""
        sync = self.sync.get_store(name)
        if sync is None:
            return None
        wrapped = self._domains.get(name)
        if wrapped is None:
            wrapped = AsyncMemoryStore(sync) if isinstance(sync, DynamoMemoryStore) else AsyncDomainStore(sync)
            self._domains[name] = wrapped
        return wrapped

    async def init(self) -> None:
        await _run(self.sync.init)

    async def create_table(self) -> None:
        await _run(self.sync.create_table)

    async def delete_table(self) -> None:
        await _run(self.sync.delete_table)

    async def close(self) -> None:
        await _run(self.sync.close)
