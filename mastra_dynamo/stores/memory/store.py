"""DynamoMemoryStore: the memory domain (spec 3.1) on the single table.

Its items are the PynamoDB models of models/memory.py (thread, message, message pointer, resource); the
requests are built from them by PynamoDB (models/requests.py) and sent through ``self.table``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pynamodb.expressions.condition import Condition

from mastra_dynamo.dynamo.client import MAX_TRANSACT_ITEMS, TransactionCancelled
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.errors import ConflictError, NotFoundError
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.models.memory import (
    IS_THREAD,
    MEMORY_ENTITIES,
    MemoryItem,
    MessageItem,
    MessageRefItem,
    ThreadItem,
)
from mastra_dynamo.pagination import paginate
from mastra_dynamo.records.base import PerPage, coerce
from mastra_dynamo.records.memory import (
    CloneThreadOptions,
    CloneThreadResult,
    IncludeItem,
    Message,
    MessageFilter,
    MessageList,
    MessagePage,
    MessageUpdate,
    Resource,
    Thread,
    ThreadFilter,
    ThreadPage,
)
from mastra_dynamo.records.run_fencing import RunFence
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.memory import counts, templates
from mastra_dynamo.stores.memory.actions import put_action
from mastra_dynamo.stores.memory.history import HistoryOps
from mastra_dynamo.stores.memory.messages import MAX_TRANSACTION_BYTES, Change, Plan
from mastra_dynamo.stores.memory.observational import ObservationalMemoryOps
from mastra_dynamo.stores.memory.queries import query_params
from mastra_dynamo.stores.memory.threads import ResourceOps, ThreadOps
from mastra_dynamo.validate import (
    check_metadata_filter,
    matches_metadata,
    require_id,
    require_mapping,
    resolve_order,
)

DEFAULT_THREADS_PER_PAGE = 100
CLONE_NAMESPACE = uuid.UUID("6f1d2a7e-3c5b-4e8f-9a0d-2b7c4e6f8a91")
"""Namespace of the deterministic (uuid5) ids of cloned messages."""


def _alive_threads() -> Condition:
    """Filter: a thread that has not expired (slot ``now``)."""
    condition: Condition = IS_THREAD & TableItem.not_expired(templates.slot("now", TableItem.ttl))
    return condition


class DynamoMemoryStore(ThreadOps, ResourceOps, HistoryOps, ObservationalMemoryOps):
    """Threads, messages and resources, observational memory, run fences. See docs/access-patterns.md for the
    requests behind each method."""

    supports_observational_memory = True
    supports_partial_thread_update = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hints = counts.Hints()

    # ------------------------------------------------------------------ threads
    def list_threads(
        self,
        *,
        page: int = 0,
        per_page: PerPage | None = None,
        order_by: Any = None,
        filter: ThreadFilter | Mapping[str, Any] | None = None,
    ) -> ThreadPage:
        flt = coerce(ThreadFilter, filter or {}, what="filter")
        metadata = check_metadata_filter(flt.metadata, scalar_values=False)
        pagination = paginate(page, per_page, default=DEFAULT_THREADS_PER_PAGE)
        field, direction = resolve_order(order_by, allowed=("createdAt", "updatedAt"), default_field="createdAt",
                                         default_direction="DESC", strict=False)
        by_created = field == "createdAt"
        if flt.resource_id is not None:
            require_id(flt.resource_id, field="filter.resource_id")
            queries = [listing.PartitionQuery("gsi5", "gsi5pk", "gsi5sk", keys.threads_by_resource_pk(flt.resource_id))]
        else:
            queries = [listing.PartitionQuery("gsi6", "gsi6pk", "gsi6sk", keys.threads_global_pk(s))
                       for s in keys.all_shards(keys.GLOBAL_SHARDS)]

        only_threads = templates.listing_filter("alive threads", _alive_threads,
                                                now=epoch_datetime(self.ttl.now_epoch()))
        ascending = direction == "ASC"
        if by_created and not metadata:
            # the index order is the listing order: read one page of entries, then their threads
            entries, counted = listing.page_with_total(self.table, queries, ascending=ascending,
                                                       filter_builder=only_threads, offset=pagination.offset,
                                                       limit=pagination.limit)
            threads = self._threads_at(entries)
            total = counted or 0
        else:
            # updatedAt changes with every message and is in no index (a touch rewrites one item): the
            # threads of the scope are read and ordered here
            entries = listing.collect(self.table, queries, ascending=ascending, filter_builder=only_threads,
                                      offset=0, limit=None)
            threads = [t for t in self._threads_at(entries) if not metadata or matches_metadata(t.metadata, metadata)]
            if not by_created:
                threads.sort(key=lambda t: (t.updated_at, t.id), reverse=not ascending)
            total = len(threads)
            end = None if pagination.limit is None else pagination.offset + pagination.limit
            threads = threads[pagination.offset:end]
        return ThreadPage(threads=threads, total=total, page=pagination.page, per_page=pagination.per_page,
                          has_more=pagination.has_more(total))

    def _threads_at(self, entries: list[Item]) -> list[Thread]:
        records = listing.records_of(self.table, entries, consistent=self.consistent_reads, alive=self.alive)
        return [ThreadItem.record_from_raw(item) for item in records]

    def delete_thread(self, *, thread_id: str) -> None:
        """Delete the thread and every message in its item collection (idempotent; thread item last)."""
        require_id(thread_id, field="thread_id")
        # resource links (``L#``) and messages (``M#``): the thread's item collection before its item (``T``)
        params = query_params((MessageItem.pk == keys.thread_pk(thread_id))
                              & MessageItem.sk.between(keys.LINK_SK_PREFIX, keys.message_sk_bounds(None, None)[1]),
                              consistent=True, projection=(MessageItem.pk, MessageItem.sk, MessageItem.id))
        batch: list[Item] = []
        frozen = False
        for item in self.table.query_items(params):
            if not frozen:  # the cascade is not atomic: the thread's counters must not survive a partial one
                counts.freeze(self, thread_id)
                frozen = True
            batch.append(item)
            if len(batch) >= 500:
                self._delete_messages_of(thread_id, batch)
                batch = []
        self._delete_messages_of(thread_id, batch)
        self.table.batch_write(deletes=[keys.thread_key(thread_id)])

    def _delete_messages_of(self, thread_id: str, items: list[Item]) -> None:
        """Delete message items and those of their pointers that still point into this thread (a message
        moved away concurrently keeps its pointer). Pointers go first, in their own requests: a cascade that
        fails part way leaves messages without pointers, which its retry finds and deletes, never pointers
        without messages, which nothing would find again."""
        if not items:
            return
        ids = [i for i in (MessageItem.id_of(item) for item in items) if i is not None]
        refs = self.table.batch_get([keys.message_ref_key(i) for i in ids])
        pointers: list[Key] = []
        chunked: dict[str, str | None] = {}
        for message_id in ids:
            ref_key = keys.message_ref_key(message_id)
            ref = refs.get((ref_key.pk, ref_key.sk))
            where = None if ref is None else MessageRefItem.decode_present(ref, (("thread", "thread_id"),))
            if ref is not None and where is not None and where.get("thread") == thread_id:
                pointers.append(ref_key)
                if MessageRefItem.is_chunked(ref):
                    chunked[message_id] = None
        self.table.batch_write(deletes=pointers)
        self.table.batch_write(deletes=[MemoryItem.key_of(item) for item in items])
        self.sweep_parts(chunked)  # after their messages: no reader finds a message without its parts

    # ------------------------------------------------------------------ messages (facade signatures)
    def list_messages_by_id(self, *, message_ids: Sequence[str]) -> MessageList:  # type: ignore[override]
        return MessageList(messages=HistoryOps.list_messages_by_id(self, message_ids=message_ids))

    def save_messages(self, *, messages: Sequence[Message | Mapping[str, Any]],  # type: ignore[override]
                      fence: RunFence | Mapping[str, Any] | None = None) -> MessageList:
        with self.fencing(fence, "saveMessages"):
            return MessageList(messages=HistoryOps.save_messages(self, messages=messages))

    def list_messages(
        self,
        *,
        thread_id: str | Sequence[str],
        resource_id: str | None = None,
        include: Sequence[IncludeItem | Mapping[str, Any]] | None = None,
        per_page: PerPage | None = None,
        page: int = 0,
        filter: MessageFilter | Mapping[str, Any] | None = None,
        order_by: Any = None,
        include_total: bool = True,
    ) -> MessagePage:
        return HistoryOps.list_messages(self, thread_id=thread_id, resource_id=resource_id, include=include,
                                        per_page=per_page, page=page, filter=filter, order_by=order_by,
                                        include_total=include_total)

    def update_messages(self, *, messages: Sequence[MessageUpdate | Mapping[str, Any]],
                        fence: RunFence | Mapping[str, Any] | None = None) -> list[Message]:
        with self.fencing(fence, "updateMessages"):
            return HistoryOps.update_messages(self, messages=messages)

    def delete_messages(self, message_ids: Sequence[str], *,
                        fence: RunFence | Mapping[str, Any] | None = None) -> None:
        with self.fencing(fence, "deleteMessages"):
            HistoryOps.delete_messages(self, message_ids)

    # ------------------------------------------------------------------ fenced thread and resource writes
    def save_thread(self, *, thread: Thread | Mapping[str, Any],
                    fence: RunFence | Mapping[str, Any] | None = None) -> Thread:
        with self.fencing(fence, "saveThread"):
            return ThreadOps.save_thread(self, thread=thread)

    def update_thread(self, *, id: str, title: str | None = None, metadata: Mapping[str, Any] | None = None,
                      fence: RunFence | Mapping[str, Any] | None = None) -> Thread:
        with self.fencing(fence, "updateThread"):
            return ThreadOps.update_thread(self, id=id, title=title, metadata=metadata)

    def update_resource(self, *, resource_id: str, working_memory: str | None = None,
                        metadata: Mapping[str, Any] | None = None,
                        fence: RunFence | Mapping[str, Any] | None = None) -> Resource:
        with self.fencing(fence, "updateResource"):
            return ResourceOps.update_resource(self, resource_id=resource_id, working_memory=working_memory,
                                               metadata=metadata)

    # ------------------------------------------------------------------ clone
    def clone_thread(
        self,
        *,
        source_thread_id: str,
        new_thread_id: str | None = None,
        resource_id: str | None = None,
        title: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        options: CloneThreadOptions | Mapping[str, Any] | None = None,
    ) -> CloneThreadResult:
        require_id(source_thread_id, field="source_thread_id")
        target_id = new_thread_id if new_thread_id is not None else str(uuid.uuid4())
        require_id(target_id, field="new_thread_id")
        if resource_id is not None:
            require_id(resource_id, field="resource_id")
        opts = coerce(CloneThreadOptions, options or {}, what="options")
        source_item = self.get_thread_item(source_thread_id)
        source = None if source_item is None else ThreadItem.record_from_raw(source_item)
        if source is None:
            raise NotFoundError(f"source thread {source_thread_id!r} not found",
                                details={"thread_id": source_thread_id})
        if self.get_thread_item(target_id) is not None:
            raise ConflictError(f"thread {target_id!r} already exists", code="THREAD_EXISTS",
                                details={"thread_id": target_id})
        history = self.list_messages(thread_id=source_thread_id, per_page=False).messages
        mf = opts.message_filter
        if mf is not None:
            if mf.start_date is not None:
                history = [m for m in history if m.created_at >= mf.start_date]
            if mf.end_date is not None:
                history = [m for m in history if m.created_at <= mf.end_date]
            if mf.message_ids is not None:
                wanted = set(mf.message_ids)
                history = [m for m in history if m.id in wanted]
        if opts.message_limit is not None:
            history = history[-opts.message_limit:] if opts.message_limit else []
        now = self.now()
        clone_info: dict[str, Any] = {"sourceThreadId": source.id,
                                      "clonedAt": now.isoformat().replace("+00:00", "Z")}
        if history:
            clone_info["lastMessageId"] = history[-1].id
        new_resource = resource_id if resource_id is not None else source.resource_id
        extra = require_mapping(metadata, field="metadata") if metadata is not None else {}
        thread = coerce(Thread, {
            "id": target_id,
            "resource_id": new_resource,
            "title": title if title is not None else (f"Clone of {source.title}" if source.title else source.title),
            "created_at": now,
            "updated_at": now,
            "metadata": {**extra, "clone": clone_info},
        }, what="thread")
        id_map: dict[str, str] = {}
        cloned: list[Message] = []
        for message in history:
            # a new id that depends only on the target and the source message: running an interrupted clone
            # again recognises the messages it already copied
            new_id = str(uuid.uuid5(CLONE_NAMESPACE, f"{target_id}\n{message.id}"))
            id_map[message.id] = new_id
            data = message.model_dump(exclude_unset=True)
            data.update(id=new_id, thread_id=target_id, resource_id=new_resource)
            cloned.append(Message.model_validate(data))
        thread_expires = self.ttl.expires_at("thread")
        expires = self.ttl.expires_at("message")
        messages = [self._put_with_ref(m, None, expires) for m in cloned]
        actions = 1 + sum(len(change.actions) for change in messages)
        size = 1000 + sum(change.size for change in messages)
        one_transaction = actions <= MAX_TRANSACT_ITEMS and size <= MAX_TRANSACTION_BYTES
        # thread and messages in one transaction: the counters start exact
        counters = counts.initial(m.resource_id for m in cloned) if one_transaction and expires is None else {}
        # the messages' transactions write the link items of their resources (the thread is not read)
        linked = {m.resource_id for m in cloned if m.resource_id}
        if linked:
            counters["linked_resources"] = linked
        thread_item = ThreadItem.new(thread, expires_at=thread_expires, revision=1, counters=counters).serialize()
        create = put_action(self.table.table_name, thread_item, "absent_or_expired",
                            now=epoch_datetime(self.ttl.now_epoch()))
        if one_transaction:
            plan = Plan(changes=[Change([create], set(), 1000), *messages], guard_absent=False)
        else:
            # Several transactions: the messages first (those a previous, interrupted run of this call already
            # copied are skipped), the thread item last. Until then the clone does not exist for any thread
            # read, and running the call again completes it.
            copied = self.locate(m.id for m in cloned)
            pending = [m for m in cloned if m.id not in copied or copied[m.id].thread_id != target_id]
            self._execute(Plan(changes=[self._put_with_ref(m, copied.get(m.id), expires) for m in pending],
                               guard_absent=False))
            plan = Plan(changes=[Change([create], set(), 1000)], guard_absent=False)
        try:
            self._execute(plan)
        except TransactionCancelled as exc:
            if exc.details.get("applied", 0) == 0 and exc.reasons and exc.reasons[0] == "ConditionalCheckFailed":
                raise ConflictError(f"thread {target_id!r} already exists", code="THREAD_EXISTS",
                                    details={"thread_id": target_id}) from exc
            raise
        return CloneThreadResult(thread=thread, cloned_messages=cloned, message_id_map=id_map)

    def copy_thread(self, /, **kwargs: Any) -> CloneThreadResult:
        """Alias of :meth:`clone_thread` (Mastra names it both ways)."""
        return self.clone_thread(**kwargs)

    # ------------------------------------------------------------------ admin
    def dangerously_clear_all(self) -> None:
        """Delete every memory item of this table. Admin only: reads the whole table with a Scan."""
        from mastra_dynamo.admin import scan_entities  # admin: not a request path

        entities = (*MEMORY_ENTITIES, "observational_memory", "observation_chunk", "observation_text_part",
                    "observational_memory_ref", "memory_run_fence")
        self.table.batch_write(deletes=list(scan_entities(self.table, entities)))
