"""Thread and resource operations of the memory domain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mastra_dynamo.dynamo.client import key_attr
from mastra_dynamo.dynamo.codec import Item, check_item_size, decode_value, encode_json, encode_value, item_size
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ConflictError, NotFoundError
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.memory import Resource, Thread
from mastra_dynamo.schema import keys
from mastra_dynamo.stores.base import MAX_CONFLICT_RETRIES, DynamoDomain, contention_pause
from mastra_dynamo.stores.memory import counts
from mastra_dynamo.stores.memory import items as it
from mastra_dynamo.stores.writes import put_replacing_expired, revision_condition, upsert_params
from mastra_dynamo.validate import require_id, require_mapping


class ThreadOps(DynamoDomain):
    hints: counts.Hints

    def get_thread_item(self, thread_id: str, *, consistent: bool = True) -> Item | None:
        item = self.alive(self.table.get_item(keys.thread_key(thread_id), consistent=consistent))
        return self.hints.seen(thread_id, item)

    def get_thread_by_id(self, *, thread_id: str, resource_id: str | None = None) -> Thread | None:
        require_id(thread_id, field="thread_id")
        item = self.get_thread_item(thread_id, consistent=self.consistent_reads)
        if item is None:
            return None
        thread = it.decode_thread(item)
        if resource_id is not None and thread.resource_id != resource_id:
            return None
        return thread

    def save_thread(self, *, thread: Thread | Mapping[str, Any]) -> Thread:
        record = coerce(Thread, thread, what="thread")
        require_id(record.id, field="thread.id")
        require_id(record.resource_id, field="thread.resource_id")
        item = self.stamp(it.thread_item(record), it.ENTITY_THREAD, ttl_entity="thread")
        check_item_size(item, entity="thread", entity_id=record.id)
        for _ in range(MAX_CONFLICT_RETRIES):
            try:
                params = upsert_params(self, item, write_once=("createdAt", "gsi5sk", "gsi6sk"),
                                       removable=("title", "metadata"))
                result = self.table.call("UpdateItem", TableName=self.table.table_name, **params)
                self.hints.seen(record.id, result["Attributes"])
                return it.decode_thread(result["Attributes"])
            except ConflictError:
                try:
                    put_replacing_expired(self, item)
                    return it.decode_thread(item)
                except ConflictError:
                    continue  # revived concurrently: upsert again
        raise ConflictError(f"save_thread: too much contention on thread {record.id!r}",
                            details={"thread_id": record.id})

    def update_thread(self, *, id: str, title: str | None = None,
                      metadata: Mapping[str, Any] | None = None) -> Thread:
        require_id(id, field="id")
        if metadata is not None and not isinstance(metadata, Mapping):
            from mastra_dynamo.errors import ValidationError

            raise ValidationError("metadata must be an object", code="INVALID_INPUT")
        for attempt in range(MAX_CONFLICT_RETRIES):
            item = self.get_thread_item(id)
            if item is None:
                raise NotFoundError(f"thread {id!r} not found", details={"thread_id": id})
            current = it.decode_thread(item)
            updated_at = self.bumped(current.updated_at)
            expr = Expr()
            sets = [f"{expr.name('updatedAt')} = {expr.s(keys.ts(updated_at))}"]
            changed: Item = {}
            if title is not None:
                changed["title"] = encode_value(title, "str", field="title")
                sets.append(f"{expr.name('title')} = {expr.value(changed['title'])}")
            if metadata is not None:
                merged = {**(current.metadata or {}), **dict(metadata)}
                changed["metadata"] = encode_json(merged, field="metadata")
                sets.append(f"{expr.name('metadata')} = {expr.value(changed['metadata'])}")
            check_item_size({**item, **changed}, entity="thread", entity_id=id)  # before the request
            rev = expr.name(self.spec.revision_attribute)
            sets.append(f"{rev} = if_not_exists({rev}, {expr.n(0)}) + {expr.n(1)}")
            try:
                result = self.table.call(
                    "UpdateItem",
                    **expr.apply({
                        "TableName": self.table.table_name,
                        "Key": key_attr(keys.thread_key(id)),
                        "UpdateExpression": "SET " + ", ".join(sets),
                        "ConditionExpression": revision_condition(self, expr, item),
                        "ReturnValues": "ALL_NEW",
                    }),
                )
            except ConflictError:
                contention_pause(attempt)
                continue
            return it.decode_thread(result["Attributes"])
        raise ConflictError(f"update_thread: too much contention on thread {id!r}", details={"thread_id": id})


FAST_UPDATE_MAX_BYTES = 64 * 1024
"""Working memory up to this size is written without reading the resource first (larger values are checked
against the item size limit with the stored item in hand)."""


class ResourceOps(DynamoDomain):
    def _update_resource_in_place(self, resource_id: str, working_memory: str | None) -> Resource | None:
        """``update_resource`` without metadata, as one conditional UpdateItem: the resource exists, is not
        expired and its ``updatedAt`` lies before now (so the new value is later). None when that condition
        fails or the value is large: the caller then reads the resource and plans the write."""
        changed: Item = {} if working_memory is None else {
            "workingMemory": encode_value(working_memory, "str", field="workingMemory")}
        if item_size(changed) > FAST_UPDATE_MAX_BYTES:
            return None
        expr = Expr()
        ua = expr.name("updatedAt")
        now = expr.s(keys.ts(self.now()))
        sets = [f"{ua} = {now}", *(f"{expr.name(n)} = {expr.value(v)}" for n, v in changed.items())]
        rev = expr.name(self.spec.revision_attribute)
        sets.append(f"{rev} = if_not_exists({rev}, {expr.n(0)}) + {expr.n(1)}")
        condition = f"attribute_exists({expr.name('pk')}) AND {self.not_expired(expr)} AND {ua} < {now}"
        try:
            return self._set_resource(resource_id, expr, sets, condition)
        except ConflictError:
            return None

    def _set_resource(self, resource_id: str, expr: Expr, sets: list[str], condition: str) -> Resource:
        """One conditional UpdateItem of the resource (``SET`` clauses built with ``expr``); the new record."""
        result = self.table.call("UpdateItem", **expr.apply({
            "TableName": self.table.table_name,
            "Key": key_attr(keys.resource_key(resource_id)),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": condition,
            "ReturnValues": "ALL_NEW",
        }))
        return it.decode_resource(result["Attributes"])


    def get_resource_by_id(self, *, resource_id: str) -> Resource | None:
        require_id(resource_id, field="resource_id")
        item = self.alive(self.table.get_item(keys.resource_key(resource_id), consistent=self.consistent_reads))
        return None if item is None else it.decode_resource(item)

    def save_resource(self, *, resource: Resource | Mapping[str, Any]) -> Resource:
        record = coerce(Resource, resource, what="resource")
        require_id(record.id, field="resource.id")
        item = self.stamp(it.resource_item(record), it.ENTITY_RESOURCE, ttl_entity="resource")
        check_item_size(item, entity="resource", entity_id=record.id)
        for _ in range(MAX_CONFLICT_RETRIES):
            try:
                params = upsert_params(self, item, write_once=("createdAt", "gsi6sk"),
                                       removable=("workingMemory", "metadata"))
                result = self.table.call("UpdateItem", TableName=self.table.table_name, **params)
                return it.decode_resource(result["Attributes"])
            except ConflictError:
                try:
                    put_replacing_expired(self, item)
                    return it.decode_resource(item)
                except ConflictError:
                    continue
        raise ConflictError(f"save_resource: too much contention on resource {record.id!r}",
                            details={"resource_id": record.id})

    def update_resource(self, *, resource_id: str, working_memory: str | None = None,
                        metadata: Mapping[str, Any] | None = None) -> Resource:
        require_id(resource_id, field="resource_id")
        if metadata is not None:
            metadata = require_mapping(metadata, field="metadata")
        else:
            updated = self._update_resource_in_place(resource_id, working_memory)
            if updated is not None:
                return updated
        for attempt in range(MAX_CONFLICT_RETRIES):
            item = self.alive(self.table.get_item(keys.resource_key(resource_id)))
            if item is None:
                now = self.now()
                fields: dict[str, Any] = {"id": resource_id, "metadata": dict(metadata or {}),
                                          "created_at": now, "updated_at": now}
                if working_memory is not None:
                    fields["working_memory"] = working_memory
                record = coerce(Resource, fields, what="resource")
                new_item = self.stamp(it.resource_item(record), it.ENTITY_RESOURCE, ttl_entity="resource")
                new_item[self.spec.revision_attribute] = {"N": "1"}
                try:
                    put_replacing_expired(self, new_item)
                except ConflictError:
                    continue
                return record
            current = it.decode_resource(item)
            updated_at = self.bumped(current.updated_at)
            expr = Expr()
            sets = [f"{expr.name('updatedAt')} = {expr.s(keys.ts(updated_at))}"]
            changed: Item = {}
            if working_memory is not None:
                changed["workingMemory"] = encode_value(working_memory, "str", field="workingMemory")
                sets.append(f"{expr.name('workingMemory')} = {expr.value(changed['workingMemory'])}")
            if metadata is not None:
                old_meta = decode_value(item["metadata"], "json") if "metadata" in item else None
                merged = {**(old_meta or {}), **metadata}
                changed["metadata"] = encode_json(merged, field="metadata")
                sets.append(f"{expr.name('metadata')} = {expr.value(changed['metadata'])}")
            check_item_size({**item, **changed}, entity="resource", entity_id=resource_id)  # before the request
            rev = expr.name(self.spec.revision_attribute)
            sets.append(f"{rev} = if_not_exists({rev}, {expr.n(0)}) + {expr.n(1)}")
            condition = revision_condition(self, expr, item)
            try:
                return self._set_resource(resource_id, expr, sets, condition)
            except ConflictError:
                contention_pause(attempt)
        raise ConflictError(f"update_resource: too much contention on resource {resource_id!r}",
                            details={"resource_id": resource_id})
