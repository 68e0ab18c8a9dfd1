"""Thread and resource operations of the memory domain.

The items are ``ThreadItem`` and ``ResourceItem`` (models/memory.py). A save is one UpdateItem that makes
the stored item equal to the record (creation time and creation-ordered index keys written once, optional
fields the record lacks removed, the revision ``_rev`` incremented; the counters of a thread untouched), built
by PynamoDB once per item shape (stores/memory/templates.py); an expired item under the key is replaced by a
conditional PutItem. Partial updates are conditioned on the revision that was read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pynamodb.constants import ALL_NEW, ALL_OLD
from pynamodb.expressions.operand import Path, Value
from pynamodb.expressions.update import Action

from mastra_dynamo.dynamo.client import failed_condition_item
from mastra_dynamo.dynamo.codec import Item, check_item_size, item_size
from mastra_dynamo.errors import ConflictError, NotFoundError, ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.attributes import JsonAttribute
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME, TableItem, epoch_datetime
from mastra_dynamo.models.memory import MemoryItem, ResourceItem, TextAttribute, ThreadItem
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.memory import Resource, Thread
from mastra_dynamo.schema import keys
from mastra_dynamo.stores.base import MAX_CONFLICT_RETRIES, contention_pause
from mastra_dynamo.stores.memory import templates
from mastra_dynamo.stores.memory.counts import revision_unchanged
from mastra_dynamo.stores.memory.domain import MemoryDomain
from mastra_dynamo.stores.memory.templates import MARKER_KEY, item_slot, slot
from mastra_dynamo.validate import require_id, require_mapping

_METADATA = JsonAttribute(field="metadata")
"""Encoder of the merged metadata of a partial update (errors name the argument, ``metadata``)."""
_WORKING_MEMORY = TextAttribute(field="workingMemory")
_TITLE = TextAttribute(field="title")
"""Validation of the arguments of partial updates (errors name the argument)."""


def _bumped_revision(model: type[ThreadItem] | type[ResourceItem]) -> Action:
    """``_rev = if_not_exists(_rev, 0) + 1``"""
    return model.revision.set((model.revision | 0) + 1)


def upsert_request(table: str, model: type[ThreadItem] | type[ResourceItem], serialized: Item,
                   now_epoch: int) -> dict[str, Any]:
    """UpdateItem (ALL_NEW) that makes the stored item equal to ``serialized`` (an item of ``model``): SET every
    attribute it has (``if_not_exists`` for the model's ``WRITE_ONCE``), REMOVE the model's ``REMOVABLE`` ones it
    lacks, revision + 1; conditioned on no item or a live one at ``now_epoch``."""

    def build() -> dict[str, Any]:
        actions: list[Action] = []
        for name, attr in model.get_attributes().items():
            if attr.is_hash_key or attr.is_range_key:
                continue
            path = Path(attr)
            if attr.attr_name in serialized:
                value = item_slot(attr)
                actions.append(path.set(path | value) if name in model.WRITE_ONCE else path.set(value))
            elif name in model.REMOVABLE:
                actions.append(path.remove())
        actions.append(_bumped_revision(model))
        return requests.update_key(UNBOUND_TABLE_NAME, MARKER_KEY, actions,
                                   condition=model.absent_or_alive(slot("now", TableItem.ttl)),
                                   return_values=ALL_NEW)

    template = templates.request(("upsert", model, frozenset(serialized)), build)
    return template.bind(table, key=MemoryItem.key_of(serialized), serialized=serialized,
                         values={"now": epoch_datetime(now_epoch)})


class ThreadOps(MemoryDomain):
    def get_thread_item(self, thread_id: str, *, consistent: bool = True) -> Item | None:
        return self.hints.seen(thread_id, self.get_item(keys.thread_key(thread_id), consistent=consistent))

    def get_thread_by_id(self, *, thread_id: str, resource_id: str | None = None) -> Thread | None:
        require_id(thread_id, field="thread_id")
        item = self.get_thread_item(thread_id, consistent=self.consistent_reads)
        if item is None:
            return None
        thread = ThreadItem.record_from_raw(item)
        if resource_id is not None and thread.resource_id != resource_id:
            return None
        return thread

    def save_thread(self, *, thread: Thread | Mapping[str, Any]) -> Thread:
        record = coerce(Thread, thread, what="thread")
        require_id(record.id, field="thread.id")
        require_id(record.resource_id, field="thread.resource_id")
        item = ThreadItem.new(record, expires_at=self.ttl.expires_at("thread"))
        serialized = item.serialize()
        check_item_size(serialized, entity="thread", entity_id=record.id)
        for _ in range(MAX_CONFLICT_RETRIES):
            try:
                request = upsert_request(self.table.table_name, ThreadItem, serialized, self.ttl.now_epoch())
                result = self.table.call("UpdateItem", **request)
                self.hints.seen(record.id, result["Attributes"])
                return ThreadItem.record_from_raw(result["Attributes"])
            except ConflictError:
                try:
                    self.replace_expired(item)
                    return ThreadItem.record_from_raw(serialized)
                except ConflictError:
                    continue  # revived concurrently: upsert again
        raise ConflictError(f"save_thread: too much contention on thread {record.id!r}",
                            details={"thread_id": record.id})

    def update_thread(self, *, id: str, title: str | None = None,
                      metadata: Mapping[str, Any] | None = None) -> Thread:
        require_id(id, field="id")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise ValidationError("metadata must be an object", code="INVALID_INPUT")
        for attempt in range(MAX_CONFLICT_RETRIES):
            item = self.get_thread_item(id)
            if item is None:
                raise NotFoundError(f"thread {id!r} not found", details={"thread_id": id})
            current = ThreadItem.record_from_raw(item)
            actions: list[Action] = [ThreadItem.updated_at.set(self.bumped(current.updated_at))]
            changed: Item = {}
            if title is not None:
                _TITLE.serialize(title)  # a string of valid text, or a ValidationError naming ``title``
                changed[ThreadItem.title.attr_name] = ThreadItem.title.encode(title)
                actions.append(ThreadItem.title.set(Value(changed[ThreadItem.title.attr_name])))
            if metadata is not None:
                merged = _METADATA.encode({**(current.metadata or {}), **dict(metadata)})
                changed[ThreadItem.metadata.attr_name] = merged
                actions.append(ThreadItem.metadata.set(Value(merged)))
            check_item_size({**item, **changed}, entity="thread", entity_id=id)  # before the request
            actions.append(_bumped_revision(ThreadItem))
            request = requests.update_key(self.table.table_name, keys.thread_key(id), actions,
                                          condition=revision_unchanged(ThreadItem.revision, item),
                                          return_values=ALL_NEW)
            try:
                result = self.table.call("UpdateItem", **request)
            except ConflictError:
                contention_pause(attempt)
                continue
            return ThreadItem.record_from_raw(result["Attributes"])
        raise ConflictError(f"update_thread: too much contention on thread {id!r}", details={"thread_id": id})


FAST_UPDATE_MAX_BYTES = 64 * 1024
"""Working memory up to this size is written without reading the resource first (larger values are checked
against the item size limit with the stored item in hand)."""


def _in_place_request(table: str, resource_id: str, working_memory: str | None, now: Any,
                      now_epoch: int) -> dict[str, Any]:
    """UpdateItem (ALL_NEW) of ``update_resource`` without reading: updatedAt := now (working memory :=
    ``working_memory`` when given), revision + 1; conditioned on the resource existing, alive, with an earlier
    ``updatedAt`` (a failed condition returns the stored resource: ALL_OLD)."""
    with_text = working_memory is not None

    def build() -> dict[str, Any]:
        touched = slot("resource_now", ResourceItem.updated_at)
        actions: list[Action] = [Path(ResourceItem.updated_at).set(touched)]
        if with_text:
            actions.append(Path(ResourceItem.working_memory).set(slot("working_memory", _WORKING_MEMORY)))
        actions.append(_bumped_revision(ResourceItem))
        condition = (ResourceItem.pk.exists() & ResourceItem.not_expired(slot("now", TableItem.ttl))
                     & (ResourceItem.updated_at < touched))
        return requests.update_key(UNBOUND_TABLE_NAME, MARKER_KEY, actions, condition=condition,
                                   return_values=ALL_NEW, return_values_on_condition_failure=ALL_OLD)

    template = templates.request(("resource in place", with_text), build)
    return template.bind(table, key=keys.resource_key(resource_id), values={
        "resource_now": now, "working_memory": working_memory, "now": epoch_datetime(now_epoch)})


@dataclass(frozen=True)
class _Seen:
    """The resource a failed conditional update saw (``item``: alive, else None)."""

    item: Item | None


class ResourceOps(MemoryDomain):
    def _update_resource_in_place(self, resource_id: str, working_memory: str | None) -> Resource | _Seen | None:
        """``update_resource`` without metadata, as one conditional UpdateItem: the resource exists, is not
        expired and its ``updatedAt`` lies before now (so the new value is later). When that condition fails:
        what it saw (the stored item, None when there is none); None when the value is large: the caller then
        reads the resource and plans the write."""
        if working_memory is not None:
            _WORKING_MEMORY.serialize(working_memory)  # a string of valid text, or a ValidationError
            text = ResourceItem.working_memory.encode(working_memory)
            if item_size({ResourceItem.working_memory.attr_name: text}) > FAST_UPDATE_MAX_BYTES:
                return None
        request = _in_place_request(self.table.table_name, resource_id, working_memory, self.now(),
                                    self.ttl.now_epoch())
        try:
            return ResourceItem.record_from_raw(self.table.call("UpdateItem", **request)["Attributes"])
        except ConflictError as exc:
            return _Seen(self.alive(failed_condition_item(exc)))

    def get_resource_by_id(self, *, resource_id: str) -> Resource | None:
        require_id(resource_id, field="resource_id")
        item = self.get_item(keys.resource_key(resource_id), consistent=self.consistent_reads)
        return None if item is None else ResourceItem.record_from_raw(item)

    def save_resource(self, *, resource: Resource | Mapping[str, Any]) -> Resource:
        record = coerce(Resource, resource, what="resource")
        require_id(record.id, field="resource.id")
        item = ResourceItem.new(record, expires_at=self.ttl.expires_at("resource"))
        serialized = item.serialize()
        check_item_size(serialized, entity="resource", entity_id=record.id)
        for _ in range(MAX_CONFLICT_RETRIES):
            try:
                request = upsert_request(self.table.table_name, ResourceItem, serialized, self.ttl.now_epoch())
                return ResourceItem.record_from_raw(self.table.call("UpdateItem", **request)["Attributes"])
            except ConflictError:
                try:
                    self.replace_expired(item)
                    return ResourceItem.record_from_raw(serialized)
                except ConflictError:
                    continue
        raise ConflictError(f"save_resource: too much contention on resource {record.id!r}",
                            details={"resource_id": record.id})

    def update_resource(self, *, resource_id: str, working_memory: str | None = None,
                        metadata: Mapping[str, Any] | None = None) -> Resource:
        require_id(resource_id, field="resource_id")
        if metadata is not None:
            metadata = require_mapping(metadata, field="metadata")
        seen: _Seen | None = None
        if metadata is None:
            updated = self._update_resource_in_place(resource_id, working_memory)
            if isinstance(updated, Resource):
                return updated
            seen = updated
        for attempt in range(MAX_CONFLICT_RETRIES):
            if seen is not None:  # the first pass starts from what the failed update saw
                item, seen = seen.item, None
            else:
                item = self.get_item(keys.resource_key(resource_id), consistent=True)
            if item is None:
                now = self.now()
                fields: dict[str, Any] = {"id": resource_id, "metadata": dict(metadata or {}),
                                          "created_at": now, "updated_at": now}
                if working_memory is not None:
                    fields["working_memory"] = working_memory
                record = coerce(Resource, fields, what="resource")
                try:
                    self.replace_expired(ResourceItem.new(
                        record, expires_at=self.ttl.expires_at("resource")))
                except ConflictError:
                    continue
                return record
            current = ResourceItem.record_from_raw(item)
            actions: list[Action] = [ResourceItem.updated_at.set(self.bumped(current.updated_at))]
            changed: Item = {}
            if working_memory is not None:
                _WORKING_MEMORY.serialize(working_memory)
                text = ResourceItem.working_memory.encode(working_memory)
                changed[ResourceItem.working_memory.attr_name] = text
                actions.append(ResourceItem.working_memory.set(Value(text)))
            if metadata is not None:
                merged = _METADATA.encode({**(current.metadata or {}), **metadata})
                changed[ResourceItem.metadata.attr_name] = merged
                actions.append(ResourceItem.metadata.set(Value(merged)))
            check_item_size({**item, **changed}, entity="resource", entity_id=resource_id)  # before the request
            actions.append(_bumped_revision(ResourceItem))
            request = requests.update_key(self.table.table_name, keys.resource_key(resource_id), actions,
                                          condition=revision_unchanged(ResourceItem.revision, item),
                                          return_values=ALL_NEW)
            try:
                return ResourceItem.record_from_raw(self.table.call("UpdateItem", **request)["Attributes"])
            except ConflictError:
                contention_pause(attempt)
        raise ConflictError(f"update_resource: too much contention on resource {resource_id!r}",
                            details={"resource_id": resource_id})
